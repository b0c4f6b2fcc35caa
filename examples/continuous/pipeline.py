"""The taxi model's retraining pipeline: the newest two spans, pushed as a 50 % canary.

The continuous-training loop (`loop.py`) runs it twice: by hand on span 1, whose model is
pushed as the first, stable version; then from the scheduler, when the monitor of the served
model sees drifted requests and span 2 has arrived. The second model is evaluated against the
first (the model this pipeline blessed last), infra validated in a real `shipyard serve`,
and pushed as a canary that `shipyard promote` judges on live traffic.
"""

from __future__ import annotations

from shipyard import Pipeline
from shipyard.pipelines import tabular_pipeline

SPANS = "data/span-{SPAN}/taxi.csv"


def taxi_retrain(source: str = SPANS) -> Pipeline:
    """Ingest the newest 2 spans -> statistics -> schema -> validation -> transform -> wide &
    deep -> evaluate against the last blessed model -> infra validation -> canary push."""
    return tabular_pipeline(
        "taxi",
        source,
        label="tip",
        ingest_options={
            "last_n_spans": 2,  # a rolling window: the newest two spans that exist
            "split_key": ["company", "dow", "hour", "distance"],
        },
        estimator="wide_deep",
        train_options={
            "hidden_units": (32, 16),
            "learning_rate": 0.003,
            "batch_size": 64,
            "epochs": 10,
        },
        thresholds={"accuracy": {"min": 0.9}, "auc": {"min": 0.55}},
        max_regression={"auc": 0.02},  # against the serving model: at most this much worse
        allow_degenerate=True,  # as examples/taxi: the scores rank riders, the class is "yes"
        infra_validation=True,  # answer real requests in `shipyard serve` before the push
        canary_percent=50,  # the new version takes half the unlabeled requests
        description="Chicago taxi tips, retrained continuously",
    )
