"""Parquet, Arrow IPC (Feather) and JSON-lines files, read as a stream of batches.

Parquet and Arrow files carry their schema: the first file's schema (with `column_types`
applied) is the stream's, and later files are cast to it. JSON lines are cut into
line-aligned chunks parsed in parallel, like CSV: the first chunk's inferred schema is
fixed for the rest, and a value of another type names its line.
"""

from __future__ import annotations

import re
from functools import partial
from typing import TYPE_CHECKING, Any

from shipyard.components.ingest.chunks import LineChunk, line_chunks, line_of_row, map_ordered
from shipyard.components.ingest.columns import cast_columns, check_named, check_unique
from shipyard.components.ingest.stream import Batch, BatchStream
from shipyard.errors import DataError

if TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterator, Sequence
    from pathlib import Path

    import pyarrow as pa

    from shipyard.components.ingest.options import ReadOptions

BATCH_ROWS = 128 * 1024
_JSON_ROW = re.compile(r"Column\(/([^)]*)\)(.*?) in row (\d+)", re.S)
_JSON_AT_ROW = re.compile(r"in row (\d+)")


def open_parquet(files: Sequence[Path], options: ReadOptions) -> BatchStream:
    """Open Parquet files as one stream of batches of up to `BATCH_ROWS` rows.

    Raises:
        DataError: A file is empty or not Parquet, or its columns differ from the first's.
        InvalidParameterError: `column_types` names a column the data does not have.
    """
    return _open_typed(files, options, _parquet_schema, _parquet_batches(None), kind="Parquet")


def open_arrow(files: Sequence[Path], options: ReadOptions) -> BatchStream:
    """Open Arrow IPC files (Feather v2, or the IPC stream format) as one stream.

    Raises:
        DataError: A file is empty or not Arrow IPC, or its columns differ from the first's.
        InvalidParameterError: `column_types` names a column the data does not have.
    """
    return _open_typed(files, options, _arrow_schema, _arrow_batches, kind="Arrow IPC")


def _open_arrow_reader(path: Path) -> Any:
    import pyarrow as pa

    source = pa.memory_map(str(path))
    try:
        return pa.ipc.open_file(source)
    except pa.ArrowInvalid:
        source.seek(0)
        return pa.ipc.open_stream(source)


def _arrow_batches(path: Path) -> Iterator[pa.RecordBatch]:
    import pyarrow as pa

    reader = _open_arrow_reader(path)
    if isinstance(reader, pa.ipc.RecordBatchFileReader):
        for index in range(reader.num_record_batches):
            yield reader.get_batch(index)
    else:
        yield from reader


def _parquet_schema(path: Path) -> pa.Schema:
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as handle:
        return handle.schema_arrow


def read_part(
    path: Path,
    schema: pa.Schema,
    *,
    format: str,
    row_groups: range | None = None,
    first_row: int = 1,
) -> Iterator[Batch]:
    """Read one Parquet or Arrow IPC file (or some of a Parquet file's row groups) as
    batches of the source's `schema`, checked and cast as `open_parquet` and `open_arrow` do.

    Args:
        path: The file.
        schema: The source's schema (the first file's, with `column_types`).
        format: "parquet" or "arrow".
        row_groups: The Parquet row groups to read; None: all.
        first_row: The 1-based row number, in the file, of the first row read.

    Raises:
        DataError: The file is empty or broken, lacks a column, or a value cannot be cast.
    """
    if format == "arrow":
        return _typed_batches(
            path, schema, _arrow_schema, _arrow_batches, kind="Arrow IPC", first_row=first_row
        )
    batches = _parquet_batches(row_groups)
    return _typed_batches(
        path, schema, _parquet_schema, batches, kind="Parquet", first_row=first_row
    )


def _parquet_batches(row_groups: range | None) -> Callable[[Path], Iterator[pa.RecordBatch]]:
    """Read a Parquet file's `row_groups` (None: all) in batches of `BATCH_ROWS` rows."""

    def batches(path: Path) -> Iterator[pa.RecordBatch]:
        import pyarrow.parquet as pq

        with pq.ParquetFile(path) as handle:
            groups = None if row_groups is None else list(row_groups)
            yield from handle.iter_batches(batch_size=BATCH_ROWS, row_groups=groups)

    return batches


def _arrow_schema(path: Path) -> pa.Schema:
    result: pa.Schema = _open_arrow_reader(path).schema
    return result


def _open_typed(
    files: Sequence[Path],
    options: ReadOptions,
    read_schema: Callable[[Path], pa.Schema],
    read_batches: Callable[[Path], Iterator[pa.RecordBatch]],
    *,
    kind: str,
) -> BatchStream:
    import pyarrow as pa

    first = _guarded(files[0], kind, lambda: read_schema(files[0]))
    check_unique(first.names, path=str(files[0]))
    check_named("column_types", options.column_types, first.names)
    schema = pa.schema(
        [field.with_type(options.column_types.get(field.name, field.type)) for field in first]
    )

    def generate() -> Iterator[Batch]:
        for path in files:
            yield from _typed_batches(path, schema, read_schema, read_batches, kind=kind)

    return BatchStream(schema, generate(), description=str(files[0]))


def _typed_batches(
    path: Path,
    schema: pa.Schema,
    read_schema: Callable[[Path], pa.Schema],
    read_batches: Callable[[Path], Iterator[pa.RecordBatch]],
    *,
    kind: str,
    first_row: int = 1,
) -> Iterator[Batch]:
    import pyarrow as pa

    _check_columns(path, _guarded(path, kind, partial(read_schema, path)), schema)
    row = first_row
    iterator = read_batches(path)
    while True:
        batch = _guarded(path, kind, partial(next, iterator, None))
        if batch is None:
            break
        table = pa.Table.from_batches([batch]).select(schema.names)
        table = cast_columns(table, _types(schema), origin=str(path), first_row=row)
        yield Batch(table, str(path), row)
        row += table.num_rows


def _types(schema: pa.Schema) -> dict[str, pa.DataType]:
    return {field.name: field.type for field in schema}


def _check_columns(path: Path, schema: pa.Schema, expected: pa.Schema) -> None:
    missing = [name for name in expected.names if name not in schema.names]
    if missing:
        raise DataError(
            f"the file lacks the columns {', '.join(missing)} that the first file has. Every "
            f"file of a source must have the same columns.",
            path=str(path),
        )


def _guarded(path: Path, kind: str, read: Callable[[], Any]) -> Any:
    """Call `read`, turning Arrow's errors about a broken file into a `DataError`."""
    import pyarrow as pa

    if path.stat().st_size == 0:
        raise DataError(f"the file is empty (0 bytes); expected {kind}.", path=str(path))
    try:
        return read()
    except (pa.ArrowException, OSError) as exc:
        raise DataError(
            f"cannot read the file as {kind}: {exc}. Check that it is a complete {kind} file, "
            f"or pass format= to read it as another format.",
            path=str(path),
        ) from None


def open_jsonl(files: Sequence[Path], options: ReadOptions) -> BatchStream:
    """Open JSON-lines files (one object per line) as one stream of batches.

    Raises:
        DataError: A file is empty, a line is not JSON, or a value's type changes.
        InvalidParameterError: `column_types` names a column the data does not have.
    """
    import pyarrow as pa

    chunks = _all_chunks(files, options)
    try:
        first = next(chunks)
        if not first.data.strip():
            raise DataError("the file is empty: it has no JSON lines.", path=str(first.path))
        table = parse_json(first, None)
        check_unique(table.column_names, path=str(first.path))
        check_named("column_types", options.column_types, table.column_names)
        fields = []
        for field in table.schema:
            kind = options.column_types.get(field.name, field.type)
            fields.append(field.with_type(pa.string() if pa.types.is_null(kind) else kind))
        schema = pa.schema(fields)
        table = cast_columns(table, _types(schema), origin=str(first.path), first_row=1)
    except BaseException:
        chunks.close()
        raise

    def generate() -> Iterator[Batch]:
        rows = {first.path: table.num_rows}
        yield Batch(table, str(first.path), 1)
        try:
            for chunk, future in map_ordered(
                lambda c: parse_json(c, schema), chunks, workers=options.workers
            ):
                parsed = future.result()
                start = rows.get(chunk.path, 0)
                rows[chunk.path] = start + parsed.num_rows
                if parsed.num_rows:
                    yield Batch(parsed, str(chunk.path), start + 1)
        finally:
            chunks.close()

    return BatchStream(schema, generate(), description=str(files[0]))


def _all_chunks(files: Sequence[Path], options: ReadOptions) -> Generator[LineChunk, None, None]:
    for path in files:
        yield from line_chunks(path, chunk_bytes=options.chunk_bytes, encoding=options.encoding)


def parse_json(chunk: LineChunk, schema: pa.Schema | None) -> pa.Table:
    """Parse a chunk of JSON lines, with `schema` fixed (None: inferred).

    Raises:
        DataError: A line is not a JSON object of the schema's fields; names the line.
    """
    import pyarrow as pa
    import pyarrow.json as pajson

    if not chunk.data.strip():
        return pa.table({}) if schema is None else schema.empty_table()
    parse = (
        pajson.ParseOptions(newlines_in_values=False)
        if schema is None
        else pajson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="error")
    )
    try:
        return pajson.read_json(
            pa.BufferReader(chunk.data),
            read_options=pajson.ReadOptions(
                use_threads=False, block_size=max(1 << 20, len(chunk.data) + 1)
            ),
            parse_options=parse,
        )
    except pa.ArrowException as exc:
        raise _json_error(chunk, str(exc)) from None


def _json_error(chunk: LineChunk, message: str) -> DataError:
    typed = _JSON_ROW.search(message)
    at_row = _JSON_AT_ROW.search(message)
    line = None if at_row is None else line_of_row(chunk, int(at_row.group(1)), skip_first=False)
    where = f"line {line}" if line is not None else f"lines from {chunk.first_line}"
    if typed is not None:
        column = typed.group(1)
        return DataError(
            f"mixed types: {where}{typed.group(2)} ({message}). Fix the value, or read the "
            f"column as text with column_types={{{column!r}: 'string'}}.",
            path=str(chunk.path),
            column=column,
        )
    return DataError(
        f"{where} is not a JSON object of known fields: {message}. Each line must hold one "
        f"JSON object with the fields of the first lines.",
        path=str(chunk.path),
    )
