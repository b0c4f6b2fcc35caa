"""Skew and drift: distances checked against hand-computed L-infinity and Jensen-Shannon."""

from __future__ import annotations

from math import log, log2

import pytest

from shipyard.artifacts import DataSchema, Histogram
from shipyard.components.drift import (
    compare_histograms,
    histogram_atoms,
    jensen_shannon_divergence,
    linf_distance,
)
from shipyard.components.validate import validate_statistics
from shipyard.errors import InvalidParameterError


def schema(features: str, defaults: str = "skew: {threshold: 0.1}\ndrift: {threshold: 0.1}\n"):
    return DataSchema.from_yaml(defaults + "features:\n" + features)


COLOR = "  color:\n    type: string\n"
SIZE = "  size:\n    type: float\n"


def test_linf_and_js_on_plain_distributions() -> None:
    assert linf_distance([0.6, 0.4], [0.3, 0.7]) == pytest.approx(0.3)
    assert jensen_shannon_divergence([0.5, 0.5], [0.5, 0.5]) == 0.0
    assert jensen_shannon_divergence([1.0, 0.0], [0.0, 1.0]) == pytest.approx(1.0)
    # JS([.75, .25], [.25, .75]): M = [.5, .5]
    expected = 0.5 * (0.75 * log2(1.5) + 0.25 * log2(0.5)) * 2
    assert jensen_shannon_divergence([0.75, 0.25], [0.25, 0.75]) == pytest.approx(expected)


def test_histograms_are_compared_on_the_reference_edges() -> None:
    first = Histogram("equal_width", [0.0, 1.0, 2.0], [3.0, 1.0])
    second = Histogram("equal_width", [0.0, 2.0, 4.0], [2.0, 2.0])
    labels, p, q = compare_histograms(first, second)
    # cut at the reference's inner edge 1, outer bins open-ended; Q below 1: half of [0, 2)
    assert labels == ["< 1", ">= 1"]
    assert p == pytest.approx([0.75, 0.25])
    assert q == pytest.approx([0.25, 0.75])
    wider = Histogram("equal_width", [-2.0, 2.0, 6.0], [2.0, 2.0])
    labels, p, q = compare_histograms(Histogram("x", [0.0, 1.0, 2.0, 4.0], [2.0, 1.0, 1.0]), wider)
    # Q: below 1: 2 * 3/4 = 1.5; below 2: 2; of 4
    assert labels == ["< 1", "[1, 2)", ">= 2"]
    assert p == pytest.approx([0.5, 0.25, 0.25])
    assert q == pytest.approx([0.375, 0.125, 0.5])


def test_point_masses_stay_points() -> None:
    constant = Histogram("equal_width", [5.0, 5.0], [10.0])
    labels, p, q = compare_histograms(constant, Histogram("equal_width", [5.0, 5.0], [4.0]))
    assert (labels, p, q) == (["= 5"], [1.0], [1.0])  # bins "< 5" and "> 5" are empty
    spread = Histogram("equal_width", [0.0, 10.0], [8.0])
    labels, p, q = compare_histograms(constant, spread)
    assert (labels, p, q) == (["< 5", "= 5", "> 5"], [0.0, 1.0, 0.0], [0.5, 0.0, 0.5])
    # M = [.25, .5, .25]: KL(P || M) = log2(2) = 1, KL(Q || M) = 2 * .5 * log2(2) = 1
    assert jensen_shannon_divergence(p, q) == pytest.approx(1.0)


def test_zeros_are_a_point_mass_of_their_exact_count() -> None:
    # 8 values, 3 of them 0: the quantiles 0 and 0.25 are 0, so bucket [0, 1) holds the zeros
    reference = Histogram("quantiles", [0.0, 0.0, 1.0, 2.0, 4.0], [0.0, 4.0, 2.0, 2.0])
    atoms = histogram_atoms(reference, 3 / 8)
    assert [(a.low, a.high, a.mass) for a in atoms] == [
        (0.0, 0.0, 3.0),
        (0.0, 1.0, 1.0),
        (1.0, 2.0, 2.0),
        (2.0, 4.0, 2.0),
    ]
    other = Histogram("quantiles", [0.0, 0.5, 1.0, 3.0, 5.0], [2.0, 2.0, 2.0, 2.0])  # 1 zero
    labels, p, q = compare_histograms(reference, other, (3 / 8, 1 / 8))
    # bins: cuts 0, 1, 2 and the point 0 ("< 0" is empty on both sides and left out);
    # Q: = 0: the zero; (0, 1): the rest of [0, 0.5) and [0.5, 1), 1 + 2;
    # [1, 2): half of [1, 3), 1; >= 2: the other half and [3, 5], 1 + 2
    assert labels == ["= 0", "(0, 1)", "[1, 2)", ">= 2"]
    assert p == pytest.approx([3 / 8, 1 / 8, 2 / 8, 2 / 8])
    assert q == pytest.approx([1 / 8, 3 / 8, 1 / 8, 3 / 8])


def test_repeated_quantiles_are_a_point_mass() -> None:
    # 8 values in 4 buckets; quantiles 0, 0.25 and 0.5 are 1: at least 2/4 of the values
    # are 1, and at most 1/4 lie in (1, 2). The following bucket holds 2 values over a
    # width of 2, so about 1 value lies in (1, 2): 6 - 1 = 5 are 1.
    ties = Histogram("quantiles", [1.0, 1.0, 1.0, 2.0, 4.0], [0.0, 0.0, 6.0, 2.0])
    atoms = histogram_atoms(ties)
    assert [(a.low, a.high, a.mass) for a in atoms] == [
        (1.0, 1.0, 5.0),
        (1.0, 2.0, 1.0),
        (2.0, 4.0, 2.0),
    ]
    # no bucket follows: the lower bound, 3/4 of 8 (and 8 - 8/4), is the point mass
    last = Histogram("quantiles", [1.0, 1.0, 1.0, 1.0, 3.0], [0.0, 0.0, 0.0, 8.0])
    assert [(a.low, a.high, a.mass) for a in histogram_atoms(last)] == [
        (1.0, 1.0, 6.0),
        (1.0, 3.0, 2.0),
    ]


def test_integer_buckets_spread_over_their_integers() -> None:
    # [1, 2) holds only 1; the run at 2 before [2, 4): at least 8/4 = 2 values are 2, at
    # most 8/4 are 3; the following bucket [4, 6] holds 2 values over 3 integers, so about
    # 2/3 are 3 and 4 - 2/3 = 10/3 are 2; [4, 6] spreads over the integers 4, 5 and 6
    histogram = Histogram("quantiles", [1.0, 2.0, 2.0, 4.0, 6.0], [2.0, 0.0, 4.0, 2.0])
    atoms = histogram_atoms(histogram, integers=True)
    assert [(a.low, a.high) for a in atoms] == [(1, 1), (2, 2), (3, 3), (4, 6)]
    assert [a.mass for a in atoms] == pytest.approx([2.0, 10 / 3, 2 / 3, 2.0])
    spread = Histogram("equal_width", [0.0, 6.0], [7.0])  # 0, 1, ..., 6: one each
    labels, p, q = compare_histograms(histogram, spread, integers=True)
    # bins: cuts 2 and 4, the points 1, 2 and 3; below 1 is 0; 4, 5 and 6 are >= 4
    assert labels == ["< 1", "= 1", "= 2", "= 3", ">= 4"]
    assert p == pytest.approx([0.0, 2 / 8, 10 / 24, 2 / 24, 2 / 8])
    assert q == pytest.approx([1 / 7, 1 / 7, 1 / 7, 1 / 7, 3 / 7])


def test_categorical_skew_is_linf_of_value_shares(stats) -> None:
    train = stats.dataset(stats.strings("color", ["red"] * 6 + ["blue"] * 4))
    eval_ = stats.dataset(stats.strings("color", ["red"] * 3 + ["blue"] * 6 + ["green"]))
    report = validate_statistics({"train": train, "eval": eval_}, schema(COLOR))
    [anomaly] = report.anomalies
    # shares: red .6 -> .3, blue .4 -> .6, green 0 -> .1: L-inf = .3
    assert (anomaly.feature, anomaly.kind, anomaly.split) == ("color", "skew", "train vs eval")
    assert anomaly.value == pytest.approx(0.3) and anomaly.threshold == 0.1
    assert anomaly.examples == ("red",)
    assert anomaly.severity == "warning"  # found by the schema's default comparator
    assert "'color' skews between 'train' and 'eval': L-infinity distance 0.300" in (
        anomaly.description
    )
    assert "'red' 60.0% -> 30.0%" in anomaly.description


def test_numeric_skew_without_a_standard_deviation_is_psi_over_the_reference_bins(
    stats,
) -> None:
    train = stats.dataset(stats.histogram("size", [0.0, 1.0, 2.0], [3.0, 1.0]))
    eval_ = stats.dataset(stats.histogram("size", [0.0, 2.0, 4.0], [2.0, 2.0]))
    report = validate_statistics({"train": train, "eval": eval_}, schema(SIZE))
    [anomaly] = report.anomalies
    # no quantile histograms: the equal-width ones, cut at train's inner edge 1
    # the fixture's statistics have no standard deviation: no Wasserstein distance, PSI
    # P = [.75, .25], Q = [.25, .75]: PSI = (.25 - .75) ln(1/3) + (.75 - .25) ln 3 = ln 3,
    # less the sampling noise of 4 values each over 2 bins: (2 - 1) (1/4 + 1/4)
    assert anomaly.value == pytest.approx(log(3) - 0.5)
    assert anomaly.examples == ("< 1",)
    assert "population stability index 0.599 exceeds 0.1" in anomaly.description
    assert "(largest change: the bin < 1 75.0% -> 25.0%)" in anomaly.description


def test_thresholds_and_comparators_per_feature(stats) -> None:
    train = stats.dataset(
        stats.strings("color", ["red"] * 6 + ["blue"] * 4),
        stats.histogram("size", [0.0, 1.0, 2.0], [3.0, 1.0]),
    )
    eval_ = stats.dataset(
        stats.strings("color", ["red"] * 3 + ["blue"] * 7),
        stats.histogram("size", [0.0, 2.0, 4.0], [2.0, 2.0]),
    )
    both = {"train": train, "eval": eval_}
    loose = schema(
        COLOR
        + "    skew: {threshold: 0.35}\n"
        + SIZE
        + "    skew: {comparator: linf, threshold: 0.5}\n"
    )
    assert validate_statistics(both, loose).anomalies == ()  # L-inf: .3 for color, .5 for size
    tight = schema(
        COLOR + "    skew: off\n" + SIZE + "    skew: {comparator: linf, threshold: 0.45}\n"
    )
    [anomaly] = validate_statistics(both, tight).anomalies
    assert anomaly.feature == "size" and anomaly.value == pytest.approx(0.5)
    assert anomaly.severity == "error"  # the feature's own comparator
    assert "L-infinity distance 0.500" in anomaly.description
    # no default in the schema: only features with their own comparator are compared
    assert validate_statistics(both, schema(COLOR + SIZE, defaults="")).anomalies == ()


def test_similar_splits_do_not_skew(stats) -> None:
    train = stats.dataset(
        stats.strings("color", ["red"] * 50 + ["blue"] * 50),
        stats.numeric("size", [float(i % 10) for i in range(100)]),
    )
    eval_ = stats.dataset(
        stats.strings("color", ["red"] * 11 + ["blue"] * 9),
        stats.numeric("size", [float(i % 10) for i in range(20)]),
    )
    assert (
        validate_statistics({"train": train, "eval": eval_}, schema(COLOR + SIZE)).anomalies == ()
    )


def test_drift_compares_each_split_with_the_baseline(stats) -> None:
    before = stats.dataset(stats.strings("color", ["red"] * 8 + ["blue"] * 2))
    after = stats.dataset(stats.strings("color", ["red"] * 5 + ["blue"] * 5))
    report = validate_statistics(
        {"train": after}, schema(COLOR), baseline={"train": before, "eval": before}
    )
    [anomaly] = report.anomalies
    assert (anomaly.kind, anomaly.split, anomaly.value) == ("drift", "train", pytest.approx(0.3))
    assert "'color' drifted from the baseline in 'train'" in anomaly.description
    assert (
        validate_statistics({"train": after}, schema(COLOR), baseline={"train": after}).anomalies
        == ()
    )
    off = schema(COLOR + "    drift: off\n")
    assert validate_statistics({"train": after}, off, baseline={"train": before}).anomalies == ()


def test_skew_needs_both_splits_and_two_names(stats) -> None:
    train = stats.dataset(stats.strings("color", ["red"] * 8 + ["blue"] * 2))
    other = stats.dataset(stats.strings("color", ["blue"] * 10))
    assert validate_statistics({"train": train}, schema(COLOR)).anomalies == ()
    assert validate_statistics(
        {"a": train, "b": other}, schema(COLOR), skew_splits=["a", "b"]
    ).anomalies
    assert (
        validate_statistics(
            {"train": train, "eval": other}, schema(COLOR), skew_splits=[]
        ).anomalies
        == ()
    )
    with pytest.raises(InvalidParameterError, match="'skew_splits' parameter of validate_examples"):
        validate_statistics({"train": train}, schema(COLOR), skew_splits=["train"])


def test_defaults_skip_timestamps_but_their_own_comparator_applies(stats) -> None:
    def day(first: float, type: str = "timestamp") -> object:
        return stats.dataset(stats.histogram("day", [first, first + 10.0], [10.0], type=type))

    default = schema("  day:\n    type: float\n")
    floats = {"train": day(100.0, "float")}
    assert validate_statistics(floats, default, baseline={"train": day(0.0, "float")}).anomalies
    moved = {"train": day(100.0)}
    as_time = schema("  day:\n    type: timestamp\n")
    assert validate_statistics(moved, as_time, baseline={"train": day(0.0)}).anomalies == ()
    own = schema("  day:\n    type: timestamp\n    drift: {threshold: 0.5}\n")
    [anomaly] = validate_statistics(moved, own, baseline={"train": day(0.0)}).anomalies
    # disjoint supports: each side's empty bin floored at 0.0001; 10 values each, 2 bins
    assert anomaly.value == pytest.approx(2 * (1 - 1e-4) * log(1e4) - (1 / 10 + 1 / 10))


def test_the_schema_can_make_default_skew_an_error(stats) -> None:
    train = stats.dataset(stats.strings("color", ["red"] * 8 + ["blue"] * 2))
    eval_ = stats.dataset(stats.strings("color", ["blue"] * 10))
    strict = DataSchema.from_yaml(
        "skew: {threshold: 0.1}\nseverity: {skew: error}\nfeatures:\n" + COLOR
    )
    [anomaly] = validate_statistics({"train": train, "eval": eval_}, strict).anomalies
    assert anomaly.severity == "error" and anomaly.value == pytest.approx(0.8)
