"""The curated example schema against the real penguins data, through ingest and statistics."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from shipyard.artifacts.schema import read_schema_file
from shipyard.components.ingest import load_dataset
from shipyard.components.schema import schema_from_statistics
from shipyard.components.statistics import compute_dataset_statistics
from shipyard.components.validate import validate_statistics

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "penguins"


def splits() -> dict[str, pa.Table]:
    """Split the rows as the example pipeline's load_csv does (a stable hash, 20% eval)."""
    table = load_dataset(EXAMPLE / "data" / "penguins.csv")
    buckets = [
        int(hashlib.sha256(repr(row).encode()).hexdigest(), 16) % 100
        for row in zip(*(column.to_pylist() for column in table.columns), strict=True)
    ]
    is_eval = pa.array([bucket < 20 for bucket in buckets])
    return {"train": table.filter(pc.invert(is_eval)), "eval": table.filter(is_eval)}


def test_the_example_schema_passes_the_example_data() -> None:
    statistics = {name: compute_dataset_statistics(t) for name, t in splits().items()}
    schema = read_schema_file(EXAMPLE / "schema.yaml")
    assert validate_statistics(statistics, schema).anomalies == ()
    serving = {"serving": compute_dataset_statistics(splits()["eval"].drop_columns(["species"]))}
    assert validate_statistics(serving, schema, environment="SERVING").anomalies == ()


def test_a_schema_inferred_from_train_flags_eval_only_by_warnings() -> None:
    statistics = {name: compute_dataset_statistics(t) for name, t in splits().items()}
    inferred = schema_from_statistics(statistics["train"], label="species")
    report = validate_statistics(statistics, inferred)
    assert report.errors == []
    assert {a.kind for a in report.warnings} <= {"out_of_range", "skew"}
