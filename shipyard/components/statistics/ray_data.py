"""Statistics of a large split on Ray Data: partial statistics per Parquet row group, merged.

When `compute_statistics` runs on a Ray cluster (`running_on_ray`) and a split holds at
least `RAY_MIN_ROWS` rows (read from the Parquet footers, without reading the data;
`SHIPYARD_STATISTICS_RAY_MIN_ROWS` overrides it), its statistics are computed by Ray Data
tasks, each reading one row group of the split's Parquet files next to the data:

1. `first_partial` of every row group, merged here (`merge_first`);
2. `second_partial` of every row group, given the merged first pass (without the string
   counts, which the second pass does not need) and where the row group starts among the
   split's rows; merged here and assembled (`finish`).

The partitions are the Parquet row groups in the order `Examples.read` reads them (files by
name, row groups in order), not Ray Data's own blocks: a row's index in the split picks it
for the quantiles' sample, so each partition must know where it starts, and the same rows
must be the same partition in both passes. The statistics are the local path's (see
`partial`). Ray is imported only here, and only when the node already runs on Ray.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shipyard.components.statistics.partial import (
    FirstPartial,
    SecondPartial,
    StatisticsOptions,
    finish,
    first_partial,
    group_offsets,
    merge_first,
    merge_second,
    second_partial,
)
from shipyard.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

    import pyarrow as pa

    from shipyard.artifacts.statistics import DatasetStatistics

RAY_MIN_ROWS = 1_000_000
"""Splits with at least this many rows are summarized on Ray Data when the node runs on Ray."""

RAY_MIN_ROWS_VARIABLE = "SHIPYARD_STATISTICS_RAY_MIN_ROWS"
"""The environment variable that overrides `RAY_MIN_ROWS` (0: every split)."""


@dataclass(frozen=True)
class RowGroup:
    """One partition: a row group of one Parquet file of a split.

    Attributes:
        path: The Parquet file.
        index: The row group's index in the file.
        rows: Its rows.
    """

    path: str
    index: int
    rows: int

    def read(self) -> pa.Table:
        """Read the row group."""
        import pyarrow.parquet as pq

        with pq.ParquetFile(self.path) as file:
            return file.read_row_group(self.index)


def running_on_ray() -> bool:
    """Whether this process is connected to a Ray cluster (never imports Ray itself)."""
    ray = sys.modules.get("ray")
    return ray is not None and bool(ray.is_initialized())


def ray_min_rows() -> int:
    """Return the row threshold: `SHIPYARD_STATISTICS_RAY_MIN_ROWS`, or `RAY_MIN_ROWS`.

    Raises:
        ConfigError: The variable is not a whole number >= 0.
    """
    value = os.environ.get(RAY_MIN_ROWS_VARIABLE)
    if value is None:
        return RAY_MIN_ROWS
    if not value.strip().isdigit():
        raise ConfigError(
            f"The environment variable {RAY_MIN_ROWS_VARIABLE} must be a whole number of "
            f"rows >= 0. Got {value!r} instead. Set it to e.g. 1000000, or unset it."
        )
    return int(value)


def row_groups(directory: Path) -> list[RowGroup]:
    """Return the row groups of a split's Parquet files, in the order they are read."""
    import pyarrow.parquet as pq

    groups = []
    for path in sorted(directory.glob("*.parquet")):
        metadata = pq.read_metadata(path)
        groups += [
            RowGroup(str(path), index, metadata.row_group(index).num_rows)
            for index in range(metadata.num_row_groups)
        ]
    return groups


def use_ray(directory: Path) -> bool:
    """Whether the split in `directory` is summarized on Ray: on Ray, and large enough."""
    if not running_on_ray():
        return False
    rows = sum(group.rows for group in row_groups(directory))
    return rows > 0 and rows >= ray_min_rows()


def ray_statistics(directory: Path, options: StatisticsOptions) -> DatasetStatistics:
    """Compute the statistics of the split in `directory` on the connected Ray cluster.

    Args:
        directory: The split's folder of Parquet files (`Examples.path / split`).
        options: The statistics' parameters.

    Returns:
        The statistics `compute_dataset_statistics` gives of the whole split (see `partial`
        for the figures that agree to rounding only).

    Raises:
        InvalidParameterError: An option does not fit the data.
        DataError: The weights are not all finite and >= 0.
    """
    import pyarrow.parquet as pq
    import ray.data

    groups = row_groups(directory)
    options.check(pq.read_schema(groups[0].path).empty_table())
    items = [dataclasses.asdict(group) for group in groups]
    firsts = _run(ray.data.from_items(items, override_num_blocks=len(items)), _first, options)
    merged = merge_first(firsts)
    shipped = dataclasses.replace(
        merged,
        groups={key: dataclasses.replace(group, counts={}) for key, group in merged.groups.items()},
    )
    merged_ref = ray.put(shipped)
    offsets = group_offsets(firsts)
    # JSON: Ray Data makes a column of a dict's keys, and each row group has its own slices
    items = [
        {**item, "offsets": json.dumps(where)} for item, where in zip(items, offsets, strict=True)
    ]
    blocks = ray.data.from_items(items, override_num_blocks=len(items))
    seconds = _run(blocks, _second, options, merged=merged_ref)
    return finish(merged, merge_second(seconds), options)


def _run(dataset: Any, task: Any, options: StatisticsOptions, **extra: Any) -> list[Any]:
    """Map `task` over the row groups (one Ray task each); return the partials in order."""
    found = dataset.map(task, fn_kwargs={"options": options, **extra}).take_all()
    ordered = sorted(found, key=lambda row: (row["path"], row["index"]))
    return [row["partial"] for row in ordered]


def _first(item: dict[str, Any], *, options: StatisticsOptions) -> dict[str, Any]:
    group = RowGroup(item["path"], item["index"], item["rows"])
    partial: FirstPartial = first_partial(group.read(), options)
    return {"path": group.path, "index": group.index, "partial": partial}


def _second(item: dict[str, Any], *, options: StatisticsOptions, merged: Any) -> dict[str, Any]:
    import ray

    group = RowGroup(item["path"], item["index"], item["rows"])
    first: FirstPartial = ray.get(merged)
    partial: SecondPartial = second_partial(
        group.read(), first, json.loads(item["offsets"]), options
    )
    return {"path": group.path, "index": group.index, "partial": partial}
