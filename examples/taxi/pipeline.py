"""Chicago taxi tips: will the rider tip? From the latest span of trips to a pushed model.

ingest (the latest span) -> statistics -> schema inferred from the train split ->
validation of the eval split against it (anomalies and train/eval skew) -> transform ->
train (wide & deep) -> evaluate (overall, by company and by time of day) -> push (a
blessed model goes to `models/taxi/VERSION/` next to this file).

These six features say little about tipping: about 93 % of the riders of span 2 tip, the
model mostly predicts "yes", and it ranks riders only a little better than chance (eval AUC
about 0.6; LightGBM does no better). So the blessing asks for accuracy >= 0.9 (about the
majority's share) and AUC >= 0.55 (better than chance).

    shipyard run examples/taxi/pipeline.py                 # the latest span (2)
    shipyard run examples/taxi/pipeline.py -p span=1       # a given span

A new `data/span-3/` directory makes the next run ingest it and push a new version;
unchanged spans are cached. To pin the schema instead of inferring it: `shipyard schema
data/span-1/taxi.csv --label tip > schema.yaml`, curate it, and use
`import_schema(path="schema.yaml")` as `drift.py` does.
"""

from __future__ import annotations

from shipyard import Pipeline, latest_blessed_model
from shipyard.components import (
    compute_statistics,
    evaluate,
    infer_schema,
    ingest,
    push,
    train,
    transform,
    validate_examples,
)

SPANS = "data/span-{SPAN}/taxi.csv"
LABEL = "tip"


def taxi(source: str = SPANS, span: int | None = None) -> Pipeline:
    """Ingest -> statistics -> inferred schema -> validation -> transform -> wide & deep
    -> evaluate -> push."""
    raw = ingest(source=source, span=span, split_key=["company", "dow", "hour", "distance"])
    statistics = compute_statistics(examples=raw.outputs.examples)
    schema = infer_schema(statistics=statistics.outputs.statistics, label=LABEL)
    validated = validate_examples(
        statistics=statistics.outputs.statistics, schema=schema.outputs.schema
    )
    prepared = transform(examples=raw.outputs.examples, schema=schema.outputs.schema).after(
        validated
    )
    trained = train(
        transformed=prepared.outputs.transformed,
        transform_graph=prepared.outputs.transform_graph,
        schema=schema.outputs.schema,
        estimator="wide_deep",
        hidden_units=(32, 16),
        learning_rate=0.003,
        batch_size=64,
        epochs=20,
    )
    checked = evaluate(
        examples=raw.outputs.examples,
        model=trained.outputs.model,
        baseline=latest_blessed_model(),  # the model this pipeline blessed last
        slices=("company", {"feature": "hour", "boundaries": [6, 12, 18]}),
        thresholds={"accuracy": {"min": 0.9}, "auc": {"min": 0.55}},
        max_regression={"auc": 0.02},  # at most this much worse than it
    )
    pushed = push(model=trained.outputs.model, blessing=checked.outputs.blessing, name="taxi")
    return Pipeline("taxi", nodes=[pushed], description="Chicago taxi tips")
