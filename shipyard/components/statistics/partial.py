"""Mergeable partial statistics: computed per partition of a table, merged, then assembled.

A table too large for one machine (or one process) is summarized partition by partition, in
two passes that run anywhere (`shipyard.components.statistics.ray_data` runs them as Ray
Data tasks) and whose results are merged where the statistics are assembled:

1. `first_partial` of each partition: counts, missing, NaN and infinities, min and max,
   mean and variance (merged by Chan's parallel formula), weights' sums, list lengths, and
   each string column's distinct values with their counts; per slice too.
2. `second_partial` of each partition, given the merged first pass and where the partition
   starts (`group_offsets`): the equal-width histograms over the same edges (from the
   global min and max) and the rows of the quantiles' sample. The sample is the rows whose
   hash of their index in the table falls below a threshold set from the global count, as
   the local path picks it, so the partitions together pick exactly the local path's rows.
3. `finish`: the merged passes assembled by the local path's own code (`summary.assemble`).

The statistics JSON is the local path's on the same data, partitioned in any way, with the
rows in the same order: every count, min, max, zero, histogram count, string figure and
quantile (the same sample, so exact where the local path is, and the same estimate where it
samples) is the same. Sums of floating-point numbers are added in another order, so mean,
standard deviation, list lengths' average and the weighted figures may differ in their
last digits (relative 1e-12): `STATISTICS_RELATIVE_TOLERANCE`.

Example:
    >>> parts = [table.slice(0, 500), table.slice(500)]
    >>> stats = partitioned_statistics(parts, StatisticsOptions())
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shipyard.components.statistics.dataset import (
    HISTOGRAM_BUCKETS,
    MAX_SLICES_PER_COLUMN,
    QUANTILE_SAMPLE_ROWS,
    check_column,
    check_range,
    check_slice_type,
    check_weight_type,
    count_bad_weights,
    slice_groups,
    to_polars,
    too_many_slices,
    weights_error,
)
from shipyard.components.statistics.summary import (
    assemble,
    first_row,
    plan_columns,
    sample_hashes,
    screen_row,
    second_pass,
    value_counts,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    import polars as pl
    import pyarrow as pa

    from shipyard.artifacts.statistics import DatasetStatistics
    from shipyard.components.statistics.numeric import Row
    from shipyard.components.statistics.summary import Columns

STATISTICS_RELATIVE_TOLERANCE = 1e-12
"""How far a merged mean, standard deviation or weighted sum may be from the local path's."""

ALL_ROWS = ""
"""The group key of all rows of a table (a slice's is `"column=value"`)."""

_MINIMUM = {"min", "len_min"}
_MAXIMUM = {"max", "len_max"}
_MOMENTS = {"mean", "std", "len_mean"}


@dataclass(frozen=True)
class StatisticsOptions:
    """The parameters of `compute_statistics` that partials need.

    Attributes:
        weight_column: A numeric column of example weights, or None.
        slice_columns: Columns whose values slice the table.
        histogram_buckets: Buckets of the equal-width histograms.
        quantile_sample_rows: Quantiles are exact up to this many finite values per column.
    """

    weight_column: str | None = None
    slice_columns: tuple[str, ...] = ()
    histogram_buckets: int = HISTOGRAM_BUCKETS
    quantile_sample_rows: int = QUANTILE_SAMPLE_ROWS

    def columns(self, schema: Mapping[str, pl.DataType]) -> Columns:
        """Return what to compute for each column of a table of Polars schema `schema`."""
        return plan_columns(
            schema,
            weight=self.weight_column,
            buckets=self.histogram_buckets,
            rows=self.quantile_sample_rows,
        )

    def check(self, table: pa.Table) -> None:
        """Check the options against a table (or an empty one of the data's schema).

        Raises:
            InvalidParameterError: A column does not exist or does not fit, or a number is
                out of range; the message is the local path's.
        """
        check_range("histogram_buckets", self.histogram_buckets, 1, 1000)
        check_range("quantile_sample_rows", self.quantile_sample_rows, 1, None)
        columns = list(table.column_names)
        for column in filter(None, [self.weight_column, *self.slice_columns]):
            parameter = "weight_column" if column == self.weight_column else "slice_columns"
            check_column(parameter, column, columns)
        frame = to_polars(table.slice(0, 0))
        if self.weight_column is not None:
            check_weight_type(frame, self.weight_column)
        for column in self.slice_columns:
            check_slice_type(frame, column)


@dataclass(frozen=True)
class GroupPartial:
    """The first pass over one group of rows (all rows, or one slice) of one partition.

    Attributes:
        num_rows: The group's rows in the partition.
        screen: NaN and infinities of the float columns.
        first: Counts, moments, min and max, weights' sums, list lengths.
        counts: Each string column's distinct values with their counts (and weights).
    """

    num_rows: int
    screen: Row
    first: Row
    counts: dict[str, pl.DataFrame]


@dataclass(frozen=True)
class FirstPartial:
    """The first pass over one partition, or several merged (`merge_first`).

    Attributes:
        schema: The table's Polars schema.
        groups: The group key (`ALL_ROWS` or `"column=value"`) -> its figures.
        slices: A slice's group key -> its column and value.
        bad_weights: Weights missing, NaN, infinite or negative.
    """

    schema: dict[str, pl.DataType]
    groups: dict[str, GroupPartial]
    slices: dict[str, tuple[str, Any]] = field(default_factory=dict)
    bad_weights: int = 0


@dataclass(frozen=True)
class SecondPartial:
    """The second pass over one partition, or several merged (`merge_second`).

    Attributes:
        rows: The group key -> its histogram sums (and weighted deviations).
        samples: The group key -> each sample's values (`"0:sample"`), sorted.
    """

    rows: dict[str, Row]
    samples: dict[str, dict[str, pl.Series]]


def first_partial(table: pa.Table, options: StatisticsOptions) -> FirstPartial:
    """Compute the first pass over one partition: every group's counts and moments.

    Raises:
        InvalidParameterError: A slice column has more than `MAX_SLICES_PER_COLUMN` values
            in this partition alone.
    """
    frame = to_polars(table)
    groups, slices = {}, {}
    for key, rows, value in _groups(frame, options):
        columns = options.columns(rows.schema)
        screen = screen_row(rows, columns)
        columns = columns.screened(screen)
        counts = value_counts(rows, columns)
        groups[key] = GroupPartial(rows.height, screen, first_row(rows, columns), counts)
        if value is not None:
            slices[key] = value
    weight = options.weight_column
    bad = 0 if weight is None else count_bad_weights(frame, weight)
    return FirstPartial(dict(frame.schema), groups, slices, bad)


def merge_first(parts: Sequence[FirstPartial]) -> FirstPartial:
    """Merge the first passes of partitions, in the partitions' order."""
    import polars as pl

    groups: dict[str, list[GroupPartial]] = {}
    for part in parts:
        for key, group in part.groups.items():
            groups.setdefault(key, []).append(group)
    merged = {}
    for key, found in groups.items():
        first = found[0].first
        for group in found[1:]:
            first = _merge_rows(first, group.first)
        counts = {
            name: _merge_counts(pl.concat([group.counts[name] for group in found]))
            for name in found[0].counts
        }
        merged[key] = GroupPartial(
            num_rows=sum(group.num_rows for group in found),
            screen=_add_rows(group.screen for group in found),
            first=first,
            counts=counts,
        )
    slices = {key: value for part in parts for key, value in part.slices.items()}
    return FirstPartial(
        schema=parts[0].schema if parts else {},
        groups=merged,
        slices=slices,
        bad_weights=sum(part.bad_weights for part in parts),
    )


def group_offsets(parts: Sequence[FirstPartial]) -> list[dict[str, int]]:
    """Return, per partition, where each of its groups starts among that group's rows."""
    seen: dict[str, int] = {}
    offsets = []
    for part in parts:
        offsets.append({key: seen.get(key, 0) for key in part.groups})
        for key, group in part.groups.items():
            seen[key] = seen.get(key, 0) + group.num_rows
    return offsets


def second_partial(
    table: pa.Table, merged: FirstPartial, offsets: dict[str, int], options: StatisticsOptions
) -> SecondPartial:
    """Compute the second pass over one partition: histograms and the quantiles' sample.

    Args:
        table: The partition.
        merged: The first pass merged over every partition (`merge_first`).
        offsets: Where each of the partition's groups starts (`group_offsets`).
        options: The statistics' parameters.
    """
    frame = to_polars(table)
    rows: dict[str, Row] = {}
    samples: dict[str, dict[str, pl.Series]] = {}
    for key, group_rows, _ in _groups(frame, options):
        group = merged.groups[key]
        columns = options.columns(merged.schema).screened(group.screen)
        hashes = sample_hashes(offsets[key], group_rows.height)
        rows[key], sampled = second_pass(group_rows, columns, group.first, hashes)
        samples[key] = {name: sampled.get_column(name)[0] for name in sampled.columns}
    return SecondPartial(rows, samples)


def merge_second(parts: Sequence[SecondPartial]) -> SecondPartial:
    """Merge the second passes of partitions: add the sums, gather and sort the samples."""
    import polars as pl

    rows: dict[str, list[Row]] = {}
    samples: dict[str, dict[str, list[pl.Series]]] = {}
    for part in parts:
        for key, row in part.rows.items():
            rows.setdefault(key, []).append(row)
        for key, found in part.samples.items():
            for name, values in found.items():
                samples.setdefault(key, {}).setdefault(name, []).append(values)
    return SecondPartial(
        rows={key: _add_rows(found) for key, found in rows.items()},
        samples={
            key: {name: pl.concat(values).sort() for name, values in found.items()}
            for key, found in samples.items()
        },
    )


def finish(
    first: FirstPartial, second: SecondPartial, options: StatisticsOptions
) -> DatasetStatistics:
    """Assemble the statistics from the merged passes, slices sorted by value.

    Raises:
        DataError: Weights are missing, NaN, infinite or negative.
        InvalidParameterError: A slice column has too many distinct values.
    """
    if first.bad_weights and options.weight_column is not None:
        raise weights_error(first.bad_weights, options.weight_column)
    for column in options.slice_columns:
        distinct = sum(1 for name, _ in first.slices.values() if name == column)
        if distinct > MAX_SLICES_PER_COLUMN:
            raise too_many_slices(column, str(distinct))
    stats = _assemble_group(first, second, ALL_ROWS, options)
    ordered = sorted(
        first.slices.items(),
        key=lambda item: (options.slice_columns.index(item[1][0]), item[1][1]),
    )
    slices = {key: _assemble_group(first, second, key, options) for key, _ in ordered}
    return dataclasses.replace(stats, slices=slices) if slices else stats


def partitioned_statistics(
    tables: Iterable[pa.Table], options: StatisticsOptions
) -> DatasetStatistics:
    """Compute the statistics of the concatenation of `tables` partition by partition, here.

    The same as `compute_dataset_statistics` of the whole table, within
    `STATISTICS_RELATIVE_TOLERANCE`, holding one partition at a time... twice: the
    partitions are read once per pass, so `tables` must be a sequence or a re-iterable.

    Raises:
        InvalidParameterError: An option does not fit the data.
        DataError: The weights are not all finite and >= 0, or a table cannot be read.
    """
    partitions = list(tables)
    if partitions:
        options.check(partitions[0])
    firsts = [first_partial(table, options) for table in partitions]
    merged = merge_first(firsts)
    offsets = group_offsets(firsts)
    seconds = [
        second_partial(table, merged, where, options)
        for table, where in zip(partitions, offsets, strict=True)
    ]
    return finish(merged, merge_second(seconds), options)


def _groups(
    frame: pl.DataFrame, options: StatisticsOptions
) -> list[tuple[str, pl.DataFrame, tuple[str, Any] | None]]:
    """Return the partition's groups: all rows, then each slice of each slice column."""
    groups: list[tuple[str, pl.DataFrame, tuple[str, Any] | None]] = [(ALL_ROWS, frame, None)]
    for column in options.slice_columns:
        distinct = frame.get_column(column).drop_nulls().n_unique()
        if distinct > MAX_SLICES_PER_COLUMN:
            raise too_many_slices(column, f"more than {MAX_SLICES_PER_COLUMN}")
        groups += [(key, rows, (column, value)) for key, value, rows in slice_groups(frame, column)]
    return groups


def _assemble_group(
    first: FirstPartial, second: SecondPartial, key: str, options: StatisticsOptions
) -> DatasetStatistics:
    import polars as pl

    group = first.groups[key]
    columns = options.columns(first.schema).screened(group.screen)
    found = second.samples.get(key, {})
    samples = pl.DataFrame([values.implode().alias(name) for name, values in found.items()])
    return assemble(
        columns,
        num_rows=group.num_rows,
        screen=group.screen,
        first=group.first,
        second_row=second.rows.get(key, {}),
        samples=samples,
        counts=group.counts,
    )


def _merge_counts(counts: pl.DataFrame) -> pl.DataFrame:
    """Add up the counts (and weights) of each distinct value; values sorted."""
    import polars as pl

    sums = [pl.col(name).sum() for name in counts.columns if name != "value"]
    return counts.group_by("value").agg(sums).sort("value")


def _add_rows(rows: Iterable[Row]) -> Row:
    """Add up rows of sums, name by name (None counts as nothing)."""
    total: Row = {}
    for row in rows:
        for name, value in row.items():
            total[name] = _add(total.get(name), value)
    return total


def _merge_rows(a: Row, b: Row) -> Row:
    """Merge two first-pass rows: sums, extremes and moments (Chan's parallel formula)."""
    merged: Row = {}
    for name, value in b.items():
        prefix, _, kind = name.rpartition(":")
        mine = a.get(name)
        if kind in _MINIMUM:
            merged[name] = _extreme(min, mine, value)
        elif kind in _MAXIMUM:
            merged[name] = _extreme(max, mine, value)
        elif kind not in _MOMENTS:
            merged[name] = _add(mine, value)
    for name in b:
        prefix, _, kind = name.rpartition(":")
        if kind == "mean":
            n_a, n_b = a[f"{prefix}:finite"] or 0, b[f"{prefix}:finite"] or 0
            std = f"{prefix}:std"
            merged[name], merged[std] = _chan((n_a, a[name], a[std]), (n_b, b[name], b[std]))
        elif kind == "len_mean":
            n_a, n_b = a[f"{prefix}:count"] or 0, b[f"{prefix}:count"] or 0
            merged[name] = _chan((n_a, a[name], 0.0), (n_b, b[name], 0.0))[0]
    return merged


def _chan(a: tuple[int, Any, Any], b: tuple[int, Any, Any]) -> tuple[float | None, float | None]:
    """Merge the (count, mean, population standard deviation) of two parts (Chan et al.)."""
    (n_a, mean_a, std_a), (n_b, mean_b, std_b) = a, b
    if not n_b or mean_b is None:
        return mean_a, std_a
    if not n_a or mean_a is None:
        return mean_b, std_b
    n = n_a + n_b
    delta = float(mean_b) - float(mean_a)
    mean = float(mean_a) + delta * n_b / n
    m2 = float(std_a or 0.0) ** 2 * n_a + float(std_b or 0.0) ** 2 * n_b
    m2 += delta * delta * n_a * n_b / n
    return mean, math.sqrt(max(m2 / n, 0.0))


def _extreme(pick: Any, a: Any, b: Any) -> Any:
    if a is None:
        return b
    return a if b is None else pick(a, b)


def _add(a: Any, b: Any) -> Any:
    if a is None:
        return b
    return a if b is None else a + b
