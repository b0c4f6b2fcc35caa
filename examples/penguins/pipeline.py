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

from shipyard import Pipeline
from shipyard.pipelines import tabular_pipeline


def penguins(source: str = "data/penguins.csv", schema: str = "schema.yaml") -> Pipeline:
    """The demo pipeline: ingest -> statistics -> pinned schema -> validation -> transform
    -> train -> evaluate -> push."""
    # The schema names the label (`species`, absent from SERVING); training waits for
    # validation, so data with anomalies never reaches a model.
    return tabular_pipeline(
        "penguins",
        source,
        schema=schema,
        ingest_options={"splits": {"train": 8, "eval": 2}},
        estimator="dnn",
        train_options={
            "hidden_units": (16, 8),
            "learning_rate": 0.01,
            "batch_size": 32,
            "epochs": 30,
        },
        slices=("island",),
        thresholds={"accuracy": {"min": 0.9}},
        # Compared with the model this pipeline blessed last: at most this much worse.
        max_regression={"accuracy": 0.02},
        description="Palmer penguins demo",
    )
