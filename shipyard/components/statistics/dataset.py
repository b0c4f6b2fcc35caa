"""`compute_dataset_statistics`: the statistics of one table, its slices and its weights.

The work is a few vectorized Polars queries over the whole table, each covering every
column at once, never a Python loop over rows:

0. a screen: which float columns hold NaN or infinities (the others skip masking them);
1. one `select` with every column's counts, moments and lengths, then one grouped count
   per string column, run together (`polars.collect_all`);
2. one `select` with every numeric column's equal-width histogram and its values sorted
   for the quantiles (a sample past `quantile_sample_rows` finite values).

See `numeric` and `categorical` for what each pass computes. The figures are the same from
run to run, to the last digit: every floating-point sum adds its terms in an order fixed by
the data (the threads' share of the work changes from run to run, the order does not), so
the statistics JSON of the same data is the same bytes.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import TYPE_CHECKING, Any

from shipyard.components.statistics.feature_types import family, feature_type
from shipyard.components.statistics.summary import (
    assemble,
    first_row,
    plan_columns,
    sample_hashes,
    screen_row,
    second_pass,
    value_counts,
)
from shipyard.errors import DataError, InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Sequence

    import polars as pl
    import pyarrow as pa

    from shipyard.artifacts.statistics import DatasetStatistics

HISTOGRAM_BUCKETS = 10
QUANTILE_SAMPLE_ROWS = 100_000
MAX_SLICES_PER_COLUMN = 100


def compute_dataset_statistics(
    table: pa.Table,
    *,
    weight_column: str | None = None,
    slice_columns: Sequence[str] = (),
    histogram_buckets: int = HISTOGRAM_BUCKETS,
    quantile_sample_rows: int = QUANTILE_SAMPLE_ROWS,
) -> DatasetStatistics:
    """Compute the statistics of every column of a table.

    Args:
        table: The data, one feature per column.
        weight_column: A numeric column of example weights (finite, >= 0): the
            `weighted_*` figures are computed with it.
        slice_columns: Columns to slice by: the statistics of the rows with each of a
            column's values are in `slices["column=value"]` (missing values form no slice).
        histogram_buckets: Buckets of the equal-width histograms (1 to 1000).
        quantile_sample_rows: Quantiles are exact for columns with at most this many finite
            values, and estimated from a uniform random sample of this many otherwise.

    Returns:
        The statistics, features in column order.

    Raises:
        InvalidParameterError: The weight or a slice column does not exist or does not fit,
            or a number is out of range.
        DataError: The weights are not all finite and >= 0, or the table cannot be read.

    Example:
        >>> stats = compute_dataset_statistics(pa.table({"x": [1.0, 2.0, None]}))
        >>> stats.features["x"].missing, stats.features["x"].numeric.mean
        (1, 1.5)
    """
    check_range("histogram_buckets", histogram_buckets, 1, 1000)
    check_range("quantile_sample_rows", quantile_sample_rows, 1, None)
    columns = list(table.column_names)
    if weight_column is not None:
        check_column("weight_column", weight_column, columns)
    for column in slice_columns:
        check_column("slice_columns", column, columns)
    frame = to_polars(table)
    if weight_column is not None:
        _check_weights(frame, weight_column)
    for column in slice_columns:
        _check_slice_column(frame, column)
    summarize = functools.partial(
        _summarize, weight=weight_column, buckets=histogram_buckets, rows=quantile_sample_rows
    )
    stats = summarize(frame)
    slices = {
        key: summarize(part) for column in slice_columns for key, part in _partitions(frame, column)
    }
    return dataclasses.replace(stats, slices=slices) if slices else stats


def _summarize(
    frame: pl.DataFrame, *, weight: str | None, buckets: int, rows: int
) -> DatasetStatistics:
    """Summarize every column of `frame`: a screen, then two passes over every column."""
    columns = plan_columns(frame.schema, weight=weight, buckets=buckets, rows=rows)
    screen = screen_row(frame, columns)
    columns = columns.screened(screen)
    first = first_row(frame, columns)
    counts = value_counts(frame, columns)
    second, samples = second_pass(frame, columns, first, sample_hashes(0, frame.height))
    return assemble(
        columns,
        num_rows=frame.height,
        screen=screen,
        first=first,
        second_row=second,
        samples=samples,
        counts=counts,
    )


def to_polars(table: pa.Table) -> pl.DataFrame:
    import polars as pl

    names = list(table.column_names)
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise DataError(
            f"the table has duplicate column names: {', '.join(map(repr, duplicates))}; "
            f"rename them so each feature has one name."
        )
    try:
        frame = pl.from_arrow(table, rechunk=False)
    except (pl.exceptions.PolarsError, TypeError, ValueError) as exc:
        raise DataError(f"cannot read the table for statistics: {exc}") from exc
    if isinstance(frame, pl.Series):
        frame = frame.to_frame()
    return frame


def check_column(parameter: str, column: str, columns: list[str]) -> None:
    if column not in columns:
        raise InvalidParameterError(
            f"The {parameter!r} parameter of compute_statistics names no column of the data: "
            f"got {column!r}; the columns are {', '.join(map(repr, columns)) or 'none'}."
        )


def check_range(parameter: str, value: int, low: int, high: int | None) -> None:
    if value < low or (high is not None and value > high):
        bound = f">= {low}" if high is None else f"from {low} to {high}"
        raise InvalidParameterError(
            f"The {parameter!r} parameter of compute_statistics must be an int {bound}. "
            f"Got {value!r} instead."
        )


def _check_weights(frame: pl.DataFrame, column: str) -> None:
    check_weight_type(frame, column)
    bad = count_bad_weights(frame, column)
    if bad:
        raise weights_error(bad, column)


def check_weight_type(frame: pl.DataFrame, column: str) -> None:
    """Raise InvalidParameterError unless the weight column of `frame` holds numbers."""
    import polars as pl

    dtype = frame.schema[column]
    if not (dtype.is_numeric() and dtype != pl.Boolean):
        raise InvalidParameterError(
            f"The 'weight_column' parameter of compute_statistics must name a numeric column: "
            f"{column!r} is {dtype}. Choose a column of numbers."
        )


def count_bad_weights(frame: pl.DataFrame, column: str) -> int:
    """Return how many weights are missing, NaN, infinite or negative."""
    import polars as pl

    weights = pl.col(column).cast(pl.Float64)
    bad = weights.is_null() | ~weights.is_finite() | (weights < 0)
    return int(frame.select(bad.sum()).item())


def weights_error(bad: int, column: str) -> DataError:
    """Return the error for `bad` weights that are missing, NaN, infinite or negative."""
    return DataError(
        f"{bad} weights are missing, NaN, infinite or negative; every weight must be a "
        f"finite number >= 0.",
        column=column,
    )


def _check_slice_column(frame: pl.DataFrame, column: str) -> None:
    check_slice_type(frame, column)
    distinct = frame.get_column(column).drop_nulls().n_unique()
    if distinct > MAX_SLICES_PER_COLUMN:
        raise too_many_slices(column, str(distinct))


def check_slice_type(frame: pl.DataFrame, column: str) -> None:
    """Raise InvalidParameterError unless `column` of `frame` holds numbers or categories."""
    kind = feature_type(frame.schema[column])
    if family(kind) not in ("numeric", "string"):
        raise InvalidParameterError(
            f"The 'slice_columns' parameter of compute_statistics names {column!r}, a "
            f"{kind} column; slice by a column of numbers, strings or booleans."
        )


def too_many_slices(column: str, distinct: str) -> InvalidParameterError:
    """Return the error for a slice column with `distinct` (a figure, or "more than N")
    distinct values, more than `MAX_SLICES_PER_COLUMN`."""
    return InvalidParameterError(
        f"The 'slice_columns' parameter of compute_statistics names {column!r}, which "
        f"has {distinct} distinct values; slicing allows at most "
        f"{MAX_SLICES_PER_COLUMN}. Slice by a column with fewer values."
    )


def _partitions(frame: pl.DataFrame, column: str) -> list[tuple[str, pl.DataFrame]]:
    """Split `frame` by the values of `column`, sorted by value; missing values are left out."""
    return [(key, part) for key, _, part in slice_groups(frame, column)]


def slice_groups(frame: pl.DataFrame, column: str) -> list[tuple[str, Any, pl.DataFrame]]:
    """Return the slices of `frame` by `column`: key (`"column=value"`), value and rows, sorted
    by value; the rows keep their order, and missing values form no slice."""
    parts = frame.filter(frame[column].is_not_null()).partition_by(column, as_dict=True)
    ordered = sorted(parts.items(), key=lambda item: item[0][0])
    return [(f"{column}={_format_value(key[0])}", key[0], part) for key, part in ordered]


def _format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)
