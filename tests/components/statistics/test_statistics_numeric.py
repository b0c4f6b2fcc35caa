"""Numeric statistics against the standard library, pyarrow and hand-computed values."""

from __future__ import annotations

import math
import random
import statistics
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from shipyard.components.statistics import compute_dataset_statistics


def numeric(values: list[float | None], **options: Any) -> Any:
    table = pa.table({"x": pa.array(values, pa.float64())})
    return compute_dataset_statistics(table, **options).features["x"]


def test_moments_and_quantiles_match_the_standard_library() -> None:
    rng = random.Random(7)
    values = [rng.gauss(10, 3) for _ in range(1001)]
    feature = numeric(values)
    stats = feature.numeric
    assert feature.type == "float" and feature.count == 1001 and feature.missing == 0
    assert stats.mean == pytest.approx(statistics.fmean(values), rel=1e-12)
    assert stats.std == pytest.approx(statistics.pstdev(values), rel=1e-9)
    assert stats.min == min(values) and stats.max == max(values)
    assert stats.median == pytest.approx(statistics.median(values))
    deciles = statistics.quantiles(values, n=10, method="inclusive")
    assert stats.quantiles == pytest.approx([min(values), *deciles, max(values)])
    arrow = pc.quantile(pa.array(values), q=[0.25, 0.5], interpolation="linear").to_pylist()
    assert arrow[1] == pytest.approx(stats.median)


def test_histograms_count_every_finite_value_once() -> None:
    values = [float(v) for v in range(11)]  # 0..10: edges 0, 1, ..., 10
    stats = numeric(values).numeric
    assert stats.histogram.kind == "equal_width"
    assert stats.histogram.edges == pytest.approx([float(v) for v in range(11)])
    # [0,1), [1,2), ..., [9,10]: the last bucket holds its upper edge
    assert stats.histogram.counts == [1.0] * 9 + [2.0]
    assert stats.quantile_histogram.kind == "quantiles"
    assert stats.quantile_histogram.edges == stats.quantiles
    assert sum(stats.quantile_histogram.counts) == pytest.approx(11)


def test_histogram_buckets_and_repeated_quantile_edges() -> None:
    values = [0.0] * 8 + [1.0, 2.0, 4.0, 4.0]
    stats = numeric(values, histogram_buckets=4).numeric
    assert stats.histogram.edges == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert stats.histogram.counts == [8.0, 1.0, 1.0, 2.0]
    assert stats.zeros == 8
    edges, counts = stats.quantile_histogram.edges, stats.quantile_histogram.counts
    assert sum(counts) == 12
    # buckets [0, 0) are empty; the zeros go to the last bucket starting at 0
    for low, high, count in zip(edges, edges[1:], counts, strict=False):
        if low == high and high != edges[-1]:
            assert count == 0


def test_nan_and_infinity_are_counted_apart() -> None:
    values = [1.0, float("nan"), float("inf"), float("-inf"), 3.0, None]
    feature = numeric(values)
    stats = feature.numeric
    assert feature.count == 5 and feature.missing == 1
    assert stats.nan == 1 and stats.infinite == 2
    assert stats.mean == 2.0 and stats.min == 1.0 and stats.max == 3.0
    assert stats.std == pytest.approx(1.0)
    assert sum(stats.histogram.counts) == 2


def test_integers_keep_their_type_and_exact_figures() -> None:
    stats = compute_dataset_statistics(pa.table({"n": [3, 1, 2, None, 0]})).features["n"]
    assert stats.type == "int" and stats.count == 4 and stats.missing == 1
    assert stats.numeric is not None
    assert (stats.numeric.mean, stats.numeric.min, stats.numeric.max) == (1.5, 0.0, 3.0)
    assert stats.numeric.zeros == 1 and stats.numeric.nan == 0
    assert stats.numeric.median == 1.5


def test_all_missing_and_constant_columns() -> None:
    missing = numeric([None, None, None])
    assert missing.count == 0 and missing.missing == 3 and missing.missing_fraction == 1.0
    stats = missing.numeric
    assert stats.mean is None and stats.median is None and stats.quantiles == []
    assert stats.histogram.counts == [] and stats.quantile_histogram.edges == []
    constant = numeric([2.5, 2.5, 2.5]).numeric
    assert constant.std == 0.0 and constant.histogram.edges == [2.5, 2.5]
    assert constant.histogram.counts == [3.0]


def test_quantiles_of_large_columns_are_sampled_but_min_max_and_counts_exact() -> None:
    values = [float(v) for v in range(20_000)]
    random.Random(1).shuffle(values)
    stats = numeric(values, quantile_sample_rows=2_000).numeric
    assert stats.min == 0.0 and stats.max == 19_999.0
    assert stats.mean == pytest.approx(9_999.5)
    assert stats.median == pytest.approx(10_000, abs=800)  # a 2,000-row sample
    assert sum(stats.histogram.counts) == 20_000
    assert stats.histogram.counts == [2_000.0] * 10
    assert sum(stats.quantile_histogram.counts) == pytest.approx(20_000)
    assert stats.quantiles == sorted(stats.quantiles)


def test_timestamps_dates_and_durations_are_numbers_of_seconds_or_days() -> None:
    import datetime as dt

    table = pa.table(
        {
            "at": pa.array([dt.datetime(1970, 1, 1, 0, 0, 10), None], pa.timestamp("us")),
            "day": pa.array([dt.date(1970, 1, 3), dt.date(1970, 1, 5)]),
            "wait": pa.array([dt.timedelta(seconds=1), dt.timedelta(seconds=2)], pa.duration("ms")),
        }
    )
    stats = compute_dataset_statistics(table).features
    assert stats["wait"].type == "float" and stats["wait"].numeric.mean == 1.5  # seconds
    assert stats["at"].type == "timestamp" and stats["at"].numeric.max == 10.0
    assert stats["day"].type == "date" and stats["day"].numeric.mean == 3.0


def test_float32_and_empty_table() -> None:
    table = pa.table({"x": pa.array([1.5, 2.5], pa.float32())})
    assert compute_dataset_statistics(table).features["x"].numeric.mean == 2.0
    empty = compute_dataset_statistics(pa.table({"x": pa.array([], pa.float64())}))
    assert empty.num_rows == 0
    feature = empty.features["x"]
    assert feature.count == 0 and feature.missing == 0 and feature.missing_fraction == 0.0
    assert feature.numeric.mean is None and math.isclose(feature.missing_fraction, 0.0)


def test_integer_histograms_against_fractional_edges() -> None:
    table = pa.table({"n": list(range(11))})
    stats = compute_dataset_statistics(table, histogram_buckets=4).features["n"].numeric
    assert stats is not None
    assert stats.histogram.edges == [0.0, 2.5, 5.0, 7.5, 10.0]
    assert stats.histogram.counts == [3.0, 2.0, 3.0, 3.0]  # 0-2, 3-4, 5-7, 8-10
