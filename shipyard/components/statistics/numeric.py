"""Statistics of numeric columns: moments, quantiles, equal-width and quantile histograms.

A numeric column is summarized by aggregate expressions that run together with every other
column's in a few `select`s (see `shipyard.components.statistics.dataset`):

0. `screen_pass`: NaN and infinities, so that columns without them skip the masking.
1. `first_pass`, over all rows: count of finite values, zeros, mean, std, min, max.
2. `second_pass`: the equal-width histogram over all rows, and the sorted values the
   quantiles come from: all finite values of a column with at most `sample_rows` of them,
   otherwise a uniform random sample of about that many rows (as TFDV estimates quantiles
   with sketches). The quantiles and the quantile histogram's counts are read from those
   sorted values, the counts scaled to the column's count (exact when the quantiles are).
   Min and max are always exact.

Histogram counts come from how many values are at least each edge, so a value on an edge
always goes to the bucket that starts at it. NaN and infinities count as present (`count`)
but are excluded from every other figure. The standard deviation is the population one
(ddof=0), as in TFDV and numpy; quantiles interpolate linearly, as numpy's default. In
`weighted_numeric`, `zeros`, `nan` and `infinite` are the weighted counts rounded to
integers, and the quantiles are weighted quantiles (the smallest value whose cumulative
weight reaches the probability).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shipyard.artifacts.statistics import Histogram, HistogramKind, NumericStatistics
from shipyard.components.statistics.feature_types import numeric_values
from shipyard.components.statistics.histogram import COMPARISON_BUCKETS, at_least_counts

if TYPE_CHECKING:
    import polars as pl

QUANTILE_PROBABILITIES = [i / 10 for i in range(11)]
"""The probabilities of `NumericStatistics.quantiles`: 0, 0.1, ..., 1."""

MEDIAN_INDEX = 5

Row = dict[str, Any]
"""The one-row result of a pass: aggregate name -> value."""


@dataclass(frozen=True)
class NumericColumn:
    """How to summarize one numeric column.

    Attributes:
        key: A prefix, unique among the columns, for the names of its aggregates.
        name: The column's name.
        dtype: Its Polars data type.
        weight: The weight column, if any.
        buckets: Buckets of the equal-width histogram.
        sample_rows: Quantiles of columns with more finite values come from a sample.
        non_finite: Whether the column holds NaN or infinities (from the screen pass).
    """

    key: str
    name: str
    dtype: pl.DataType
    weight: str | None
    buckets: int
    sample_rows: int
    non_finite: bool = True

    def screen_pass(self) -> list[pl.Expr]:
        """Return the counts of NaN and infinities (none for integer types)."""
        if not self.dtype.is_float():
            return []
        values, k = numeric_values(self.name, self.dtype), self.key
        return [
            values.is_nan().sum().alias(f"{k}nan"),
            values.is_infinite().sum().alias(f"{k}inf"),
        ]

    def finite(self) -> pl.Expr:
        """Return the column's finite values, others made null.

        Integers stay integers (aggregating them is faster than their Float64 cast); every
        other type is cast to Float64.
        """
        import polars as pl

        if self.dtype.is_integer():
            return pl.col(self.name)
        values = numeric_values(self.name, self.dtype)
        return pl.when(values.is_finite()).then(values) if self.non_finite else values

    def weights(self) -> pl.Expr:
        """Return the weight column as Float64."""
        import polars as pl

        assert self.weight is not None
        return pl.col(self.weight).cast(pl.Float64)

    def first_pass(self) -> list[pl.Expr]:
        """Return the aggregates computed over all rows."""
        finite, k = self.finite(), self.key
        exprs = [
            finite.count().alias(f"{k}finite"),
            (finite == 0).sum().alias(f"{k}zeros"),
            finite.mean().alias(f"{k}mean"),
            finite.std(ddof=0).alias(f"{k}std"),
            finite.min().alias(f"{k}min"),
            finite.max().alias(f"{k}max"),
        ]
        if self.weight is not None:
            values, weights = numeric_values(self.name, self.dtype), self.weights()
            exprs += [
                weights.filter(finite.is_not_null()).sum().alias(f"{k}w_finite"),
                (weights * finite).sum().alias(f"{k}w_sum"),
                weights.filter(finite == 0).sum().alias(f"{k}w_zeros"),
            ]
            if self.non_finite:
                exprs += [
                    weights.filter(values.is_nan()).sum().alias(f"{k}w_nan"),
                    weights.filter(values.is_infinite()).sum().alias(f"{k}w_inf"),
                ]
        return exprs

    def sample(self, first: Row, hashes: pl.Series) -> pl.Expr:
        """Return a mask of the rows the quantiles are computed on: all, or a sample.

        `hashes` holds a uniform random UInt64 per row (from a fixed seed, so results are
        reproducible); the rows whose hash is below a threshold form the sample, the
        threshold chosen so that about `sample_rows` of them hold a finite value.
        """
        import polars as pl

        finite = int(first[f"{self.key}finite"])
        if finite <= self.sample_rows:
            return pl.lit(True)
        threshold = min(int(self.sample_rows / finite * 2**64), 2**64 - 1)
        return pl.lit(hashes) < pl.lit(threshold, dtype=pl.UInt64)

    def second_pass(self, first: Row, hashes: pl.Series) -> list[pl.Expr]:
        """Return the equal-width histogram's cumulative counts and the sorted sample."""
        import polars as pl

        k = self.key
        if not first[f"{k}finite"]:
            return []
        finite, mask = self.finite(), self.sample(first, hashes)
        edges = self._edges(self.equal_width_edges(first)) if self.compares_edges else []
        exprs = [
            finite.filter(mask).drop_nulls().sort().implode().alias(f"{k}sample"),
            *_at_least(finite, edges, f"{k}e"),
        ]
        if self.weight is not None:
            weights = self.weights()
            mean = _ratio(first[f"{k}w_sum"], first[f"{k}w_finite"]) or 0.0
            pairs = pl.struct(finite.alias("x"), weights.alias("w"))
            exprs += [
                (weights * (finite - mean) ** 2).sum().alias(f"{k}w_dev"),
                *_at_least(finite, edges, f"{k}we", weights),
                pairs.filter(finite.is_not_null() & mask).sort().implode().alias(f"{k}wsample"),
            ]
        return exprs

    @property
    def compares_edges(self) -> bool:
        """Whether the second pass counts the histogram by comparisons with its edges; if
        not, `bucket_counts` counts it (in O(rows), see `histogram`)."""
        return self.buckets <= COMPARISON_BUCKETS

    def bucket_counts(self, frame: pl.DataFrame, first: Row) -> Row:
        """Return the equal-width histogram's sums as the second pass names them.

        For histograms with more than `COMPARISON_BUCKETS` buckets: one pass over the
        column's finite values (and their weights) instead of one per edge.
        """
        import numpy as np
        import polars as pl

        edges = self.equal_width_edges(first)
        if self.compares_edges or len(edges) < 3:
            return {}
        exprs = [self.finite().cast(pl.Float64).alias("x")]
        if self.weight is not None:
            exprs.append(self.weights().alias("w"))
        present = frame.select(exprs).filter(pl.col("x").is_not_null())
        values = present.get_column("x").to_numpy()
        k, row = self.key, {}
        for i, figure in enumerate(at_least_counts(values, edges)):
            row[f"{k}e{i}"] = figure
        if self.weight is not None:
            weights = present.get_column("w").to_numpy().astype(np.float64, copy=False)
            for i, figure in enumerate(at_least_counts(values, edges, weights)):
                row[f"{k}we{i}"] = figure
        return row

    def equal_width_edges(self, first: Row) -> list[float]:
        """Return the equal-width histogram's edges, from min to max; [] without values."""
        if not first[f"{self.key}finite"]:
            return []
        low, high = float(first[f"{self.key}min"]), float(first[f"{self.key}max"])
        if low == high:
            return [low, high]
        step = (high - low) / self.buckets
        return [low + i * step for i in range(self.buckets)] + [high]

    def build(
        self, screen: Row, first: Row, row: Row, second: pl.DataFrame
    ) -> tuple[NumericStatistics, NumericStatistics | None]:
        """Assemble the statistics (and their weighted form, with a weight column).

        `row` holds the second pass's numbers, `second` its samples (lists of values).
        """
        import polars as pl

        k = self.key
        finite = int(first[f"{k}finite"])
        equal = self.equal_width_edges(first)
        sample = second.get_column(f"{k}sample")[0] if finite else pl.Series([], dtype=pl.Float64)
        quantiles = self._ends(first, _quantiles(sample))
        plain = NumericStatistics(
            mean=_number(first[f"{k}mean"]),
            std=_number(first[f"{k}std"]),
            min=_number(first[f"{k}min"]),
            max=_number(first[f"{k}max"]),
            median=quantiles[MEDIAN_INDEX] if quantiles else None,
            zeros=int(first[f"{k}zeros"]),
            nan=int(screen.get(f"{k}nan") or 0),
            infinite=int(screen.get(f"{k}inf") or 0),
            quantiles=quantiles,
            histogram=_histogram("equal_width", equal, _cumulative(row, f"{k}e", equal, finite)),
            quantile_histogram=_histogram(
                "quantiles", quantiles, _sample_cumulative(sample, None, quantiles, finite)
            ),
        )
        if self.weight is None:
            return plain, None
        total = float(first[f"{k}w_finite"] or 0.0)
        pairs = second.get_column(f"{k}wsample")[0] if finite else None
        values = pairs.struct.field("x") if pairs is not None else sample
        weights = pairs.struct.field("w") if pairs is not None else None
        weighted_quantiles = (
            self._ends(first, _weighted_quantiles(values, weights))
            if total and weights is not None
            else []
        )
        weighted = NumericStatistics(
            mean=_ratio(first[f"{k}w_sum"], total),
            std=math.sqrt(max(row[f"{k}w_dev"] / total, 0.0)) if total else None,
            min=plain.min,
            max=plain.max,
            median=weighted_quantiles[MEDIAN_INDEX] if weighted_quantiles else None,
            zeros=round(first[f"{k}w_zeros"] or 0.0),
            nan=round(first.get(f"{k}w_nan") or 0.0),
            infinite=round(first.get(f"{k}w_inf") or 0.0),
            quantiles=weighted_quantiles,
            histogram=_histogram("equal_width", equal, _cumulative(row, f"{k}we", equal, total)),
            quantile_histogram=_histogram(
                "quantiles",
                weighted_quantiles,
                _sample_cumulative(values, weights, weighted_quantiles, total),
            ),
        )
        return plain, weighted

    def _edges(self, edges: list[float]) -> list[float]:
        """Return the edges to compare the column with: rounded up for integers.

        An integer is at least an edge exactly when it is at least the edge rounded up, and
        comparing integers with integers spares a cast of the whole column per edge.
        """
        if not self.dtype.is_integer():
            return edges
        return [math.ceil(edge) if abs(edge) < 2**53 else edge for edge in edges]

    def _ends(self, first: Row, quantiles: list[float]) -> list[float]:
        """Put the exact min and max at the ends of sampled quantiles; keep them inside."""
        if not quantiles:
            return []
        low, high = float(first[f"{self.key}min"]), float(first[f"{self.key}max"])
        return [low, *(min(max(q, low), high) for q in quantiles[1:-1]), high]


def _quantiles(ordered: pl.Series) -> list[float]:
    """Return the quantiles of sorted values, interpolating linearly (numpy's default)."""
    size = ordered.len()
    if not size:
        return []
    result = []
    for probability in QUANTILE_PROBABILITIES:
        position = probability * (size - 1)
        below = math.floor(position)
        above = min(below + 1, size - 1)
        low, high = float(ordered[below]), float(ordered[above])
        result.append(low + (high - low) * (position - below))
    return result


def _weighted_quantiles(ordered: pl.Series, weights: pl.Series) -> list[float]:
    """Return the smallest values whose cumulative weight reaches each probability."""
    import polars as pl

    cumulative = weights.cum_sum()
    total = float(cumulative[-1]) if cumulative.len() else 0.0
    if not total:
        return []
    targets = pl.Series([p * total for p in QUANTILE_PROBABILITIES])
    positions = cumulative.search_sorted(targets, side="left")
    last = ordered.len() - 1
    return [float(ordered[min(int(position), last)]) for position in positions]


def _sample_cumulative(
    ordered: pl.Series, weights: pl.Series | None, edges: list[float], total: float
) -> list[float]:
    """Return, per edge, the count (or weight) at least that edge, from a sorted sample.

    The sample's figures are scaled so that the first edge holds `total`.
    """
    import polars as pl

    if not edges or not ordered.len():
        return []
    below = ordered.search_sorted(pl.Series(edges, dtype=pl.Float64), side="left")
    if weights is None:
        size = float(ordered.len())
        return [(size - int(b)) * total / size for b in below]
    cumulative = weights.cum_sum()
    weight = float(cumulative[-1])
    if not weight:
        return []
    return [
        (weight - (float(cumulative[int(b) - 1]) if b else 0.0)) * total / weight for b in below
    ]


def _at_least(
    values: pl.Expr, edges: list[float], prefix: str, weights: pl.Expr | None = None
) -> list[pl.Expr]:
    """Return, per inner edge, how many values (or how much weight) are at least that edge."""
    if weights is None:
        return [(values >= edge).sum().alias(f"{prefix}{i}") for i, edge in enumerate(edges[1:-1])]
    return [
        weights.filter(values >= edge).sum().alias(f"{prefix}{i}")
        for i, edge in enumerate(edges[1:-1])
    ]


def _cumulative(row: Row, prefix: str, edges: list[float], total: float) -> list[float]:
    """Return, per edge, the count (or weight) at least that edge, from `_at_least`'s sums."""
    if not edges:
        return []
    return [total, *(float(row[f"{prefix}{i}"] or 0.0) for i in range(len(edges) - 2))]


def _histogram(kind: HistogramKind, edges: list[float], at_least: list[float]) -> Histogram:
    """Make a histogram from how many values are at least each edge (but the last).

    Bucket `i` holds the values at least `edges[i]` but not at least `edges[i + 1]`; the
    last bucket holds its upper edge too. Repeated edges make empty buckets, and a value
    goes to the last bucket starting at it.
    """
    if not edges or not at_least:
        return Histogram(kind, [], [])
    bounds = [*at_least[: len(edges) - 1], 0.0]
    counts = [max(bounds[i] - bounds[i + 1], 0.0) for i in range(len(edges) - 1)]
    return Histogram(kind, edges, counts)


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _ratio(numerator: Any, denominator: Any) -> float | None:
    if not denominator or numerator is None:
        return None
    return _number(float(numerator) / float(denominator))
