"""The logical type of a column, from its Polars data type, and the family that summarizes it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import polars as pl

    from shipyard.artifacts.statistics import FeatureType

Family = Literal["numeric", "string", "list", "other"]
"""Which statistics a column gets: `NumericStatistics`, `StringStatistics`,
`ListStatistics`, or counts only."""


def feature_type(dtype: pl.DataType) -> FeatureType:
    """Return the logical type of a column of Polars type `dtype`.

    Decimals, durations and times of day are "float" (durations and times in seconds);
    categoricals, enums and all-null columns are "string".
    """
    import polars as pl

    if dtype == pl.Boolean:
        return "bool"
    if dtype.is_integer():
        return "int"
    if dtype.is_float() or isinstance(dtype, pl.Decimal | pl.Duration | pl.Time):
        return "float"
    if isinstance(dtype, pl.Datetime):
        return "timestamp"
    if dtype == pl.Date:
        return "date"
    if isinstance(dtype, pl.List | pl.Array):
        return "list"
    if isinstance(dtype, pl.Struct):
        return "struct"
    if dtype in (pl.String, pl.Null) or isinstance(dtype, pl.Categorical | pl.Enum):
        return "string"
    return "binary"


def family(kind: FeatureType) -> Family:
    """Return which statistics a feature of logical type `kind` gets."""
    if kind in ("int", "float", "timestamp", "date"):
        return "numeric"
    if kind in ("string", "bool"):
        return "string"
    if kind == "list":
        return "list"
    return "other"


def numeric_values(name: str, dtype: pl.DataType) -> pl.Expr:
    """Return an expression for a numeric column's values as Float64.

    Timestamps become seconds since the Unix epoch, dates days since it, durations and times
    of day seconds.
    """
    import polars as pl

    column = pl.col(name)
    if isinstance(dtype, pl.Datetime):
        return column.dt.epoch("us").cast(pl.Float64) / 1e6
    if isinstance(dtype, pl.Duration):
        return column.dt.total_microseconds().cast(pl.Float64) / 1e6
    if isinstance(dtype, pl.Time):
        return column.to_physical().cast(pl.Float64) / 1e9  # nanoseconds since midnight
    if dtype == pl.Date:
        return column.to_physical().cast(pl.Float64)
    return column.cast(pl.Float64)


def string_values(name: str, dtype: pl.DataType) -> pl.Expr:
    """Return an expression for a string-like column's values as strings ("true"/"false")."""
    import polars as pl

    column = pl.col(name)
    return column if dtype == pl.String else column.cast(pl.String)
