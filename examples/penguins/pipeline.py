"""Penguins: the demo pipeline (`make demo`), from a CSV to a model a server can load.

ingest (train/eval splits) -> statistics -> the curated schema pinned in `schema.yaml` ->
validation -> transform (fitted on train) -> train (a small DNN predicting `species`) ->
evaluate (overall and by island; blessed at accuracy >= 0.9) -> push (a blessed model goes
to `models/penguins/VERSION/` next to this file).

Run it from any directory (artifacts and the store go under the working directory's
`.shipyard/`):

    shipyard run examples/penguins/pipeline.py

Run it twice: the second run reuses the data, the transform and the model from the cache.
Then look at what it made: `shipyard runs show <run>`, `shipyard artifacts show <id>`, and
`models/penguins/1/` (`model.onnx` takes raw rows; `model_card.md` says how it was made).
"""

from __future__ import annotations

from shipyard import Pipeline, latest_blessed_model
from shipyard.components import (
    compute_statistics,
    evaluate,
    import_schema,
    ingest,
    push,
    train,
    transform,
    validate_examples,
)


def penguins(source: str = "data/penguins.csv", schema: str = "schema.yaml") -> Pipeline:
    """The demo pipeline: ingest -> statistics -> pinned schema -> validation -> transform
    -> train -> evaluate -> push."""
    raw = ingest(source=source, splits={"train": 8, "eval": 2})
    statistics = compute_statistics(examples=raw.outputs.examples)
    pinned = import_schema(path=schema)
    validated = validate_examples(
        statistics=statistics.outputs.statistics, schema=pinned.outputs.schema
    )
    # The schema names the label (`species`, absent from SERVING); training waits for
    # validation, so data with anomalies never reaches a model.
    prepared = transform(examples=raw.outputs.examples, schema=pinned.outputs.schema).after(
        validated
    )
    trained = train(
        transformed=prepared.outputs.transformed,
        transform_graph=prepared.outputs.transform_graph,
        schema=pinned.outputs.schema,
        estimator="dnn",
        hidden_units=(16, 8),
        learning_rate=0.01,
        batch_size=32,
        epochs=30,
    )
    checked = evaluate(
        examples=raw.outputs.examples,
        model=trained.outputs.model,
        baseline=latest_blessed_model(),  # the model this pipeline blessed last
        slices=("island",),
        thresholds={"accuracy": {"min": 0.9}},
        max_regression={"accuracy": 0.02},  # at most this much worse than it
    )
    pushed = push(model=trained.outputs.model, blessing=checked.outputs.blessing, name="penguins")
    return Pipeline("penguins", nodes=[pushed], description="Palmer penguins demo")
