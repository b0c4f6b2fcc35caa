"""Census wages: does a worker earn more than the median weekly wage? The seed demo as a
pipeline file, from a CSV to a model a server can load:

ingest (train/eval splits) -> statistics -> the curated schema pinned in `schema.yaml` ->
validation -> transform (fitted on train) -> train (a DNN with hidden units 100, 70, 50,
25; early stopping on the eval loss) -> evaluate (overall, by region and by ethnicity;
blessed at accuracy >= 0.7 and AUC >= 0.8) -> push (a blessed model goes to
`models/census/VERSION/` next to this file).

The rows are 28,155 men from the US Current Population Survey of March 1988
(`data/cps1988_wages.csv`). `make_label.py` derived `data/census.csv` from them: the label
`high_wage` (weekly wage above the median) replaces the wage itself.

    shipyard run examples/census/pipeline.py               # about 10 s on 2 idle CPU cores
    shipyard run examples/census/pipeline.py -p epochs=2   # a quicker, slightly worse model
"""

from __future__ import annotations

from shipyard import Pipeline
from shipyard.pipelines import tabular_pipeline


def census(
    source: str = "data/census.csv", schema: str = "schema.yaml", epochs: int = 20, seed: int = 0
) -> Pipeline:
    """Ingest -> statistics -> pinned schema -> validation -> transform -> DNN -> evaluate
    -> push. `epochs` is the most passes over the data; early stopping usually ends sooner.
    """
    # The schema names the label (`high_wage`, absent from SERVING); training waits for
    # validation, so data with anomalies never reaches a model.
    return tabular_pipeline(
        "census",
        source,
        schema=schema,
        ingest_options={"splits": {"train": 8, "eval": 2}},
        estimator="dnn",
        train_options={
            "hidden_units": (100, 70, 50, 25),
            "batch_size": 256,
            "epochs": epochs,
            "seed": seed,
        },
        slices=("region", "ethnicity"),
        thresholds={"accuracy": {"min": 0.7}, "auc": {"min": 0.8}},
        # Compared with the model this pipeline blessed last: at most this much worse.
        max_regression={"auc": 0.01},
        description="CPS 1988 wages above the median",
    )
