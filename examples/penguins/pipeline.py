"""Penguins: load a CSV into train/eval splits, summarise each split, check the summary.

Run it from any directory:

    shipyard run examples/penguins/pipeline.py

Every component here is a user component, declared exactly as Shipyard's own are.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from shipyard import Out, Pipeline, component
from shipyard.artifacts import Examples, Metrics


@component
def load_csv(examples: Out[Examples], *, source: Path, eval_percent: int = 20) -> None:
    """Read a CSV and split its rows into train and eval by a stable hash of each row."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    table = pacsv.read_csv(source)
    buckets = [
        int(hashlib.sha256(repr(row).encode()).hexdigest(), 16) % 100
        for row in zip(*(column.to_pylist() for column in table.columns), strict=True)
    ]
    is_eval = pa.array([bucket < eval_percent for bucket in buckets])
    examples.write_split("train", table.filter(pc.invert(is_eval)))
    examples.write_split("eval", table.filter(is_eval))


@component
def summarize(examples: Examples, summary: Out[Metrics], *, column: str = "body_mass_g") -> None:
    """Record row counts, and the mean and missing fraction of one numeric column, per split."""
    import pyarrow.compute as pc

    values: dict[str, float] = {}
    for split in examples.splits:
        table = examples.read(split)
        data = table[column]
        values[f"{split}_rows"] = table.num_rows
        values[f"{split}_{column}_mean"] = pc.mean(data).as_py()
        values[f"{split}_{column}_missing"] = data.null_count / max(table.num_rows, 1)
    summary.save(values)


@component
def check_balance(summary: Metrics, report: Out[Metrics], *, max_mean_gap: float = 0.05) -> None:
    """Fail when the splits' means differ by more than `max_mean_gap` (relative)."""
    values = summary.load()
    means = [v for k, v in values.items() if k.endswith("_mean")]
    gap = (max(means) - min(means)) / max(means)
    if gap > max_mean_gap:
        raise ValueError(f"train and eval differ by {gap:.1%}, more than {max_mean_gap:.1%}")
    report.save({"relative_mean_gap": gap})


def penguins(source: str = "data/penguins.csv", eval_percent: int = 20) -> Pipeline:
    """The demo pipeline: load -> summarize -> check."""
    raw = load_csv(source=source, eval_percent=eval_percent)
    summary = summarize(examples=raw.outputs.examples)
    checked = check_balance(summary=summary.outputs.summary)
    return Pipeline("penguins", nodes=[checked], description="Palmer penguins demo")
