"""Ingest on Ray Data: a large file source read and split by Ray tasks, one per partition.

When the Ray engine runs `ingest` (`TaskContext.engine == "ray"`) and its files hold at least
`RAY_MIN_BYTES` bytes (`SHIPYARD_INGEST_RAY_MIN_BYTES` overrides it; 0: always), the files
are cut into partitions of about `PARTITION_BYTES` (`SHIPYARD_INGEST_RAY_PARTITION_BYTES`;
see `partitions`) and each partition is read, checked, split and written by one Ray Data
task next to the data, as `<split>/part-<partition>.parquet` of the staged `Examples`.

The result is the local path's (`writer`), row for row:

- The schema is the local one: the node itself reads the first chunk (CSV, JSON lines) or
  the first file's schema (Parquet, Arrow) exactly as the local reader does, type inference
  included, and every task parses with those types fixed.
- Rows go to the same splits: the split of a row is a function of its values (`splits`: a
  hash of the row or key columns, or the split column), whichever task reads it.
- Rows keep their order: `Examples.read` reads a split's parts by name, that is in
  partition order, and a partition's rows are in file order.
- Every guarantee of the local reader holds, because each task runs the local reader's own
  code on its lines (`csv_reader.parse_chunk`, `formats.parse_json`, `formats.read_part`):
  every line of a CSV is one row or an error, a value of the wrong type is named. A task
  that finds a problem reports only that it failed, with its line and row counts; the node
  reads the first failing partition again itself, told the line and row it starts at (the
  sum of the counts before it in its file), and raises the local path's error, naming the
  file, line and column. A word among numbers makes the column text (or float) and the
  source is read again, as locally (`writer.write_examples`).

A SQL query (`query=`) is always read on the node: a query has no partitions that Ray
could read apart and give the same rows in the same order. Ray is imported only here, and
only when the node already runs on Ray.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from shipyard.components.ingest.columns import describe_columns
from shipyard.components.ingest.partitions import (
    Partition,
    PartitionCount,
    SourceLayout,
    plan_partitions,
    read_partition,
)
from shipyard.components.ingest.sources import FileSource
from shipyard.components.ingest.splits import HashAssigner, HashSplit
from shipyard.components.ingest.writer import SplitWriter, divide_batch, output_schema
from shipyard.errors import ConfigError, DataError

if TYPE_CHECKING:
    import pyarrow as pa

    from shipyard.artifacts import Examples
    from shipyard.components.ingest.options import ReadOptions
    from shipyard.components.ingest.sources import Source
    from shipyard.components.ingest.splits import ColumnSplit

logger = logging.getLogger(__name__)

RAY_MIN_BYTES = 256 << 20
"""Sources of at least this many bytes (all files) are read on Ray Data under the Ray engine."""

RAY_MIN_BYTES_VARIABLE = "SHIPYARD_INGEST_RAY_MIN_BYTES"
"""The environment variable that overrides `RAY_MIN_BYTES` (0: every file source)."""

PARTITION_BYTES = 64 << 20
"""About how many bytes of a file one Ray task reads."""

PARTITION_BYTES_VARIABLE = "SHIPYARD_INGEST_RAY_PARTITION_BYTES"
"""The environment variable that overrides `PARTITION_BYTES`."""


def environment_bytes(variable: str, default: int, *, minimum: int = 0) -> int:
    """Return a byte count from the environment variable `variable`, or `default`.

    Raises:
        ConfigError: The variable is not a whole number >= `minimum`.
    """
    value = os.environ.get(variable)
    if value is None:
        return default
    if not value.strip().isdigit() or int(value) < minimum:
        raise ConfigError(
            f"The environment variable {variable} must be a whole number of bytes >= "
            f"{minimum}. Got {value!r} instead. Set it to e.g. {default}, or unset it."
        )
    return int(value)


def use_ray(sources: dict[str | None, Source]) -> bool:
    """Whether to read `sources` on Ray Data: the Ray engine runs the node, every source
    is files, and they hold at least `RAY_MIN_BYTES` (or the variable's) bytes."""
    from shipyard.dsl.context import current_task

    if current_task().engine != "ray":
        return False
    if not all(isinstance(source, FileSource) for source in sources.values()):
        return False
    size = sum(
        path.stat().st_size
        for source in sources.values()
        if isinstance(source, FileSource)
        for path in source.files
    )
    return size >= environment_bytes(RAY_MIN_BYTES_VARIABLE, RAY_MIN_BYTES)


def ray_write_examples(
    examples: Examples,
    sources: dict[str | None, Source],
    splitter: HashSplit | ColumnSplit | None,
    options: ReadOptions,
) -> pa.Schema:
    """Read every file source on Ray Data and write its rows into `examples`, split as asked.

    The contract of `writer._write_examples` (which `write_examples` calls instead when the
    node does not run on Ray): sets `examples.properties["rows"]` and `["columns"]` and
    returns the schema; a `MixedTypesError` goes up for `write_examples` to read again.

    Raises:
        DataError: The data cannot be read (file, line and column named), or a source has
            no rows.
        InvalidParameterError: `split_key` or `split_column` names no column.
    """
    import ray.data

    files = {name: source for name, source in sources.items() if isinstance(source, FileSource)}
    layouts = _layouts(files, splitter, options)
    schema = next(iter(layouts.values())).target
    partitions = plan_partitions(
        files,
        options,
        partition_bytes=environment_bytes(PARTITION_BYTES_VARIABLE, PARTITION_BYTES, minimum=1),
    )
    logger.info("ingest: reading %d partitions on Ray Data", len(partitions))
    items = [{"partition": json.dumps(vars(p))} for p in partitions]
    task = {"layouts": layouts, "splitter": splitter, "root": str(examples.path)}
    found = (
        ray.data.from_items(items, override_num_blocks=len(items))
        .map(cast("Any", _write_partition), fn_kwargs=task)
        .take_all()
    )
    results = sorted((json.loads(row["result"]) for row in found), key=lambda r: r["index"])
    failed = next((result for result in results if result["failed"]), None)
    if failed is not None:
        _raise_located(
            partitions,
            results,
            failed=failed,
            layouts=layouts,
            splitter=splitter,
            examples=examples,
        )
    rows = _split_rows(results, splitter)
    for split, source in files.items():
        if not sum(r["rows"] for p, r in zip(partitions, results, strict=True) if p.split == split):
            raise DataError(
                "the source has no rows (a header or schema only). Ingest refuses empty "
                "data: check that the export finished.",
                path=str(source.files[0]),
            )
    output = output_schema(schema, splitter)
    _write_empty_splits(examples, rows, output)
    examples.properties["rows"] = {name: rows[name] for name in sorted(rows)}
    examples.properties["columns"] = describe_columns(output)
    return output


def _layouts(
    sources: dict[str | None, FileSource],
    splitter: HashSplit | ColumnSplit | None,
    options: ReadOptions,
) -> dict[str | None, SourceLayout]:
    """Each source's schema (and CSV layout), learnt from its start as the local path does."""
    from shipyard.components.ingest.readers import open_source
    from shipyard.components.ingest.stream import BatchStream
    from shipyard.components.ingest.writer import check_same_columns, check_split_columns

    layouts: dict[str | None, SourceLayout] = {}
    first: pa.Schema | None = None
    for split, source in sources.items():
        csv = None
        if source.format == "csv":  # the layout too, and the first chunk read only once
            from shipyard.components.ingest.csv_reader import read_first

            csv, table = read_first(source.files[0], options)
            opened = BatchStream(table.schema, iter(()), description=str(source.files[0]))
        else:
            opened = open_source(source, options)
        with opened as stream:
            if first is None:
                first = check_split_columns(stream, splitter)
            else:
                check_same_columns(stream, first)
            layouts[split] = SourceLayout(stream.schema, first, options, csv)
    return layouts


def _write_partition(
    item: dict[str, Any],
    *,
    layouts: dict[str | None, SourceLayout],
    splitter: HashSplit | ColumnSplit | None,
    root: str,
) -> dict[str, Any]:
    """A Ray Data task: read, check, split and write one partition; report its counts."""
    partition = Partition(**json.loads(item["partition"]))
    layout = layouts[partition.split]
    count = PartitionCount()
    result: dict[str, Any] = {"index": partition.index, "failed": False, "split_rows": {}}
    try:
        result["split_rows"] = write_partition(partition, layout, splitter, root, count)
    except DataError as exc:  # read again by the node, which knows where it starts
        result["failed"] = True
        result["message"] = str(exc)
    result |= {"lines": count.lines, "rows": count.rows}
    return {"result": json.dumps(result)}


def write_partition(
    partition: Partition,
    layout: SourceLayout,
    splitter: HashSplit | ColumnSplit | None,
    root: str,
    count: PartitionCount,
    *,
    first_line: int = 1,
    first_row: int = 1,
) -> dict[str, int]:
    """Read one partition, split its rows and write `<root>/<split>/part-<index>.parquet`.

    Returns:
        The rows written per split.

    Raises:
        DataError: The data has a problem (see `partitions.read_partition`).
    """
    hashing = isinstance(splitter, HashSplit) and partition.split is None
    assigner = HashAssigner(splitter) if isinstance(splitter, HashSplit) and hashing else None
    schema = layout.target
    part = f"part-{partition.index:05d}.parquet"
    writer = SplitWriter(Path(root), output_schema(schema, splitter), part=part)
    try:
        with writer:
            batches = read_partition(
                partition, layout, count, first_line=first_line, first_row=first_row
            )
            for batch in batches:
                for name, rows in divide_batch(
                    batch,
                    schema=schema,
                    split=partition.split,
                    splitter=splitter,
                    assigner=assigner,
                ):
                    if rows.num_rows:
                        writer.write(name, rows)
    finally:
        if assigner is not None:
            assigner.close()
    return dict(writer.rows)


def _raise_located(
    partitions: list[Partition],
    results: list[dict[str, Any]],
    *,
    failed: dict[str, Any],
    layouts: dict[str | None, SourceLayout],
    splitter: HashSplit | ColumnSplit | None,
    examples: Examples,
) -> None:
    """Read the first failing partition again here, told where it starts, to raise its
    error with the file's own line and row numbers."""
    partition = partitions[failed["index"]]
    before = [
        result
        for p, result in zip(partitions, results, strict=True)
        if p.path == partition.path and p.index < partition.index
    ]
    write_partition(
        partition,
        layouts[partition.split],
        splitter,
        str(examples.path),
        PartitionCount(),
        first_line=1 + sum(r["lines"] for r in before),
        first_row=1 + sum(r["rows"] for r in before),
    )
    raise DataError(failed["message"])  # the problem did not come back when read again


def _split_rows(
    results: list[dict[str, Any]], splitter: HashSplit | ColumnSplit | None
) -> dict[str, int]:
    rows: dict[str, int] = (
        dict.fromkeys(splitter.names, 0) if isinstance(splitter, HashSplit) else {}
    )
    for result in results:
        for split, count in result["split_rows"].items():
            rows[split] = rows.get(split, 0) + count
    return rows


def _write_empty_splits(examples: Examples, rows: dict[str, int], schema: pa.Schema) -> None:
    """Give a split no partition wrote to an empty part, as the local path does."""
    import pyarrow.parquet as pq

    for split, count in rows.items():
        directory = examples.path / split
        if count == 0 and not any(directory.glob("*.parquet")):
            directory.mkdir(parents=True, exist_ok=True)
            pq.write_table(schema.empty_table(), directory / "part-00000.parquet")
