"""Request logs for the monitoring tests, in the server's layout and columns."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

if TYPE_CHECKING:
    from pathlib import Path

HOUR_US = 3_600_000_000
T0 = 1_767_225_600_000_000
"""2026-01-01T00:00:00Z in microseconds: the start of the first window."""


def features(rows: int, *, seed: int, shift: float = 0.0, colors: Any = None) -> dict[str, Any]:
    """`x` normal (shifted by `shift` sd), `y` normal, `color` categorical."""
    rng = np.random.default_rng(seed)
    return {
        "x": rng.normal(shift, 1.0, rows),
        "y": rng.normal(0.0, 1.0, rows),
        "color": rng.choice(["red", "green", "blue"], rows, p=colors or [0.5, 0.3, 0.2]),
    }


def write_reference(path: Path, rows: int = 20_000) -> Path:
    """Write the reference data (no shift) as Parquet."""
    pq.write_table(pa.table(features(rows, seed=1)), path)
    return path


def write_log(
    directory: Path,
    hour: int,
    rows: int = 3000,
    *,
    seed: int,
    sequence: int = 1,
    columns: dict[str, Any] | None = None,
    **options: Any,
) -> Path:
    """Write one log file whose rows fall in the `hour`-th window after `T0`."""
    rng = np.random.default_rng(seed + 1000)
    times = T0 + hour * HOUR_US + np.sort(rng.integers(0, HOUR_US, rows))
    table: dict[str, Any] = {
        "timestamp": pa.array(times, pa.timestamp("us", tz="UTC")),
        "model": pa.array(["taxi"] * rows),
        "version": pa.array(np.full(rows, 3, dtype=np.int64)),
        "request_id": pa.array([f"r{seed}-{i // 2}" for i in range(rows)]),
        **features(rows, seed=seed, **options),
        "class_ids": pa.FixedSizeListArray.from_arrays(pa.array(rng.integers(0, 2, rows)), 1),
        "probabilities": pa.FixedSizeListArray.from_arrays(
            pa.array(rng.uniform(0.5, 1.0, rows * 2)), 2
        ),
        **(columns or {}),
    }
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"20260101T{hour:02d}0000000000Z-4242-{sequence:06d}.parquet"
    pq.write_table(pa.table(table), path)
    return path
