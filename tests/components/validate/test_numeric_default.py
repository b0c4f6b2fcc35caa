"""The default comparator of numbers, the Wasserstein distance in standard deviations, the
population stability index it falls back to, and the reference's bins.

The same cases as `test_numeric_distance` (two samples of one distribution stay far below
the default threshold 0.1, clear changes far above), plus the case that made them the
default: a shift of half a standard deviation, which Jensen-Shannon misses.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pyarrow as pa
import pytest

from shipyard.artifacts import DataSchema
from shipyard.components.drift import (
    default_comparator,
    distance,
    distributions,
    population_stability_index,
    reference_binning,
    wasserstein_distance,
)
from shipyard.components.statistics import compute_dataset_statistics
from shipyard.components.validate import validate_statistics
from tests.components.validate.test_numeric_distance import exponential, feature

SAME = 0.05
"""The most two samples of one distribution may measure apart (PSI)."""


def psi(before: list[float] | list[int], after: list[float] | list[int]) -> float:
    found = distributions(feature(before), feature(after))
    assert found is not None
    return distance(found, "psi")


def wasserstein(before: list[float] | list[int], after: list[float] | list[int]) -> float:
    found = distributions(feature(before), feature(after))
    assert found is not None
    return distance(found, "wasserstein")


def test_wasserstein_by_hand_over_finite_bins_only() -> None:
    spans = [(-math.inf, 0.0), (0.0, 1.0), (1.0, 1.0), (1.0, 3.0), (3.0, math.inf)]
    # F_p - F_q: 0 at 0, .5 at 1 (linear inside [0, 1)); .5 -> .5 + (.5 - .5) over [1, 3)
    p, q = [0.0, 0.5, 0.0, 0.5, 0.0], [0.0, 0.0, 0.0, 0.5, 0.5]
    assert wasserstein_distance(p, q, spans, 2.0) == pytest.approx((0.25 + 1.0) / 2)
    # the open outer bins count nothing however far beyond the values lie
    far = [0.5, 0.0, 0.0, 0.0, 0.5]
    assert wasserstein_distance(far, far[::-1], spans, 1.0) == 0.0
    # its sampling noise is taken off: sqrt(2/pi) sqrt(F (1 - F) (1/n + 1/m)) integrated;
    # sqrt(F (1 - F)) goes 0 -> .5 over [0, 1) and .5 -> 0 over [1, 3): .25 + 2 * .25
    noise = math.sqrt(2 / math.pi * 2 / 100) * 0.75 / 2.0
    assert wasserstein_distance(p, q, spans, 2.0, (100, 100)) == pytest.approx(
        (0.25 + 1.0) / 2 - noise
    )


def test_psi_by_hand_with_empty_bins_floored_and_sampling_noise_off() -> None:
    # (.25 - .75) ln(.25 / .75) + (.75 - .25) ln(.75 / .25) = ln 3
    assert population_stability_index([0.75, 0.25], [0.25, 0.75]) == pytest.approx(math.log(3))
    assert population_stability_index([0.5, 0.5], [0.5, 0.5]) == 0.0
    floored = (1 - 0.0001) * math.log(1 / 0.0001)  # each side's empty bin counts as 0.0001
    assert population_stability_index([1.0, 0.0], [0.0, 1.0]) == pytest.approx(2 * floored)
    # 3 bins reached, 100 and 50 values: (3 - 1) (1/100 + 1/50) = 0.06 is sampling noise
    p, q = [0.5, 0.3, 0.2, 0.0], [0.4, 0.3, 0.3, 0.0]
    raw = population_stability_index(p, q)
    assert population_stability_index(p, q, (100, 50)) == pytest.approx(raw - 0.06)
    assert population_stability_index([0.5, 0.5], [0.45, 0.55], (100, 100)) == 0.0


def test_same_distributions_measure_near_zero_wasserstein() -> None:
    values = exponential(0)
    assert wasserstein(values[:4000], values[4000:]) < SAME
    outlier = [((i * 7919) % 1000 / 1000) ** 4 * 30 for i in range(4000)]
    assert wasserstein(outlier[0::2], [*outlier[1::2], 6000.0]) < SAME  # one far outlier
    for seed in range(4, 10):  # 274 vs 70 rows of one sample, as penguins' splits
        small = exponential(seed, size=344)
        assert wasserstein(small[:274], small[274:]) < SAME


def test_a_count_column_shifted_by_half_an_sd_is_drift() -> None:
    rng = np.random.default_rng(5)
    before = rng.poisson(10, 50_000).astype(np.float64)
    after = rng.poisson(10, 50_000) + 0.5 * math.sqrt(10)
    assert wasserstein(list(before), list(after)) > 0.3
    assert wasserstein(list(before), list(rng.poisson(10, 50_000).astype(float))) < 0.01


def test_a_constant_reference_falls_back_to_psi() -> None:
    assert wasserstein([5.0] * 100, [float(i % 10) for i in range(100)]) > 1.0


def test_numbers_default_to_wasserstein_and_categories_to_linf() -> None:
    assert default_comparator(categorical=False) == "wasserstein"
    assert default_comparator(categorical=True) == "linf"


def test_same_distributions_stay_far_below_the_threshold() -> None:
    values = exponential(0)
    assert psi(values[:4000], values[4000:]) < SAME
    outlier = [((i * 7919) % 1000 / 1000) ** 4 * 30 for i in range(4000)]
    assert psi(outlier[0::2], [*outlier[1::2], 60.0]) < SAME
    rng = random.Random(5)
    zeros = [0.0 if rng.random() < 0.4 else rng.expovariate(1.0) for _ in range(5000)]
    assert psi(zeros[:2500], zeros[2500:]) < SAME
    counts = [int(rng.expovariate(0.1)) for _ in range(5000)]
    assert psi(counts[:4000], counts[4000:]) < SAME


def test_half_a_standard_deviation_is_drift_by_wasserstein_and_psi_not_jensen_shannon() -> None:
    rng = np.random.default_rng(1)
    before, after = rng.normal(0, 1, 50_000), rng.normal(0, 1, 50_000)
    found = distributions(feature(list(before)), feature(list(after + 0.5)))
    assert found is not None and found.sizes == (50_000, 50_000)
    assert distance(found, "jensen_shannon") < 0.1 < 0.2 < distance(found, "psi")
    assert distance(found, "wasserstein") == pytest.approx(0.5, abs=0.15)
    same = distributions(feature(list(before)), feature(list(after)))
    assert same is not None and distance(same, "psi") < 0.01


def test_a_small_eval_split_of_the_same_data_is_not_skew() -> None:
    # PSI's sampling noise over deciles, 274 vs 70 values: 9 (1/274 + 1/70) = 0.16
    values = exponential(4, size=344)
    found = distributions(feature(values[:274]), feature(values[274:]))
    assert found is not None and distance(found, "psi") < SAME


def test_validate_flags_a_half_sd_shift_with_the_schemas_default() -> None:
    rng = np.random.default_rng(2)
    current = {"x": rng.normal(0.5, 1, 20_000), "y": rng.normal(0, 1, 20_000)}
    previous = {"x": rng.normal(0, 1, 20_000), "y": rng.normal(0, 1, 20_000)}
    schema = DataSchema.from_yaml(
        "drift: {threshold: 0.1}\nfeatures:\n  x: {type: float}\n  y: {type: float}\n"
    )
    report = validate_statistics(
        {"train": compute_dataset_statistics(pa.table(current))},
        schema,
        baseline={"train": compute_dataset_statistics(pa.table(previous))},
    )
    [anomaly] = report.anomalies
    assert (anomaly.feature, anomaly.kind) == ("x", "drift") and anomaly.value > 0.2
    assert "Wasserstein distance (in standard deviations)" in anomaly.description


def test_raw_values_counted_into_the_reference_bins_give_its_shares() -> None:
    rng = np.random.default_rng(3)
    values = np.concatenate([np.zeros(4000), rng.exponential(1.0, 6000)])
    binning = reference_binning(feature(list(values)))
    assert binning is not None
    assert binning.labels[:2] == ("< 0", "= 0")  # the zeros are a bin of their own
    counts = binning.count(values)
    assert counts.sum() == len(values)
    assert counts / counts.sum() == pytest.approx(binning.shares, abs=0.01)
    integers = rng.integers(0, 5, 10_000)
    binning = reference_binning(feature([int(v) for v in integers]))
    assert binning is not None
    shares = binning.count(integers.astype(np.float64)) / len(integers)
    assert shares == pytest.approx(binning.shares, abs=0.01)
