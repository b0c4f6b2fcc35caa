"""Partial statistics, computed per partition and merged, equal the local path's."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from shipyard.components.statistics import compute_dataset_statistics
from shipyard.components.statistics.partial import (
    STATISTICS_RELATIVE_TOLERANCE,
    StatisticsOptions,
    partitioned_statistics,
)
from shipyard.errors import DataError, InvalidParameterError

# Figures that are sums of floating-point numbers: the merge adds them in another order.
_SUMMED = {"mean", "std", "avg_length", "weighted_count", "weighted_num_rows"}


def _table(rows: int, seed: int = 7) -> pa.Table:
    rng = np.random.default_rng(seed)
    floats = rng.normal(10.0, 3.0, rows)
    floats[rng.random(rows) < 0.05] = np.nan
    floats[rng.random(rows) < 0.01] = np.inf
    start = dt.datetime(2024, 1, 1)
    return pa.table(
        {
            "x": pa.array(floats, mask=rng.random(rows) < 0.1),
            "n": pa.array(rng.integers(-50, 50, rows), mask=rng.random(rows) < 0.05),
            "zero": pa.array(rng.integers(0, 2, rows) * 0.5),
            "city": pa.array(rng.choice(["Oslo", "Lima", "Pune", "7", "3.5"], rows)),
            "flag": pa.array(rng.random(rows) < 0.3),
            "when": pa.array(
                [start + dt.timedelta(hours=int(h)) for h in rng.integers(0, 9999, rows)]
            ),
            "tags": pa.array([[1] * int(k) for k in rng.integers(0, 4, rows)]),
            "w": pa.array(rng.uniform(0.0, 2.0, rows)),
            "empty": pa.array([None] * rows, type=pa.float64()),
        }
    )


def _parts(table: pa.Table, sizes: list[int]) -> list[pa.Table]:
    starts = np.cumsum([0, *sizes])
    return [table.slice(int(a), int(b - a)) for a, b in itertools.pairwise(starts)]


def _assert_same(merged: Any, local: Any, path: str = "") -> None:
    """Byte-identical, but for floating-point sums: those within the tolerance."""
    if isinstance(local, dict):
        assert merged.keys() == local.keys(), path
        for key in local:
            _assert_same(merged[key], local[key], f"{path}.{key}")
    elif isinstance(local, list):
        assert len(merged) == len(local), path
        for i, (a, b) in enumerate(zip(merged, local, strict=True)):
            _assert_same(a, b, f"{path}[{i}]")
    elif isinstance(local, float) and (path.rsplit(".", 1)[-1] in _SUMMED or "weighted" in path):
        assert math.isclose(merged, local, rel_tol=STATISTICS_RELATIVE_TOLERANCE, abs_tol=1e-9), (
            path
        )
    else:
        assert merged == local, path


@pytest.mark.parametrize("sizes", [[3000], [1000, 1000, 1000], [1, 2998, 1], [700, 0, 2300]])
def test_merged_partitions_give_the_local_statistics(sizes: list[int]) -> None:
    table = _table(3000)
    local = compute_dataset_statistics(table).to_json()
    merged = partitioned_statistics(_parts(table, sizes), StatisticsOptions()).to_json()
    _assert_same(merged, local)
    # exact figures are byte-identical: counts, min/max, histograms' counts, strings, quantiles
    for name in ("x", "n", "when"):
        for key in ("min", "max", "quantiles", "zeros", "nan", "infinite", "histogram"):
            assert (
                merged["features"][name]["numeric"][key] == local["features"][name]["numeric"][key]
            )
    assert merged["features"]["city"] == local["features"]["city"]
    assert merged["features"]["flag"] == local["features"]["flag"]


def test_the_quantiles_sample_is_the_local_paths_rows_however_partitioned() -> None:
    table = _table(5000)
    options = StatisticsOptions(quantile_sample_rows=500)  # x and n are sampled
    local = compute_dataset_statistics(table, quantile_sample_rows=500).to_json()
    merged = partitioned_statistics(_parts(table, [1234, 2000, 1766]), options).to_json()
    for name in ("x", "n", "when"):
        numeric = merged["features"][name]["numeric"]
        assert numeric["quantiles"] == local["features"][name]["numeric"]["quantiles"]
        assert (
            numeric["quantile_histogram"]
            == local["features"][name]["numeric"]["quantile_histogram"]
        )
    _assert_same(merged, local)


def test_weights_slices_and_many_buckets_merge_too() -> None:
    table = _table(4000, seed=3)
    kwargs: dict[str, Any] = {
        "weight_column": "w",
        "slice_columns": ["city", "flag"],
        "histogram_buckets": 40,
        "quantile_sample_rows": 300,
    }
    local = compute_dataset_statistics(table, **kwargs).to_json()
    options = StatisticsOptions(
        weight_column="w",
        slice_columns=("city", "flag"),
        histogram_buckets=40,
        quantile_sample_rows=300,
    )
    merged = partitioned_statistics(_parts(table, [999, 1001, 2000]), options).to_json()
    assert list(merged["slices"]) == list(local["slices"])
    assert list(merged["slices"])[:2] == ["city=3.5", "city=7"]
    _assert_same(merged, local)


def test_bad_weights_are_counted_over_every_partition() -> None:
    table = pa.table({"x": [1.0, 2.0, 3.0, 4.0], "w": [1.0, -1.0, 1.0, None]})
    with pytest.raises(DataError, match="2 weights are missing, NaN, infinite or negative"):
        partitioned_statistics(_parts(table, [2, 2]), StatisticsOptions(weight_column="w"))


def test_options_are_checked_with_the_local_paths_messages() -> None:
    table = pa.table({"x": [1.0, 2.0], "s": ["a", "b"]})
    with pytest.raises(InvalidParameterError, match=r"'weight_column' parameter .* 'nope'"):
        partitioned_statistics([table], StatisticsOptions(weight_column="nope"))
    with pytest.raises(InvalidParameterError, match="must name a numeric column: 's' is String"):
        partitioned_statistics([table], StatisticsOptions(weight_column="s"))
    with pytest.raises(InvalidParameterError, match=r"'histogram_buckets' .* from 1 to 1000"):
        partitioned_statistics([table], StatisticsOptions(histogram_buckets=0))


def test_too_many_slices_over_all_partitions_is_an_error() -> None:
    table = pa.table({"k": list(range(150))})
    with pytest.raises(InvalidParameterError, match="'k', which has 150 distinct values"):
        partitioned_statistics(_parts(table, [75, 75]), StatisticsOptions(slice_columns=("k",)))
