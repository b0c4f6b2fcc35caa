"""The standard tabular pipeline in one call (the README's snippet)."""

from __future__ import annotations

from shipyard import Pipeline
from shipyard.pipelines import tabular_pipeline


def penguins(source: str = "data/penguins.csv") -> Pipeline:
    return tabular_pipeline(
        "penguins",
        source,  # relative paths resolve against this file
        schema="schema.yaml",  # a pinned schema; or label="species" to infer one
        train_options={"hidden_units": (16, 8), "learning_rate": 0.01},
        slices=("island",),
        thresholds={"accuracy": {"min": 0.9}},
    )
