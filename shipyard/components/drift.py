"""Skew and drift: how far apart two distributions of a feature are.

Skew compares two splits of one dataset (train and eval); drift compares a split with the
same split of a baseline (the previous span), and `shipyard monitor` each window of served
requests with a reference. All use the feature's comparator in the schema (`linf`,
`jensen_shannon`, `psi` or `wasserstein`), defaulting by type (`default_comparator`): the
L-infinity distance for categories, the Wasserstein distance in standard deviations for
numbers; and report an anomaly when the distance exceeds its threshold (0.1 by default for
both). The schema's default
comparators skip timestamps and dates, which move on from span to span by nature. The
first dataset is the reference: the train split for skew, the baseline for drift.

**Categorical features** (string, bool): a split's distribution is each value's share of
the non-missing values, from `top_values` (which holds every value when there are at most
1,000; beyond that the values not listed count as absent).

**Numeric features** (int, float, timestamp, date) are compared on the reference's deciles,
as the population stability index is. Both sides use their quantile histograms (the
equal-width histograms when either lacks one). Each histogram becomes a distribution of
atoms (`histogram_atoms`): a bucket's values spread evenly over it (over its integers, for
int and date columns), except ties, which are point masses: repeated quantiles bound how
many values equal a number, and the statistics count the zeros exactly. The bins are cut
at the reference's distinct inner edges (its deciles), the outer bins open-ended: `< q10`,
`[q10, q20)`, ..., `>= q90`; each point mass of the reference is a bin of its own (`= v`),
so a constant reference still tells a spread-out column apart. Each side's share of a bin
is read from its cumulative distribution function (or, for raw values, counted exactly by
`Binning`). Missing, NaN and infinite values are not part of either distribution (presence
is checked separately).

Why not the union of both histograms' edges: equal-width edges follow each split's min and
max, so they rarely line up, and spreading a wide bucket's count over the common bins made
equal distributions look apart. On the Chicago taxi trips, train and eval of one span
measured JS 0.111 apart in `distance` (a false alarm at the default threshold 0.1; 0.002
on the reference's deciles), an outlier doubling the range 0.069 (now 0.001), and an
exponential column split 4:1 up to 0.019 (now 0.003); the real drift of span 2 (distances
x1.6) still measures 0.121 (0.313 before). Ties need the point masses: 40% zeros on both
sides measured 0.25 when spread over the first bucket (0.000 as a point mass). The price
of open-ended outer bins is that where values lie beyond the reference's extreme deciles
is not seen, only how many lie there.

Why the Wasserstein distance for numbers, not Jensen-Shannon: on the same bins, JS is too
flat for small shifts. A normal column shifted by half its standard deviation measures JS
0.057-0.077 (missed at 0.1), the Wasserstein distance 0.38 sd. The population stability
index (PSI 0.34 there) was the first choice, but it measures how shares move between bins,
not how far values move: a count column (Poisson, mean 10) shifted by half its standard
deviation moves its values by 1.6 bins of width 1 and measured PSI 0.099, missed, and 0.28
by the Wasserstein distance. Two samples of one distribution measure at most 0.015 sd
(50,000 rows, 4,000 vs 1,000, and 274 vs 70 once the sampling noise is taken off); a
log-normal column scaled by 1.6 measures 0.6. Over the inner bins only, one outlier
changes nothing (a Wasserstein distance over the histograms' outer buckets, spread up to
the extreme values, moved with it). 0.1 sd is Evidently's default threshold for its
normalised Wasserstein distance too. Without a spread to measure in (a constant reference,
statistics without a standard deviation) the PSI measures instead (`applicable`).

**L-infinity distance**: `max_i |p_i - q_i|`, in [0, 1].
**Jensen-Shannon divergence**: `JS(P, Q) = KL(P || M) / 2 + KL(Q || M) / 2` with
`M = (P + Q) / 2` and base-2 logarithms, in [0, 1] (0 for equal distributions).
**Wasserstein distance**: `W1 = integral |F_p(x) - F_q(x)| dx` over the bins of finite
width (`wasserstein_distance`), divided by the reference's standard deviation, less its
sampling noise: `|F_n(x) - F_m(x)|` averages `sqrt(2 / pi) sqrt(F (1 - F) (1/n + 1/m))`.
**Population stability index**: `PSI = sum_i (q_i - p_i) ln(q_i / p_i)`, each share
floored at 0.0001 (`PSI_FLOOR`) so that a bin one side leaves empty counts, but finitely,
less its sampling noise: two samples of one distribution, of n and m values, measure
`(k - 1) (1 / n + 1 / m)` on average over k bins, since each `(q_i - p_i)^2 / p_i` averages
`(1 - p_i) (1 / n + 1 / m)`. Without the correction, a train split of 274 penguins and an
eval split of 70 measure about 0.16 over deciles when nothing changed (a false alarm at
0.1); 500,000 reference rows against a window of 50,000 only 0.0002, so large data loses
nothing to it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from shipyard.artifacts import Anomaly

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np

    from shipyard.artifacts import DataSchema, FeatureSchema, FeatureStatistics, Histogram
    from shipyard.artifacts.schema import ComparatorName

Check = Literal["skew", "drift"]
PSI_FLOOR = 0.0001
"""The smallest share the population stability index uses for a bin (an empty bin's)."""


@dataclass(frozen=True)
class Distributions:
    """Two distributions over the same labelled bins, each summing to 1.

    Numeric features also carry each bin's `(low, high)` span, the reference's standard
    deviation (`scale`) and how many values each side was counted from (`sizes`), for the
    Wasserstein distance and the sampling noise taken off it.
    """

    labels: list[str]
    p: list[float]
    q: list[float]
    categorical: bool
    sizes: tuple[float, float] | None = None
    spans: list[tuple[float, float]] | None = None
    scale: float | None = None


@dataclass(frozen=True)
class Atom:
    """Part of a distribution: `mass` spread evenly over `[low, high]`, a point if equal.

    With `integers`, the mass is spread over the integers from `low` to `high` instead.
    """

    low: float
    high: float
    mass: float
    integers: bool = False

    @property
    def point(self) -> bool:
        """Whether the atom is a point mass."""
        return self.low == self.high


@dataclass(frozen=True)
class _Bin:
    """`[low, high)`; `(low, high)` when `low` is a point mass; the point `low` if equal."""

    low: float
    high: float
    open_low: bool = False

    @property
    def label(self) -> str:
        if self.low == self.high:
            return f"= {self.low:g}"
        if self.low == -math.inf:
            return f"< {self.high:g}"
        if self.high == math.inf:
            return f"{'>' if self.open_low else '>='} {self.low:g}"
        return f"{'(' if self.open_low else '['}{self.low:g}, {self.high:g})"


def linf_distance(p: Sequence[float], q: Sequence[float]) -> float:
    """Return the L-infinity distance of two distributions over the same bins.

    Example:
        >>> linf_distance([0.5, 0.5], [0.2, 0.8])
        0.3
    """
    return max((abs(a - b) for a, b in zip(p, q, strict=True)), default=0.0)


def jensen_shannon_divergence(p: Sequence[float], q: Sequence[float]) -> float:
    """Return the Jensen-Shannon divergence (base 2, in [0, 1]) of two distributions.

    Example:
        >>> jensen_shannon_divergence([1.0, 0.0], [0.0, 1.0])
        1.0
    """
    total = 0.0
    for a, b in zip(p, q, strict=True):
        middle = (a + b) / 2
        if a > 0:
            total += a * math.log2(a / middle) / 2
        if b > 0:
            total += b * math.log2(b / middle) / 2
    return min(max(total, 0.0), 1.0)


def population_stability_index(
    p: Sequence[float], q: Sequence[float], sizes: tuple[float, float] | None = None
) -> float:
    """Return the population stability index of `q` against `p`, shares floored at 0.0001.

    With `sizes` (how many values each side was counted from), less its sampling noise:
    two samples of one distribution measure `(k - 1) (1 / n + 1 / m)` on average over `k`
    bins (0 when that is more than the index).

    Example:
        >>> round(population_stability_index([0.5, 0.5], [0.25, 0.75]), 4)
        0.2747
        >>> round(population_stability_index([0.5, 0.5], [0.25, 0.75], (100, 100)), 4)
        0.2547
    """
    total = 0.0
    for before, after in zip(p, q, strict=True):
        a, b = max(before, PSI_FLOOR), max(after, PSI_FLOOR)
        total += (b - a) * math.log(b / a)
    if sizes is None or min(sizes) <= 0:
        return total
    bins = sum(1 for before, after in zip(p, q, strict=True) if before > 0 or after > 0)
    return max(total - (bins - 1) * (1 / sizes[0] + 1 / sizes[1]), 0.0)


def wasserstein_distance(
    p: Sequence[float],
    q: Sequence[float],
    spans: Sequence[tuple[float, float]],
    scale: float,
    sizes: tuple[float, float] | None = None,
) -> float:
    """Return the Wasserstein distance of two distributions over bins, in units of `scale`.

    `W1 = integral |F_p(x) - F_q(x)| dx`, each bin's values spread evenly over its
    `(low, high)` span, over the bins of finite width only: the open outer bins and point
    masses add nothing, so how far values lie beyond the reference's extreme deciles is not
    counted, only how many lie there (which moves the distribution functions inside). With
    `sizes`, less its sampling noise: `|F_n(x) - F_m(x)|` averages
    `sqrt(2 / pi) sqrt(F (1 - F) (1 / n + 1 / m))` for two samples of one distribution.

    Example:
        >>> wasserstein_distance([0.5, 0.5, 0.0], [0.0, 0.5, 0.5], [(0, 1), (1, 2), (2, 3)], 1.0)
        1.0
    """
    total = noise = 0.0
    before_p = before_q = 0.0
    for share_p, share_q, (low, high) in zip(p, q, spans, strict=True):
        after_p, after_q = before_p + share_p, before_q + share_q
        width = high - low
        if 0 < width < math.inf:
            total += width * (abs(before_p - before_q) + abs(after_p - after_q)) / 2
            noise += width * (_spread(before_p) + _spread(after_p)) / 2
        before_p, before_q = after_p, after_q
    if sizes is not None and min(sizes) > 0:
        total = max(total - noise * math.sqrt(2 / math.pi * (1 / sizes[0] + 1 / sizes[1])), 0.0)
    return total / scale


def _spread(share: float) -> float:
    share = min(max(share, 0.0), 1.0)
    return math.sqrt(share * (1 - share))


def default_comparator(*, categorical: bool) -> ComparatorName:
    """Return the comparator a feature gets when its schema names none.

    The one place this choice is made: validation's skew and drift and `shipyard monitor`.
    """
    return "linf" if categorical else "wasserstein"


def histogram_atoms(
    histogram: Histogram, zero_share: float = 0.0, *, integers: bool = False
) -> list[Atom]:
    """Return a histogram's counts as atoms: point masses for ties, even spreads otherwise.

    A bucket of zero width that holds values is a point mass. A run of `r` zero-width
    buckets at `v` before a bucket `[v, next)` (a value on an edge goes to the last bucket
    starting at it) means that `r + 1` quantiles equal `v`: at least `r / n` of the values
    equal `v` (`n` buckets), and at most `1 / n` lie in `(v, next)`, below the next
    quantile. Within these bounds, the values in `(v, next)` are estimated from the density
    of the following bucket (at their bound when none follows); the rest of the bucket is a
    point mass at `v`. For 0 the count is exact: `zero_share` of the total is a point mass
    at 0, taken from the bucket holding 0 whether or not 0 is an edge. Integer columns
    spread each bucket's count over the integers in it, so a bucket holding one integer is
    a point mass.

    Args:
        histogram: A histogram with finite, sorted edges.
        zero_share: The share of the values that are exactly 0.
        integers: Whether the values are integers (int and date columns).

    Example:
        >>> atoms = histogram_atoms(Histogram("quantiles", [0.0, 0.0, 2.0], [0.0, 4.0]), 0.75)
        >>> [(atom.low, atom.high, atom.mass) for atom in atoms]
        [(0.0, 0.0, 3.0), (0.0, 2.0, 1.0)]
    """
    edges, counts = histogram.edges, histogram.counts
    atoms: list[Atom] = []
    run, run_mass = 0, 0.0  # the zero-width buckets just before, all at the next low edge
    for index, count in enumerate(counts):
        low, high = edges[index], edges[index + 1]
        last = index == len(counts) - 1
        first, final = (math.ceil(low), _last_integer(high, last)) if integers else (low, high)
        if high <= low or first == final:
            if count > 0:
                atoms.append(Atom(first, first, count) if high > low else Atom(low, low, count))
            run, run_mass = (run + 1, run_mass + max(count, 0.0)) if high <= low else (0, 0.0)
            continue
        points: list[tuple[float, float]] = []
        if run and low != 0:
            points.append((low, _tie(histogram, index, run, run_mass, integers)))
        if zero_share > 0 and low <= 0 and (0 < high or (last and high == 0)):
            points.append((0.0, zero_share * sum(counts) - (run_mass if low == 0 else 0.0)))
        left = count
        for value, mass in points:
            moved = min(max(mass, 0.0), left)
            if moved > 0:
                atoms.append(Atom(value, value, moved))
                left -= moved
        if integers and any(value == first for value, _ in points):
            first += 1  # the rest lies above the point mass
        if left > 0:
            if first <= final:
                atoms.append(Atom(first, final, left, integers))
            else:  # no integer inside: the histogram disagrees, take it as it is
                atoms.append(Atom(low, high, left))
        run, run_mass = 0, 0.0
    return atoms


def compare_histograms(
    reference: Histogram,
    other: Histogram,
    zero_shares: tuple[float, float] = (0.0, 0.0),
    *,
    integers: bool = False,
) -> tuple[list[str], list[float], list[float]]:
    """Return the bins of the reference's edges and both histograms' shares of them.

    The bins are cut at the reference's distinct inner edges (at its edges when it has one
    bucket), the outer bins open-ended, with a bin of its own for each point mass of the
    reference. Bins that neither side reaches are left out.

    Args:
        reference: The reference's histogram (train, or the baseline).
        other: The histogram compared with it.
        zero_shares: The share of zeros among the values of each.
        integers: Whether the values are integers.

    Example:
        >>> compare_histograms(
        ...     Histogram("equal_width", [0.0, 1.0, 2.0], [3.0, 1.0]),
        ...     Histogram("equal_width", [0.0, 2.0, 4.0], [2.0, 2.0]),
        ... )
        (['< 1', '>= 1'], [0.75, 0.25], [0.25, 0.75])
    """
    bins, p, q = _compared_bins(reference, other, zero_shares, integers=integers)
    kept = [i for i in range(len(bins)) if p[i] > 0 or q[i] > 0]
    return [bins[i].label for i in kept], [p[i] for i in kept], [q[i] for i in kept]


def _compared_bins(
    reference: Histogram, other: Histogram, zero_shares: tuple[float, float], *, integers: bool
) -> tuple[list[_Bin], list[float], list[float]]:
    """Every bin of the reference's edges, and both histograms' shares of each."""
    mine = histogram_atoms(reference, zero_shares[0], integers=integers)
    theirs = histogram_atoms(other, zero_shares[1], integers=integers)
    bins = _bins(reference.edges[1:-1] or reference.edges, {a.low for a in mine if a.point})
    return bins, _shares(mine, bins), _shares(theirs, bins)


def distributions(first: FeatureStatistics, second: FeatureStatistics) -> Distributions | None:
    """Return comparable distributions of a feature in two datasets, or None if there are none."""
    if first.string is not None and second.string is not None:
        a = _value_shares(first)
        b = _value_shares(second)
        labels = sorted(set(a) | set(b))
        return Distributions(
            labels, [a.get(v, 0.0) for v in labels], [b.get(v, 0.0) for v in labels], True
        )
    if first.numeric is not None and second.numeric is not None:
        one, two = first.numeric, second.numeric
        if _usable(one.quantile_histogram) and _usable(two.quantile_histogram):
            reference, other = one.quantile_histogram, two.quantile_histogram
        elif _usable(one.histogram) and _usable(two.histogram):
            reference, other = one.histogram, two.histogram
        else:
            return None
        bins, p, q = _compared_bins(
            reference,
            other,
            (_zero_share(first), _zero_share(second)),
            integers=first.type in ("int", "date") and second.type in ("int", "date"),
        )
        return Distributions(
            [cell.label for cell in bins],
            p,
            q,
            False,
            (_finite(first), _finite(second)),
            [(cell.low, cell.high) for cell in bins],
            one.std,
        )
    return None


@dataclass(frozen=True)
class Binning:
    """A numeric reference's bins (see the module docstring) and its share of each.

    `boundaries` are the sorted cut points and point masses; `points` says which are point
    masses (a bin `= v` of their own). Raw values are counted into the bins exactly.
    """

    boundaries: tuple[float, ...]
    points: tuple[bool, ...]
    labels: tuple[str, ...]
    shares: tuple[float, ...]

    def count(self, values: np.ndarray) -> np.ndarray:
        """Return how many of `values` (finite floats) fall in each bin.

        The values are sorted and the edges looked up in them: sorting is several times
        faster than looking each value up among the edges.
        """
        import numpy as np

        return self.count_sorted(np.sort(values))

    def count_sorted(self, ordered: np.ndarray) -> np.ndarray:
        """Return how many of `ordered` (finite floats, sorted ascending) fall in each bin."""
        import numpy as np

        edges = np.asarray(self.boundaries, dtype=np.float64)
        is_point = np.asarray(self.points, dtype=bool)
        after = np.arange(len(edges)) + 1 + np.cumsum(is_point)  # the bin after each edge
        below = np.searchsorted(ordered, edges, side="left")  # values < each edge
        upto = np.searchsorted(ordered, edges, side="right")  # values <= each edge
        counts = np.zeros(len(self.labels), dtype=np.int64)
        counts[0] = below[0]
        ends = np.append(below[1:], len(ordered))  # each edge's interval: up to the next edge
        counts[after] = ends - below
        equal = np.where(is_point, upto - below, 0)  # a point mass's values: its own bin
        counts[after] -= equal
        counts[after - 1] += equal * is_point
        return counts

    @property
    def spans(self) -> list[tuple[float, float]]:
        """Each bin's `(low, high)`, in the order of the shares; equal for a point mass."""
        spans = []
        low = -math.inf
        for edge, point in zip(self.boundaries, self.points, strict=True):
            spans.append((low, edge))
            if point:
                spans.append((edge, edge))
            low = edge
        spans.append((low, math.inf))
        return spans

    def to_json(self) -> dict[str, Any]:
        """Return the binning as plain JSON."""
        return {
            "boundaries": list(self.boundaries),
            "points": list(self.points),
            "labels": list(self.labels),
            "shares": list(self.shares),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Binning:
        """Read what `to_json` wrote."""
        return cls(
            tuple(float(x) for x in data["boundaries"]),
            tuple(bool(x) for x in data["points"]),
            tuple(str(x) for x in data["labels"]),
            tuple(float(x) for x in data["shares"]),
        )


def reference_binning(feature: FeatureStatistics) -> Binning | None:
    """Return the bins a numeric feature's values are compared on, or None if it has none."""
    numeric = feature.numeric
    if numeric is None:
        return None
    histogram = numeric.quantile_histogram
    if not _usable(histogram):
        histogram = numeric.histogram
        if not _usable(histogram):
            return None
    atoms = histogram_atoms(
        histogram, _zero_share(feature), integers=feature.type in ("int", "date")
    )
    points = {atom.low for atom in atoms if atom.point}
    cuts = histogram.edges[1:-1] or histogram.edges
    bins = _bins(cuts, points)
    boundaries = sorted({*cuts, *points})
    return Binning(
        tuple(boundaries),
        tuple(edge in points for edge in boundaries),
        tuple(cell.label for cell in bins),
        tuple(_shares(atoms, bins)),
    )


def distance(found: Distributions, comparator: ComparatorName) -> float:
    """Return the distance of two distributions by the named comparator."""
    return measure(found, comparator)


def applicable(found: Distributions, comparator: ComparatorName) -> ComparatorName:
    """Return the comparator that measures `found`: `wasserstein` needs the bins' spans and
    a positive finite scale; without them (a categorical feature, a constant reference) the
    population stability index measures instead."""
    scale = found.scale
    if comparator == "wasserstein" and not (found.spans and scale and 0 < scale < math.inf):
        return "psi"
    return comparator


def measure(found: Distributions, comparator: ComparatorName) -> float:
    """Return the distance of `found.q` from the reference `found.p` by a comparator (the
    `applicable` one)."""
    p, q = found.p, found.q
    name = applicable(found, comparator)
    if name == "linf":
        return linf_distance(p, q)
    if name == "jensen_shannon":
        return jensen_shannon_divergence(p, q)
    if name == "wasserstein":
        assert found.spans is not None and found.scale is not None
        return wasserstein_distance(p, q, found.spans, found.scale, found.sizes)
    return population_stability_index(p, q, found.sizes)


def comparator_title(comparator: ComparatorName) -> str:
    """Return the comparator's name in words, for messages and reports."""
    return {
        "linf": "L-infinity distance",
        "jensen_shannon": "Jensen-Shannon divergence",
        "psi": "population stability index",
        "wasserstein": "Wasserstein distance (in standard deviations)",
    }[comparator]


def distribution_anomalies(
    before: dict[str, FeatureStatistics],
    after: dict[str, FeatureStatistics],
    schema: DataSchema,
    features: Sequence[FeatureSchema],
    *,
    check: Check,
    where: str,
    change: str,
) -> list[Anomaly]:
    """Compare each feature of `features` between two datasets; return the anomalies.

    Args:
        before: The features of the reference (train split, or the baseline).
        after: The features of the data compared with it (eval split, or the new span).
        schema: The schema, which holds the comparators and severities.
        features: The features to compare (those of the environment).
        check: "skew" or "drift".
        where: The anomalies' `split` ("train vs eval", or the split's name).
        change: What the description says happened: "skews between 'train' and 'eval'".
    """
    anomalies: list[Anomaly] = []
    for feature in features:
        comparator = schema.comparator(feature, check)
        if comparator is None or feature.name not in before or feature.name not in after:
            continue
        found = distributions(before[feature.name], after[feature.name])
        if found is None or not found.labels:
            continue
        name = applicable(
            found, comparator.comparator or default_comparator(categorical=found.categorical)
        )
        measured = distance(found, name)
        if measured <= comparator.threshold:
            continue
        anomalies.append(
            Anomaly(
                feature=feature.name,
                kind=check,
                severity=schema.severity_of(check, feature),
                description=_describe(
                    feature.name,
                    found,
                    name,
                    measured,
                    comparator.threshold,
                    check=check,
                    change=change,
                ),
                split=where,
                examples=(_largest_change(found),),
                value=measured,
                threshold=comparator.threshold,
            )
        )
    return anomalies


def _describe(
    feature: str,
    found: Distributions,
    comparator: ComparatorName,
    measured: float,
    threshold: float,
    *,
    check: Check,
    change: str,
) -> str:
    what = comparator_title(comparator)
    moved = largest_change(found.labels, found.p, found.q, categorical=found.categorical)
    return (
        f"{feature!r} {change}: {what} {measured:.3f} exceeds {threshold:g} ({moved}). If "
        f"the change is expected, raise the threshold of its {check} in the schema."
    )


def largest_change(
    labels: Sequence[str], p: Sequence[float], q: Sequence[float], *, categorical: bool
) -> str:
    """Name the bin or value whose share moved most, with its share before and after.

    Example:
        >>> largest_change(["a", "b", "c"], [0.4, 0.3, 0.3], [0.1, 0.4, 0.5], categorical=True)
        "largest change: 'a' 40.0% -> 10.0%"
    """
    index = _largest_index(p, q)
    shown = repr(labels[index]) if categorical else f"the bin {labels[index]}"
    return f"largest change: {shown} {p[index]:.1%} -> {q[index]:.1%}"


def _largest_change(found: Distributions) -> str:
    return found.labels[_largest_index(found.p, found.q)]


def _largest_index(p: Sequence[float], q: Sequence[float]) -> int:
    return max(range(len(p)), key=lambda i: abs(p[i] - q[i]))


def _value_shares(feature: FeatureStatistics) -> dict[str, float]:
    assert feature.string is not None
    values = feature.string.top_values
    total = max(sum(v.count for v in values), float(feature.count))
    if total <= 0:
        return {}
    return {v.value: v.count / total for v in values}


def _usable(histogram: Histogram) -> bool:
    return (
        len(histogram.edges) == len(histogram.counts) + 1
        and sum(histogram.counts) > 0
        and all(math.isfinite(edge) for edge in histogram.edges)
    )


def _finite(feature: FeatureStatistics) -> float:
    """Return how many finite values a numeric feature has (those its histograms count)."""
    assert feature.numeric is not None
    return float(feature.count - feature.numeric.nan - feature.numeric.infinite)


def _zero_share(feature: FeatureStatistics) -> float:
    """Return the share of zeros among the finite values (those the histograms count)."""
    assert feature.numeric is not None
    finite = feature.count - feature.numeric.nan - feature.numeric.infinite
    return min(feature.numeric.zeros / finite, 1.0) if finite > 0 else 0.0


def _bins(cuts: Sequence[float], points: set[float]) -> list[_Bin]:
    """Return the bins between sorted cut points and point masses, open-ended outside."""
    bins: list[_Bin] = []
    low, open_low = -math.inf, False
    for cut in sorted({*cuts, *points}):
        bins.append(_Bin(low, cut, open_low))
        if cut in points:
            bins.append(_Bin(cut, cut))
        low, open_low = cut, cut in points
    bins.append(_Bin(low, math.inf, open_low))
    return bins


def _shares(atoms: Sequence[Atom], bins: Sequence[_Bin]) -> list[float]:
    """Return each bin's share of the atoms' mass, from their cumulative distribution."""
    weights = []
    for cell in bins:
        if cell.low == cell.high:
            weight = _below(atoms, cell.low, inclusive=True) - _below(atoms, cell.low)
        else:
            end = cell.high
            high = sum(a.mass for a in atoms) if end == math.inf else _below(atoms, end)
            start = cell.low
            low = 0.0 if start == -math.inf else _below(atoms, start, inclusive=cell.open_low)
            weight = high - low
        weights.append(max(weight, 0.0))
    total = sum(weights)
    return [w / total for w in weights] if total > 0 else [0.0] * len(weights)


def _below(atoms: Sequence[Atom], x: float, *, inclusive: bool = False) -> float:
    """Return the mass below `x` (at most `x` if inclusive), linear inside spread atoms."""
    mass = 0.0
    for atom in atoms:
        if atom.point:
            if atom.low < x or (inclusive and atom.low == x):
                mass += atom.mass
        elif atom.integers:
            counted = (math.floor(x) if inclusive else math.ceil(x) - 1) - atom.low + 1
            size = atom.high - atom.low + 1
            mass += atom.mass * min(max(counted, 0.0), size) / size
        elif x >= atom.high:
            mass += atom.mass
        elif x > atom.low:
            mass += atom.mass * (x - atom.low) / (atom.high - atom.low)
    return mass


def _tie(histogram: Histogram, index: int, run: int, run_mass: float, integers: bool) -> float:
    """Estimate how many values of a bucket after `run` zero-width ones equal its low edge.

    At least `run / n` of all values (less what the zero-width buckets hold) and all of the
    bucket's but at most `1 / n` of all values; within these bounds, the values above the
    edge are estimated from the density of the following bucket, when there is one.
    """
    edges, counts = histogram.edges, histogram.counts
    total, buckets = sum(counts), len(counts)
    count, low, high = counts[index], edges[index], edges[index + 1]
    above = count - max(total * run / buckets - run_mass, count - total / buckets)
    following = index + 1
    if following < buckets and edges[following + 1] > high:
        width = _size(high, edges[following + 1], integers, following == buckets - 1)
        inside = _size(low, high, integers, index == buckets - 1) - (1 if integers else 0)
        if width > 0:
            above = min(above, counts[following] / width * inside)
    return count - above


def _size(low: float, high: float, integers: bool, last: bool) -> float:
    """Return the width of a bucket, or the number of integers in it."""
    return _last_integer(high, last) - math.ceil(low) + 1 if integers else high - low


def _last_integer(high: float, last: bool) -> int:
    """Return the largest integer below `high` (at most `high` in the last bucket)."""
    return math.floor(high) if last else math.ceil(high) - 1
