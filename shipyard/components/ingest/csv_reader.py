"""CSV files, read in line-aligned chunks parsed in parallel, with errors that name the line.

The first chunk of the first file (about `chunk_bytes`, 16 MiB by default) is parsed with
type inference; every later chunk, and every later file, is parsed with those types fixed,
so all batches share one schema. A column of numbers with words among them is text: in the
first chunk it stays text, with a warning; a word (or a float among integers) in a later
chunk raises `MixedTypesError` (file, line and column named), upon which readers read the
source again with the column as text or float (`columns.read_again`), unless `column_types`
declared it. Columns that are empty throughout the first chunk are read as strings. Files
read one after the other; each must have the same columns as the first (in any order).

Without `newlines_in_values`, a line break inside a value can only come from an
unterminated quote, and is reported as such, naming its line and column; and every chunk's
row count is checked against its lines (`integrity`), so no row is ever dropped silently.
Bytes that are not CSV text (compressed, binary, a non-UTF-8 header) are refused up front.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from shipyard.components.ingest.chunks import LineChunk, line_chunks, line_of_row, map_ordered
from shipyard.components.ingest.columns import (
    check_named,
    check_unique,
    first_failure,
    mixed_types_error,
    warn_if_mixed,
)
from shipyard.components.ingest.integrity import (
    PROBE_BYTES,
    check_row_count,
    check_text,
    unclosed_quote,
)
from shipyard.components.ingest.options import type_name
from shipyard.components.ingest.stream import Batch, BatchStream
from shipyard.errors import DataError

if TYPE_CHECKING:
    from collections.abc import Generator, Iterator, Sequence
    from pathlib import Path

    import pyarrow as pa

    from shipyard.components.ingest.options import ReadOptions

_DELIMITERS = (",", "\t", ";", "|")
_CONVERSION = re.compile(
    r"In CSV column #(\d+): (?:Row #\d+: )?CSV conversion error to (.+?): (.*)$", re.S
)
_INVALID_VALUE = re.compile(r"invalid value '(.*)'$", re.S)


@dataclass(frozen=True)
class CsvLayout:
    """How to parse the chunks of one file."""

    file_names: tuple[str, ...]
    names: tuple[str, ...]
    types: dict[str, Any]
    delimiter: str
    header: bool


def open_csv(files: Sequence[Path], options: ReadOptions) -> BatchStream:
    """Open CSV files as one stream of batches; reads the first chunk to learn the schema.

    Raises:
        DataError: The first file is empty, has duplicate column names, or its first
            chunk has a problem (ragged row, bad quoting, non-UTF-8 bytes, mixed types).
        InvalidParameterError: `column_types` names a column the file does not have.
    """
    chunks = line_chunks(files[0], chunk_bytes=options.chunk_bytes, encoding=options.encoding)
    try:
        first = next(chunks)
        layout, table = _read_first(first, options)
    except BaseException:
        chunks.close()
        raise
    batches = _batches(files, first, table, chunks, layout=layout, options=options)
    return BatchStream(table.schema, batches, description=str(files[0]))


def read_first(path: Path, options: ReadOptions) -> tuple[CsvLayout, pa.Table]:
    """Read the first chunk of `path` as `open_csv` does: the layout, with the types it
    inferred fixed, and the chunk's rows (the source's schema is theirs).

    Raises:
        DataError: As `open_csv`, for the first chunk.
        InvalidParameterError: `column_types` names a column the file does not have.
    """
    chunks = line_chunks(path, chunk_bytes=options.chunk_bytes, encoding=options.encoding)
    try:
        return _read_first(next(chunks), options)
    finally:
        chunks.close()


def _read_first(first: LineChunk, options: ReadOptions) -> tuple[CsvLayout, pa.Table]:
    layout = _first_layout(first, options)
    table = _finish_first(first, parse_chunk(first, layout, options, threads=True), layout)
    return replace(layout, types={f.name: f.type for f in table.schema}), table


def file_layout(path: Path, first: CsvLayout, options: ReadOptions) -> CsvLayout:
    """Return the layout of a file of the source from its header, given the first file's.

    Reads only the start of the file (its first line, and what `check_text` looks at).

    Raises:
        DataError: The file is empty, not text, or its header names other columns.
    """
    chunks = line_chunks(path, chunk_bytes=PROBE_BYTES, encoding=options.encoding)
    try:
        return _next_layout(next(chunks), first, options)
    finally:
        chunks.close()


def parse_chunk(
    chunk: LineChunk, layout: CsvLayout, options: ReadOptions, *, threads: bool = False
) -> pa.Table:
    """Parse a chunk with the layout's types, checked: every line one row, no quote left
    open; errors name the chunk's file and line. `threads`: let Arrow parse in threads.

    Raises:
        DataError: The chunk has a problem (ragged row, bad quoting, non-UTF-8 bytes).
        MixedTypesError: A value does not fit its column's type (see `columns.read_again`).
    """
    try:
        parsed = _parse(chunk, layout, options, threads=threads)
    except Exception as exc:
        raise _diagnose(chunk, layout, options, exc) from None
    _check_line_breaks(chunk, parsed, layout, options)
    _check_rows(chunk, parsed, options)
    return parsed


def _batches(
    files: Sequence[Path],
    first: LineChunk,
    table: pa.Table,
    chunks: Generator[LineChunk, None, None],
    *,
    layout: CsvLayout,
    options: ReadOptions,
) -> Iterator[Batch]:
    rows = {files[0]: table.num_rows}
    yield Batch(table, str(first.path), 1)
    layouts = {files[0]: layout}

    def work() -> Iterator[LineChunk]:
        yield from chunks
        for path in files[1:]:
            rest = line_chunks(path, chunk_bytes=options.chunk_bytes, encoding=options.encoding)
            try:
                head = next(rest)
                layouts[path] = _next_layout(head, layout, options)
                yield head
                yield from rest
            finally:
                rest.close()

    def parse(chunk: LineChunk) -> pa.Table:
        return parse_chunk(chunk, layouts[chunk.path], options)

    try:
        for chunk, future in map_ordered(parse, work(), workers=options.workers):
            parsed = future.result()
            start = rows.get(chunk.path, 0)
            rows[chunk.path] = start + parsed.num_rows
            if parsed.num_rows:
                yield Batch(parsed, str(chunk.path), start + 1)
    finally:
        chunks.close()


def _first_layout(chunk: LineChunk, options: ReadOptions) -> CsvLayout:
    path = str(chunk.path)
    if not chunk.data.strip():
        raise DataError(
            "the file is empty: it has no header line and no rows.", path=path, row=None
        )
    check_text(chunk.data, path=path, encoding=options.encoding)
    delimiter = options.delimiter or sniff_delimiter(chunk.data)
    fields = _header_fields(chunk, delimiter, options)
    if options.column_names is not None:
        if len(options.column_names) != len(fields):
            raise DataError(
                f"column_names gives {len(options.column_names)} names but line "
                f"{chunk.first_line} has {len(fields)} fields.",
                path=path,
            )
        names = options.column_names
    elif options.header:
        names = fields
    else:
        names = tuple(f"column_{i + 1}" for i in range(len(fields)))
    check_unique(names, path=f"{path}, line {chunk.first_line}")
    check_named("column_types", options.column_types, names)
    return CsvLayout(names, names, dict(options.column_types), delimiter, options.header)


def _next_layout(chunk: LineChunk, layout: CsvLayout, options: ReadOptions) -> CsvLayout:
    """The layout of a later file: its header must name the first file's columns."""
    if not chunk.data.strip():
        raise DataError(
            "the file is empty: it has no header line and no rows.", path=str(chunk.path)
        )
    check_text(chunk.data, path=str(chunk.path), encoding=options.encoding)
    if not options.header or options.column_names is not None:
        return replace(layout, file_names=layout.names)
    fields = _header_fields(chunk, layout.delimiter, options)
    check_unique(fields, path=f"{chunk.path}, line 1")
    missing = [name for name in layout.names if name not in fields]
    extra = [name for name in fields if name not in layout.names]
    if missing or extra:
        raise DataError(
            f"the header differs from the first file's ({', '.join(layout.names)}): "
            + "; ".join(
                part
                for part in (
                    f"missing {', '.join(missing)}" if missing else "",
                    f"extra {', '.join(extra)}" if extra else "",
                )
                if part
            )
            + ". Every file of a source must have the same columns.",
            path=f"{chunk.path}, line 1",
        )
    return replace(layout, file_names=fields)


def _header_fields(chunk: LineChunk, delimiter: str, options: ReadOptions) -> tuple[str, ...]:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    end = chunk.data.find(b"\n")
    line = chunk.data if end < 0 else chunk.data[: end + 1]
    try:
        table = pacsv.read_csv(
            pa.BufferReader(line),
            read_options=pacsv.ReadOptions(autogenerate_column_names=not options.header),
            parse_options=_parse_options(delimiter, options),
        )
    except pa.ArrowInvalid as exc:
        raise DataError(
            f"cannot parse line {chunk.first_line} as a CSV header ({line[:60]!r}): {exc}. "
            f"Check the delimiter ({delimiter!r}), quote_char and encoding parameters.",
            path=str(chunk.path),
        ) from None
    return tuple(table.column_names)


def sniff_delimiter(data: bytes) -> str:
    """Pick the delimiter that appears most often in the first line (',' when none does)."""
    end = data.find(b"\n")
    line = data[: end if end >= 0 else len(data)]
    counts = {d: line.count(d.encode()) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _parse_options(delimiter: str, options: ReadOptions, handler: Any = None) -> Any:
    import pyarrow.csv as pacsv

    return pacsv.ParseOptions(
        delimiter=delimiter,
        quote_char=options.quote_char if options.quote_char is not None else False,
        newlines_in_values=options.newlines_in_values,
        invalid_row_handler=handler,
    )


def _parse(
    chunk: LineChunk,
    layout: CsvLayout,
    options: ReadOptions,
    *,
    threads: bool,
    types: dict[str, Any] | None = None,
    handler: Any = None,
) -> pa.Table:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    convert: dict[str, Any] = {
        "column_types": layout.types if types is None else types,
        "include_columns": list(layout.names),
        # An empty (or "NA", "NULL", ...) cell is missing in a text column too, as in TFX.
        "strings_can_be_null": True,
    }
    if options.null_values is not None:
        convert["null_values"] = list(options.null_values)
    return pacsv.read_csv(
        pa.BufferReader(chunk.data),
        read_options=pacsv.ReadOptions(
            use_threads=threads,
            block_size=1 << 20,
            column_names=list(layout.file_names),
            skip_rows=1 if _has_header(chunk, options) else 0,
        ),
        parse_options=_parse_options(layout.delimiter, options, handler),
        convert_options=pacsv.ConvertOptions(**convert),
    )


def _check_rows(chunk: LineChunk, table: pa.Table, options: ReadOptions) -> None:
    """Every line of the chunk became one row (blank lines none), or raise."""
    if not options.newlines_in_values:
        check_row_count(
            chunk.data,
            table.num_rows,
            path=str(chunk.path),
            first_line=chunk.first_line,
            header=_has_header(chunk, options),
        )


def _has_header(chunk: LineChunk, options: ReadOptions) -> bool:
    return chunk.index == 0 and options.header


def _finish_first(chunk: LineChunk, table: pa.Table, layout: CsvLayout) -> pa.Table:
    """Settle the inferred types: empty columns become strings; refuse bytes; numbers with
    words among them stay text (with a warning)."""
    import pyarrow as pa

    path = str(chunk.path)
    for index, field in enumerate(table.schema):
        if field.name in layout.types:
            continue
        if pa.types.is_null(field.type):
            table = table.set_column(
                index, field.with_type(pa.string()), table.column(index).cast(pa.string())
            )
        elif pa.types.is_binary(field.type):
            raise _utf8_error(chunk, layout, field.name, table.column(index).combine_chunks())
        elif pa.types.is_string(field.type):
            warn_if_mixed(
                table.column(index).combine_chunks(),
                field.name,
                path=path,
                line_of=lambda row: _line_of(chunk, row, layout),
            )
    return table


def _check_line_breaks(
    chunk: LineChunk, table: pa.Table, layout: CsvLayout, options: ReadOptions
) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    if options.newlines_in_values or options.quote_char is None:
        return
    for field, column in zip(table.schema, table.columns, strict=True):
        if not pa.types.is_string(field.type):
            continue
        index = pc.index(pc.fill_null(pc.match_substring(column, "\n"), False), True).as_py()
        if index >= 0:
            quote = _unclosed_quote_error(chunk, layout, options)
            if quote is not None:
                raise quote
            value = str(column[index].as_py())
            raise DataError(
                f"a quoted value runs past the end of line {_line_of(chunk, index, layout)} "
                f"({value[:40]!r}...): a quote {options.quote_char!r} is not closed. Close "
                f"it, or pass newlines_in_values=True if values really span lines.",
                path=str(chunk.path),
                column=field.name,
            )


def _diagnose(
    chunk: LineChunk, layout: CsvLayout, options: ReadOptions, exc: Exception
) -> DataError:
    """Turn an Arrow parse or conversion error in `chunk` into one that names the line."""
    import pyarrow as pa

    message = str(exc)
    path = str(chunk.path)
    conversion = _CONVERSION.search(message)
    if conversion is not None:
        column = layout.file_names[int(conversion.group(1))]
        target = layout.types.get(column)
        if "UTF8" in conversion.group(3):
            types = dict(layout.types) | {column: pa.binary()}
            values = _parse(chunk, layout, options, threads=False, types=types)[column]
            return _utf8_error(chunk, layout, column, values.combine_chunks())
        value_match = _INVALID_VALUE.search(conversion.group(3))
        value = value_match.group(1) if value_match else conversion.group(3)
        types = dict(layout.types) | {column: pa.string()}
        text = _parse(chunk, layout, options, threads=False, types=types)[column]
        index = _index_of(text, value)
        origin = "column_types" if column in options.column_types else "the first rows"
        return mixed_types_error(
            column,
            value,
            path=path,
            line=None if index is None else _line_of(chunk, index, layout),
            row=None,
            expected=f"{type_name(target)} values (from {origin})",
        )
    quote = _unclosed_quote_error(chunk, layout, options)
    if quote is not None:
        return quote
    if "columns, got" in message:
        return _ragged_error(chunk, layout, options, message)
    return DataError(
        f"cannot parse the CSV text from line {chunk.first_line} on: {message}. Check the "
        f"delimiter ({layout.delimiter!r}), quote_char and encoding parameters.",
        path=path,
    )


def _unclosed_quote_error(
    chunk: LineChunk, layout: CsvLayout, options: ReadOptions
) -> DataError | None:
    if options.newlines_in_values or options.quote_char is None:
        return None
    found = unclosed_quote(
        chunk.data,
        first_line=chunk.first_line,
        quote_char=options.quote_char,
        delimiter=layout.delimiter,
    )
    if found is None:
        return None
    line, field, text = found
    column = layout.file_names[field] if field < len(layout.file_names) else None
    return DataError(
        f"line {line} opens a quoted value that it does not close ({text[:80]!r}): a quote "
        f"{options.quote_char!r} is not closed. Close it, or pass newlines_in_values=True if "
        f"values really span lines.",
        path=str(chunk.path),
        column=column,
    )


def _ragged_error(
    chunk: LineChunk, layout: CsvLayout, options: ReadOptions, message: str
) -> DataError:
    rows: list[Any] = []

    def record(row: Any) -> str:
        if not rows:
            rows.append(row)
        return "skip"

    _parse(chunk, layout, options, threads=False, handler=record)
    if not rows:
        return DataError(f"cannot parse the CSV text: {message}", path=str(chunk.path))
    row = rows[0]
    index = row.number - 1 - (1 if _has_header(chunk, options) else 0) if row.number else None
    line = None if index is None else _line_of(chunk, index, layout)
    where = f"line {line}" if line is not None else "a line"
    return DataError(
        f"ragged row: {where} has {row.actual_columns} fields, but the header has "
        f"{row.expected_columns} ({row.text[:80]!r}). Fix the row; check the delimiter "
        f"({layout.delimiter!r}) and quoting.",
        path=str(chunk.path),
    )


def _utf8_error(chunk: LineChunk, layout: CsvLayout, column: str, values: pa.Array) -> DataError:
    import pyarrow as pa

    index = first_failure(values, lambda part: part.cast(pa.string()))
    line = None if index is None else _line_of(chunk, index, layout)
    shown = values[index].as_py() if index is not None else b""
    return DataError(
        f"line {line} is not valid UTF-8 ({bytes(shown)[:40]!r}). Pass the file's encoding, "
        f"e.g. encoding='latin-1' or encoding='cp1252'.",
        path=str(chunk.path),
        column=column,
    )


def _index_of(values: pa.ChunkedArray, value: str) -> int | None:
    import pyarrow.compute as pc

    index: int = pc.index(values, value).as_py()
    return None if index < 0 else index


def _line_of(chunk: LineChunk, row: int, layout: CsvLayout) -> int:
    return line_of_row(chunk, row, skip_first=chunk.index == 0 and layout.header)
