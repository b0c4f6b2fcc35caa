"""Statistics of string, categorical and boolean columns: distinct values, top values, lengths.

Booleans are categories with the values "true" and "false". Everything comes from one
grouped query per column (one row per distinct value, with its count and weight), run
together with the other passes: the number of its rows is `distinct`, its largest counts
the top values, and the average length is weighted by the counts. Top values are sorted by
count (most frequent first), ties by value, and keep at most
`StringStatistics.MAX_TOP_VALUES` entries: all of them for a column with fewer distinct
values, so a schema can read the whole domain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from shipyard.artifacts.statistics import StringStatistics, ValueCount
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
        """Return the query counting each distinct value: columns `value`, `count`, `weight`."""
        import polars as pl

        columns = [string_values(self.name, self.dtype).alias("value")]
        aggregates = [pl.len().alias("count")]
        if self.weight is not None:
            columns.append(pl.col(self.weight).cast(pl.Float64).alias("weight"))
            aggregates.append(pl.col("weight").sum())
        return frame.select(columns).drop_nulls("value").group_by("value").agg(aggregates)

    def build(self, counts: pl.DataFrame) -> tuple[StringStatistics, StringStatistics | None]:
        """Assemble the statistics (and their weighted form, with a weight column)."""
        plain = _summary(counts, "count")
        return plain, None if self.weight is None else _summary(counts, "weight")


def _summary(counts: pl.DataFrame, field: str) -> StringStatistics:
    import polars as pl

    total = counts[field].sum()
    lengths = counts.select((pl.col("value").str.len_chars() * pl.col(field)).sum()).item()
    top = counts.sort([field, "value"], descending=[True, False]).head(
        StringStatistics.MAX_TOP_VALUES
    )
    return StringStatistics(
        distinct=counts.height,
        top_values=[
            ValueCount(value, float(count))
            for value, count in top.select("value", field).iter_rows()
        ],
        avg_length=float(lengths) / float(total) if total else 0.0,
    )
