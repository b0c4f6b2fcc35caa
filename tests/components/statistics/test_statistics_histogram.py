"""Equal-width histograms: the one-pass count agrees with comparing every value with every edge."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from shipyard.components.statistics import compute_dataset_statistics
from shipyard.components.statistics.histogram import COMPARISON_BUCKETS, at_least_counts


def reference(values: np.ndarray, edges: list[float], weights: np.ndarray | None = None) -> list:
    """What `numeric._at_least` computes: per inner edge, the count (weight) at least it."""
    ones = np.ones(len(values)) if weights is None else weights
    return [float(ones[values >= edge].sum()) for edge in edges[1:-1]]


def edges_of(values: np.ndarray, buckets: int) -> list[float]:
    low, high = float(values.min()), float(values.max())
    step = (high - low) / buckets
    return [low + i * step for i in range(buckets)] + [high]


@pytest.mark.parametrize("buckets", [2, 7, 100, 1000])
def test_counts_match_comparisons_with_every_edge(buckets: int) -> None:
    rng = np.random.default_rng(buckets)
    values = np.concatenate([rng.normal(3, 50, 150_000), rng.integers(-9, 9, 50_000) * 0.5])
    edges = edges_of(values, buckets)
    values = np.concatenate([values, np.array(edges)])  # a value on every edge
    weights = rng.random(len(values))
    assert at_least_counts(values, edges) == reference(values, edges)
    assert at_least_counts(values, edges, weights) == pytest.approx(
        reference(values, edges, weights), rel=1e-12
    )


def test_values_on_edges_go_to_the_bucket_that_starts_there() -> None:
    # 0.1 * 3 is 0.30000000000000004: arithmetic alone puts 0.3 in the wrong bucket
    values = np.array([0.0, 0.1, 0.2, 0.30000000000000004, 0.3, 0.7, 1.0])
    edges = edges_of(values, 10)
    counts = at_least_counts(values, edges)
    assert counts == reference(values, edges)
    assert counts[2] - counts[3] == 1  # 0.3 is below the edge 0.30000000000000004


def test_repeated_edges_put_values_in_the_last_bucket_starting_there() -> None:
    values = np.array([1e16, 1e16, 1e16 + 2, 1e16 + 2, 1e16 + 2])
    edges = edges_of(values, 50)  # steps of 0.04 round to repeated edges at 1e16
    assert len(set(edges)) < len(edges)
    assert at_least_counts(values, edges) == reference(values, edges)


def test_statistics_with_many_buckets_match_a_count_by_hand() -> None:
    rng = np.random.default_rng(3)
    ints = rng.integers(-50, 51, 20_000)
    floats = np.round(rng.normal(0, 10, 20_000), 1)
    table = pa.table({"i": pa.array(ints), "f": pa.array(floats, mask=rng.random(20_000) < 0.05)})
    buckets = COMPARISON_BUCKETS * 4 + 3
    stats = compute_dataset_statistics(table, histogram_buckets=buckets)
    for name in ("i", "f"):
        column = table.column(name).drop_null().to_numpy().astype(np.float64)
        histogram = stats.features[name].numeric.histogram
        assert len(histogram.counts) == buckets
        bucket = np.searchsorted(np.array(histogram.edges), column, side="right") - 1
        expected = np.bincount(np.clip(bucket, 0, buckets - 1), minlength=buckets)
        assert histogram.counts == expected.astype(float).tolist(), name


def test_weighted_histogram_with_many_buckets_sums_the_weights() -> None:
    rng = np.random.default_rng(4)
    values, weights = rng.normal(0, 1, 10_000), rng.random(10_000)
    table = pa.table({"x": values, "w": weights})
    stats = compute_dataset_statistics(table, weight_column="w", histogram_buckets=200)
    histogram = stats.features["x"].weighted_numeric.histogram
    bucket = np.clip(np.searchsorted(np.array(histogram.edges), values, "right") - 1, 0, 199)
    expected = np.bincount(bucket, weights=weights, minlength=200)
    assert histogram.counts == pytest.approx(expected.tolist(), rel=1e-9, abs=1e-9)
    assert sum(histogram.counts) == pytest.approx(weights.sum(), rel=1e-12)
