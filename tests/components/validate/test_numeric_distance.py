"""Numeric skew and drift measured on real statistics of deterministic samples.

Two samples of one distribution must measure far below the default threshold (0.1), and a
clear change far above it, whatever the split sizes, outliers and ties.
"""

from __future__ import annotations

import random
from dataclasses import replace

import pyarrow as pa
import pytest

from shipyard.artifacts import DataSchema, FeatureStatistics, Histogram
from shipyard.components.drift import distance, distributions
from shipyard.components.statistics import compute_dataset_statistics
from shipyard.components.validate import validate_statistics

SAME = 0.02
"""The most two samples of one distribution may measure apart (Jensen-Shannon)."""


def feature(values: list[float] | list[int], **options: int) -> FeatureStatistics:
    return compute_dataset_statistics(pa.table({"x": values}), **options).features["x"]


def js(before: list[float] | list[int], after: list[float] | list[int], **options: int) -> float:
    found = distributions(feature(before, **options), feature(after, **options))
    assert found is not None
    return distance(found, "jensen_shannon")


def exponential(seed: int, size: int = 5000, rate: float = 0.3) -> list[float]:
    rng = random.Random(seed)
    return [rng.expovariate(rate) for _ in range(size)]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_heavy_tailed_column_split_4_to_1_does_not_skew(seed: int) -> None:
    values = exponential(seed)
    assert js(values[:4000], values[4000:]) < SAME
    # with sampled quantiles too
    assert js(values[:4000], values[4000:], quantile_sample_rows=500) < SAME


def test_an_outlier_doubling_the_range_does_not_skew() -> None:
    values = [((i * 7919) % 1000 / 1000) ** 4 * 30 for i in range(4000)]
    assert js(values[0::2], [*values[1::2], 60.0]) < SAME


def test_ties_are_point_masses() -> None:
    rng = random.Random(5)
    zeros = [0.0 if rng.random() < 0.4 else rng.expovariate(1.0) for _ in range(5000)]
    assert js(zeros[:2500], zeros[2500:]) < SAME
    assert js(zeros[:4000], zeros[4000:]) < SAME
    ones = [1.0 if rng.random() < 0.4 else 1.0 + rng.expovariate(1.0) for _ in range(5000)]
    assert js(ones[:2500], ones[2500:]) < SAME
    assert js(ones[:4000], ones[4000:]) < SAME


def test_integers_with_few_values_do_not_skew() -> None:
    rng = random.Random(6)
    counts = [int(rng.expovariate(0.1)) for _ in range(5000)]  # ties at every integer
    assert js(counts[:4000], counts[4000:]) < SAME
    years = [rng.choice([2007, 2008, 2009]) for _ in range(300)]
    assert js(years[:240], years[240:]) < SAME


def test_a_clear_shift_drifts() -> None:
    rng = random.Random(7)
    trips = [rng.lognormvariate(0.0, 0.5) for _ in range(5000)]  # x 1.6: +0.94 sd of the log
    assert js(trips[:2500], [1.6 * v for v in trips[2500:]]) > 0.1
    normal = [rng.gauss(0.0, 1.0) for _ in range(5000)]
    assert js(normal[:2500], [v + 1.0 for v in normal[2500:]]) > 0.1
    assert js(normal[:2500], normal[2500:]) < SAME
    # an exponential's scale has to change more: x 1.6 measures about 0.03, x 3 about 0.15
    assert js(exponential(8), [3 * v for v in exponential(9)]) > 0.1


def test_a_constant_column_against_a_spread_one() -> None:
    spread = [float(i % 10) for i in range(100)]
    assert js([5.0] * 100, spread) == pytest.approx(1.0)  # bins < 5, = 5, > 5
    assert js(spread, [5.0] * 100) > 0.5  # all in the reference's bin [4.5, 5.4)
    assert js([5.0] * 100, [5.0] * 30) == 0.0


def test_without_quantile_histograms_the_equal_width_ones_are_compared() -> None:
    values = exponential(10)
    empty = Histogram("quantiles", [], [])

    def equal_width(part: list[float]) -> FeatureStatistics:
        stats = feature(part)
        assert stats.numeric is not None
        return replace(stats, numeric=replace(stats.numeric, quantile_histogram=empty))

    found = distributions(equal_width(values[:4000]), equal_width(values[4000:]))
    assert found is not None and distance(found, "jensen_shannon") < SAME
    assert found.labels[0].startswith("< ") and found.labels[-1].startswith(">= ")
    shifted = distributions(equal_width(values[:4000]), equal_width([3 * v for v in values]))
    assert shifted is not None and distance(shifted, "jensen_shannon") > 0.1


def test_validation_reports_the_bin_that_moved_most() -> None:
    before, after = exponential(11), exponential(12)
    statistics = {"train": compute_dataset_statistics(pa.table({"x": before}))}
    baseline = {"train": compute_dataset_statistics(pa.table({"x": [v / 3 for v in after]}))}
    schema = DataSchema.from_yaml("drift: {threshold: 0.1}\nfeatures:\n  x:\n    type: float\n")
    [anomaly] = validate_statistics(statistics, schema, baseline=baseline).anomalies
    assert anomaly.kind == "drift" and anomaly.value > 0.1
    # the reference's top decile, open-ended, gains the most
    assert anomaly.examples[0].startswith(">= ")
    assert validate_statistics(statistics, schema, baseline=statistics).anomalies == ()
