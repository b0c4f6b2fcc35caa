"""The passes over a table's columns, and the statistics assembled from their results.

`compute_dataset_statistics` runs them over a whole table; `partial` runs them over each
partition of a larger one and merges their results before assembling them. Either way the
statistics come from the same expressions and the same `assemble`:

0. `screen_row`: which float columns hold NaN or infinities;
1. `first_row`: every column's counts, moments and lengths; `value_counts`: one grouped
   count per string column;
2. `second_pass`: every numeric column's equal-width histogram (over edges from the first
   pass's min and max) and its values for the quantiles (all, or the rows whose hash of
   their index falls below a threshold set from the first pass's count of finite values).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shipyard.artifacts.statistics import DatasetStatistics, FeatureStatistics, ListStatistics
from shipyard.components.statistics.categorical import StringColumn
from shipyard.components.statistics.feature_types import family, feature_type
from shipyard.components.statistics.numeric import NumericColumn, Row

if TYPE_CHECKING:
    from collections.abc import Mapping

    import polars as pl

    from shipyard.artifacts.statistics import FeatureType

SAMPLE_SEED = 20240611
"""The seed of the hash of each row's index that picks the quantiles' sample."""


@dataclass(frozen=True)
class Columns:
    """What to compute for each column of a table.

    Attributes:
        types: Each column's logical type, in column order.
        keys: Each column's prefix for the names of its aggregates (`"3:"`).
        numeric: The numeric columns.
        strings: The string, categorical and boolean columns.
        weight: The weight column, if any.
    """

    types: dict[str, FeatureType]
    keys: dict[str, str]
    numeric: dict[str, NumericColumn]
    strings: dict[str, StringColumn]
    weight: str | None

    def screened(self, screen: Row) -> Columns:
        """Return the columns knowing, from `screen`, which hold NaN or infinities."""
        numeric = {
            name: dataclasses.replace(
                column,
                non_finite=bool(screen.get(f"{column.key}nan") or screen.get(f"{column.key}inf")),
            )
            for name, column in self.numeric.items()
        }
        return dataclasses.replace(self, numeric=numeric)


def plan_columns(
    schema: Mapping[str, pl.DataType], *, weight: str | None, buckets: int, rows: int
) -> Columns:
    """Return what to compute for each column of a table of Polars schema `schema`."""
    types = {name: feature_type(dtype) for name, dtype in schema.items()}
    keys = {name: f"{index}:" for index, name in enumerate(types)}
    numeric = {
        name: NumericColumn(keys[name], name, schema[name], weight, buckets, rows)
        for name, kind in types.items()
        if family(kind) == "numeric"
    }
    strings = {
        name: StringColumn(name, schema[name], weight)
        for name, kind in types.items()
        if family(kind) == "string"
    }
    return Columns(types, keys, numeric, strings, weight)


def screen_row(frame: pl.DataFrame, columns: Columns) -> Row:
    """Return the counts of NaN and infinities of the float columns."""
    return select_row(frame, [e for c in columns.numeric.values() for e in c.screen_pass()])


def first_row(frame: pl.DataFrame, columns: Columns) -> Row:
    """Return every column's aggregates over all rows: counts, moments, values, lengths."""
    import polars as pl

    exprs: list[pl.Expr] = []
    weights = None if columns.weight is None else pl.col(columns.weight).cast(pl.Float64)
    for name, kind in columns.types.items():
        key, column = columns.keys[name], pl.col(name)
        exprs += [column.count().alias(f"{key}count"), column.null_count().alias(f"{key}missing")]
        if weights is not None:
            exprs.append(weights.filter(column.is_not_null()).sum().alias(f"{key}w_count"))
        if name in columns.numeric:
            exprs += columns.numeric[name].first_pass()
        elif kind == "list":
            dtype = frame.schema[name]
            lengths = column.arr.len() if isinstance(dtype, pl.Array) else column.list.len()
            exprs += [
                lengths.min().alias(f"{key}len_min"),
                lengths.max().alias(f"{key}len_max"),
                lengths.mean().alias(f"{key}len_mean"),
            ]
    if weights is not None:
        exprs.append(weights.sum().alias("weighted_num_rows"))
    # Eager, not lazy: the lazy engine splits long columns among threads and adds up the
    # parts in the order they finish, so sums and means changed in their last digits.
    return select_row(frame, exprs)


def value_counts(frame: pl.DataFrame, columns: Columns) -> dict[str, pl.DataFrame]:
    """Return each string column's distinct values with their counts (and weights)."""
    import polars as pl

    lazy = frame.lazy()
    found = pl.collect_all([column.query(lazy) for column in columns.strings.values()])
    return {
        name: column.weigh(frame, counts)
        for (name, column), counts in zip(columns.strings.items(), found, strict=True)
    }


def sample_hashes(start: int, rows: int) -> pl.Series:
    """Return the hash of each row index from `start`: the quantiles' sample is the rows whose
    hash is below a threshold, the same rows however the table is partitioned."""
    import polars as pl

    return pl.int_range(start, start + rows, eager=True).hash(SAMPLE_SEED)


def second_pass(
    frame: pl.DataFrame, columns: Columns, first: Row, hashes: pl.Series
) -> tuple[Row, pl.DataFrame]:
    """Return the histogram sums (and weighted deviations), and a one-row frame of the
    numeric columns' sorted samples (list columns)."""
    import polars as pl

    exprs = [e for c in columns.numeric.values() for e in c.second_pass(first, hashes)]
    second = frame.select(exprs) if exprs else pl.DataFrame()
    numbers = [name for name, dtype in second.schema.items() if not isinstance(dtype, pl.List)]
    row = select_row(second, [pl.col(name) for name in numbers])
    for column in columns.numeric.values():
        row.update(column.bucket_counts(frame, first))
    return row, second.drop(numbers)


def assemble(
    columns: Columns,
    *,
    num_rows: int,
    screen: Row,
    first: Row,
    second_row: Row,
    samples: pl.DataFrame,
    counts: dict[str, pl.DataFrame],
) -> DatasetStatistics:
    """Assemble the statistics of every column from the results of the passes."""
    weight = columns.weight
    features: dict[str, FeatureStatistics] = {}
    for name, kind in columns.types.items():
        key = columns.keys[name]
        feature = FeatureStatistics(
            name=name,
            type=kind,
            count=int(first[f"{key}count"]),
            missing=int(first[f"{key}missing"]),
            weighted_count=None if weight is None else float(first[f"{key}w_count"] or 0.0),
        )
        if name in columns.numeric:
            plain, weighted_numeric = columns.numeric[name].build(
                screen, first, second_row, samples
            )
            feature = dataclasses.replace(feature, numeric=plain, weighted_numeric=weighted_numeric)
        elif name in columns.strings:
            text, weighted_text = columns.strings[name].build(counts[name])
            feature = dataclasses.replace(feature, string=text, weighted_string=weighted_text)
        elif kind == "list":
            feature = dataclasses.replace(
                feature,
                lists=ListStatistics(
                    min_length=int(first[f"{key}len_min"] or 0),
                    max_length=int(first[f"{key}len_max"] or 0),
                    avg_length=float(first[f"{key}len_mean"] or 0.0),
                ),
            )
        features[name] = feature
    return DatasetStatistics(
        num_rows=num_rows,
        features=features,
        weighted_num_rows=None if weight is None else float(first["weighted_num_rows"] or 0.0),
    )


def select_row(frame: pl.DataFrame, exprs: list[pl.Expr]) -> dict[str, Any]:
    """Run one `select` of aggregates; return its single row."""
    return frame.select(exprs).row(0, named=True) if exprs else {}
