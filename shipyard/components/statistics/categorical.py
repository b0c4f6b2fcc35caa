"""Statistics of string, categorical and boolean columns: distinct values, top values, lengths.

Booleans are categories with the values "true" and "false". Everything comes from one
grouped query per column (one row per distinct value, with its count and weight), run
together with the other passes: the number of its rows is `distinct`, its largest counts
the top values, and the average length is weighted by the counts. Top values are sorted by
count (most frequent first), ties by value, and keep at most
`StringStatistics.MAX_TOP_VALUES` entries: all of them for a column with fewer distinct
values, so a schema can read the whole domain. The distinct values that read as numbers
are counted (`numbers`, `integers`), so that validation can tell how many values of a
column the schema types as a number are words, and which (`non_numbers`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from shipyard.artifacts.statistics import StringStatistics, ValueCount
from shipyard.components.ingest.columns import INTEGER_PATTERN, NUMBER_PATTERN
from shipyard.components.statistics.feature_types import string_values

if TYPE_CHECKING:
    import polars as pl


@dataclass(frozen=True)
class StringColumn:
    """How to summarize one string-like column.

    Attributes:
        name: The column's name.
        dtype: Its Polars data type.
        weight: The weight column, if any.
    """

    name: str
    dtype: pl.DataType
    weight: str | None

    def query(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        """Return the query counting each distinct value: columns `value` and `count`."""
        import polars as pl

        values = string_values(self.name, self.dtype).alias("value")
        present = frame.select(values).drop_nulls("value")
        return present.group_by("value").agg(pl.len().alias("count"))

    def weigh(self, frame: pl.DataFrame, counts: pl.DataFrame) -> pl.DataFrame:
        """Add each distinct value's weight to `counts` (from `query`), with a weight column.

        A grouped sum adds each thread's share of the rows in the order the threads finish,
        so its last digits change from run to run; here each value's weights are added in
        row order (`numpy.bincount`), and the values sorted, so every later sum is the same.
        """
        import numpy as np
        import polars as pl

        if self.weight is None:
            return counts
        counts = counts.sort("value")
        distinct = counts.height
        codes = frame.select(
            string_values(self.name, self.dtype)
            .replace_strict(
                counts.get_column("value"),
                pl.int_range(distinct, dtype=pl.UInt32, eager=True),
                default=distinct,
                return_dtype=pl.UInt32,
            )
            .fill_null(distinct)
        ).to_series()
        weights = frame.get_column(self.weight).cast(pl.Float64).to_numpy()
        sums = np.bincount(codes.to_numpy(), weights=weights, minlength=distinct + 1)
        return counts.with_columns(pl.Series("weight", sums[:distinct], dtype=pl.Float64))

    def build(self, counts: pl.DataFrame) -> tuple[StringStatistics, StringStatistics | None]:
        """Assemble the statistics (and their weighted form, with a weight column)."""
        plain = _summary(counts, "count")
        return plain, None if self.weight is None else _summary(counts, "weight")


def _summary(counts: pl.DataFrame, field: str) -> StringStatistics:
    import polars as pl

    total = counts[field].sum()
    lengths = counts.select((pl.col("value").str.len_chars() * pl.col(field)).sum()).item()
    order = ([field, "value"], [True, False])
    top = counts.sort(order[0], descending=order[1]).head(StringStatistics.MAX_TOP_VALUES)
    # The distinct values only, not the rows: cheap. Integers are numbers too.
    kinds = counts.select(
        pl.col("value").str.contains(NUMBER_PATTERN).alias("number"),
        pl.col("value").str.contains(INTEGER_PATTERN).alias("integer"),
        pl.col("value"),
        pl.col(field),
    )
    numbers, integers = kinds.select(
        pl.col(field).filter(pl.col(kind)).sum().alias(kind) for kind in ("number", "integer")
    ).row(0)
    others = (
        kinds.filter(~pl.col("number")).sort(order[0], descending=order[1])
        if numbers
        else kinds.clear()
    )
    return StringStatistics(
        distinct=counts.height,
        top_values=_values(top, field),
        avg_length=float(lengths) / float(total) if total else 0.0,
        numbers=float(numbers or 0),
        integers=float(integers or 0),
        non_numbers=_values(others.head(StringStatistics.MAX_NON_NUMBERS), field),
    )


def _values(counts: pl.DataFrame, field: str) -> list[ValueCount]:
    return [
        ValueCount(value, float(count))
        for value, count in counts.select("value", field).iter_rows()
    ]
