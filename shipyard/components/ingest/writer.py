"""Stream batches into an `Examples` artifact: one Parquet file per split, bounded memory.

Each split gets one `pq.ParquetWriter` (`<split>/part-00000.parquet`). Rows are buffered
per split until `ROW_GROUP_ROWS` are ready, then written as one row group, so at most one
row group per split is held in memory besides the batches being parsed.
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING, Any

from shipyard.components.ingest.chunks import map_ordered
from shipyard.components.ingest.columns import (
    cast_columns,
    check_named,
    describe_columns,
    read_again,
)
from shipyard.components.ingest.readers import open_source
from shipyard.components.ingest.splits import ColumnSplit, HashAssigner, HashSplit, column_groups
from shipyard.errors import DataError, MixedTypesError

if TYPE_CHECKING:
    from pathlib import Path

    import pyarrow as pa

    from shipyard.artifacts import Examples
    from shipyard.components.ingest.options import ReadOptions
    from shipyard.components.ingest.sources import Source
    from shipyard.components.ingest.stream import Batch, BatchStream

ROW_GROUP_ROWS = 64 * 1024
PART = "part-00000.parquet"


class SplitWriter:
    """One Parquet writer per split, opened on first use; use as a context manager."""

    def __init__(self, root: Path, schema: pa.Schema, *, part: str = PART) -> None:
        """Write `<root>/<split>/<part>` files of `schema`."""
        self.root = root
        self.schema = schema
        self.part = part
        self.rows: dict[str, int] = {}
        self._writers: dict[str, Any] = {}
        self._pending: dict[str, list[pa.Table]] = {}
        self._pending_rows: dict[str, int] = {}

    def write(self, split: str, table: pa.Table) -> None:
        """Queue rows for `split`; write a row group once enough are queued."""
        self.rows[split] = self.rows.get(split, 0) + table.num_rows
        if not table.num_rows:
            self._open(split)
            return
        self._pending.setdefault(split, []).append(table)
        self._pending_rows[split] = self._pending_rows.get(split, 0) + table.num_rows
        if self._pending_rows[split] >= ROW_GROUP_ROWS:
            self._flush(split)

    def close(self) -> None:
        """Write what is queued and close every file."""
        try:
            for split in list(self._pending):
                self._flush(split)
        finally:
            for writer in self._writers.values():
                writer.close()
            self._writers.clear()

    def _open(self, split: str) -> Any:
        import pyarrow.parquet as pq

        writer = self._writers.get(split)
        if writer is None:
            directory = self.root / split
            directory.mkdir(parents=True, exist_ok=True)
            writer = pq.ParquetWriter(
                directory / self.part, self.schema, use_dictionary=_dictionary_columns(self.schema)
            )
            self._writers[split] = writer
        return writer

    def _flush(self, split: str) -> None:
        import pyarrow as pa

        tables = self._pending.pop(split, [])
        self._pending_rows.pop(split, None)
        if tables:
            self._open(split).write_table(pa.concat_tables(tables), row_group_size=ROW_GROUP_ROWS)

    def __enter__(self) -> SplitWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def write_examples(
    examples: Examples,
    sources: dict[str | None, Source],
    splitter: HashSplit | ColumnSplit | None,
    options: ReadOptions,
) -> pa.Schema:
    """Read every source and write its rows into `examples`, split as asked.

    `sources` maps a split name to its source, or `None` to one source that `splitter`
    divides. Sets `examples.properties["rows"]` and `["columns"]`; returns the schema.
    A word (or a float) found after the rows a column's type was inferred from makes the
    column text (or float): what was written is discarded and everything is read again.

    Raises:
        DataError: The data cannot be read, or a source has no rows.
        InvalidParameterError: `split_key` or `split_column` names no column.
    """
    from shipyard.components.ingest.ray_data import use_ray

    write = _write_examples
    if use_ray(sources):
        from shipyard.components.ingest.ray_data import ray_write_examples

        write = ray_write_examples
    declared = set(options.column_types)
    while True:
        try:
            return write(examples, sources, splitter, options)
        except MixedTypesError as error:
            options = read_again(options, error, declared=declared)
            for split in examples.path.iterdir():
                shutil.rmtree(split)


def _write_examples(
    examples: Examples,
    sources: dict[str | None, Source],
    splitter: HashSplit | ColumnSplit | None,
    options: ReadOptions,
) -> pa.Schema:
    writer: SplitWriter | None = None
    schema: pa.Schema | None = None
    try:
        for split, source in sources.items():
            with open_source(source, options) as stream:
                if schema is None:
                    schema = check_split_columns(stream, splitter)
                    writer = SplitWriter(examples.path, output_schema(schema, splitter))
                    _start_splits(writer, splitter)
                else:
                    check_same_columns(stream, schema)
                rows = _copy(
                    stream, _opened(writer), split, splitter, schema=schema, workers=options.workers
                )
            if rows == 0:
                raise DataError(
                    "the source has no rows (a header or schema only). Ingest refuses empty "
                    "data: check that the export finished, or the query's WHERE clause.",
                    path=stream.description,
                )
    finally:
        if writer is not None:
            writer.close()
    written = _opened(writer)
    examples.properties["rows"] = {name: written.rows[name] for name in sorted(written.rows)}
    examples.properties["columns"] = describe_columns(written.schema)
    return written.schema


def _opened(writer: SplitWriter | None) -> SplitWriter:
    if writer is None:
        raise DataError("ingest was given no source to read.")
    return writer


def _copy(
    stream: BatchStream,
    writer: SplitWriter,
    split: str | None,
    splitter: HashSplit | ColumnSplit | None,
    *,
    schema: pa.Schema,
    workers: int,
) -> int:
    """Split batches in a thread pool (hashing is the costly part) and write them in order."""
    assigner = HashAssigner(splitter) if isinstance(splitter, HashSplit) and split is None else None

    def divide(batch: Batch) -> list[tuple[str, pa.Table]]:
        return divide_batch(batch, schema=schema, split=split, splitter=splitter, assigner=assigner)

    rows = 0
    try:
        for batch, future in map_ordered(divide, stream, workers=workers):
            rows += batch.table.num_rows
            for name, part in future.result():
                writer.write(name, part)
    finally:
        if assigner is not None:
            assigner.close()
    return rows


def divide_batch(
    batch: Batch,
    *,
    schema: pa.Schema,
    split: str | None,
    splitter: HashSplit | ColumnSplit | None,
    assigner: HashAssigner | None,
) -> list[tuple[str, pa.Table]]:
    """Cast a batch to the source's schema and divide its rows among the splits.

    Args:
        batch: The rows, and where they came from (for errors).
        schema: The source's schema.
        split: The split every row goes to, when each split has its own source.
        splitter: How to split one source.
        assigner: The hash assigner, for a `HashSplit`.

    Returns:
        `(split name, rows)` pairs, in split order.

    Raises:
        DataError: A value cannot be cast, or a split column's value names no split.
    """
    import pyarrow.compute as pc

    table = _conform(batch, schema)
    if split is not None:
        return [(split, table)]
    if assigner is not None:
        names = assigner.split.names
        if len(names) == 1 or not table.num_rows:
            return [(names[0], table)]
        indices = assigner.assign(table)
        return [(name, table.filter(pc.equal(indices, i))) for i, name in enumerate(names)]
    if isinstance(splitter, ColumnSplit):
        groups = column_groups(
            table, splitter.column, origin=batch.origin, first_row=batch.first_row
        )
        return list(groups.items())
    return []


def _conform(batch: Batch, schema: pa.Schema) -> pa.Table:
    table = batch.table
    if table.schema.equals(schema):
        return table
    table = table.select(schema.names)
    types = {field.name: field.type for field in schema}
    return cast_columns(table, types, origin=batch.origin, first_row=batch.first_row)


def check_split_columns(stream: BatchStream, splitter: HashSplit | ColumnSplit | None) -> pa.Schema:
    names = stream.schema.names
    if isinstance(splitter, HashSplit) and splitter.key:
        check_named("split_key", splitter.key, names)
    if isinstance(splitter, ColumnSplit):
        check_named("split_column", [splitter.column], names)
    return stream.schema


def check_same_columns(stream: BatchStream, schema: pa.Schema) -> None:
    missing = [name for name in schema.names if name not in stream.schema.names]
    extra = [name for name in stream.schema.names if name not in schema.names]
    if missing or extra:
        raise DataError(
            f"the columns differ from the first split's source: missing "
            f"{', '.join(missing) or 'none'}; extra {', '.join(extra) or 'none'}. Every split's "
            f"source must have the same columns.",
            path=stream.description,
        )


def output_schema(schema: pa.Schema, splitter: HashSplit | ColumnSplit | None) -> pa.Schema:
    if isinstance(splitter, ColumnSplit):
        return schema.remove(schema.get_field_index(splitter.column))
    return schema


def _start_splits(writer: SplitWriter, splitter: HashSplit | ColumnSplit | None) -> None:
    """Create every hash split up front, so an empty one still exists (with 0 rows)."""
    if isinstance(splitter, HashSplit):
        for name in splitter.names:
            writer.write(name, writer.schema.empty_table())


def _dictionary_columns(schema: pa.Schema) -> list[str]:
    """Dictionary-encode text columns only: numbers rarely repeat enough to pay for it."""
    import pyarrow as pa

    return [
        field.name
        for field in schema
        if pa.types.is_string(field.type)
        or pa.types.is_large_string(field.type)
        or pa.types.is_dictionary(field.type)
    ]
