"""The `compute_statistics` component over an `Examples` artifact, and in a pipeline."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from shipyard import Out, Pipeline, component
from shipyard.artifacts import Examples, Statistics
from shipyard.components import compute_statistics
from shipyard.errors import InvalidParameterError


def examples_at(path: Path) -> Examples:
    examples = Examples(path)
    examples.write_split("train", pa.table({"x": [1.0, 2.0, 3.0], "g": ["a", "b", "a"]}))
    examples.write_split("eval", pa.table({"x": [4.0, None], "g": ["a", "a"]}))
    return examples


def test_every_split_is_summarized(tmp_path: Path) -> None:
    statistics = Statistics(tmp_path / "stats")
    compute_statistics.fn(examples_at(tmp_path / "examples"), statistics, slice_columns=["g"])
    assert statistics.splits == ["eval", "train"]
    assert statistics.properties["rows"] == {"train": 3, "eval": 2}
    loaded = Statistics(tmp_path / "stats").load()
    assert loaded["train"].features["x"].numeric.mean == 2.0
    assert loaded["eval"].features["x"].missing == 1
    assert set(loaded["train"].slices) == {"g=a", "g=b"}
    assert "<svg" in statistics._repr_html_()
    report = (tmp_path / "stats" / "report.html").read_text()  # listed at the end of a run
    assert "Statistics of the splits eval, train" in report and "<svg" in report


def test_a_missing_weight_column_is_reported(tmp_path: Path) -> None:
    statistics = Statistics(tmp_path / "stats")
    with pytest.raises(InvalidParameterError, match="'w'"):
        compute_statistics.fn(examples_at(tmp_path / "examples"), statistics, weight_column="w")


def test_component_signature() -> None:
    assert set(compute_statistics.inputs) == {"examples"}
    assert set(compute_statistics.outputs) == {"statistics"}
    assert compute_statistics.outputs["statistics"].type is Statistics
    assert compute_statistics.parameters["slice_columns"].default == []


@component
def small_examples(examples: Out[Examples]) -> None:
    """Write a two-split dataset."""
    examples.write_split("train", pa.table({"x": [1.0, 2.0], "w": [1.0, 3.0]}))
    examples.write_split("eval", pa.table({"x": [5.0, None], "w": [1.0, 1.0]}))


def test_in_a_pipeline_run(tmp_path: Path) -> None:
    import shipyard

    raw = small_examples()
    stats = compute_statistics(examples=raw.outputs.examples, weight_column="w")
    run = shipyard.run(
        Pipeline("stats", nodes=[raw, stats]),
        store=f"sqlite:///{tmp_path / 'store.db'}",
        artifact_root=str(tmp_path / "artifacts"),
        progress=False,
    )
    assert run.ok
    loaded = run[stats.outputs.statistics].load()
    assert loaded["train"].features["x"].weighted_numeric.mean == 1.75
    assert loaded["eval"].weighted_num_rows == 2.0
