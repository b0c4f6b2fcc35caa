"""A retraining pipeline: the newest 3 spans, infra validated, pushed as a 10% canary."""

from __future__ import annotations

from shipyard import Pipeline
from shipyard.pipelines import tabular_pipeline


def penguins_retrain(source: str = "data/span-{SPAN}/v{VERSION}/*.csv") -> Pipeline:
    return tabular_pipeline(
        "penguins",
        source,  # relative paths resolve against this file
        label="species",
        ingest_options={"last_n_spans": 3},  # a rolling window of the newest spans
        infra_validation=True,  # serve the model in `shipyard serve` before pushing it
        canary_percent=10,  # 10% of the unlabeled requests, in models/models.yaml
    )
