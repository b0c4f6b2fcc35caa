"""Partitions of a file source, read independently: what ingest on Ray Data hands each task.

A partition is a byte range of an uncompressed CSV or JSON-lines file, some row groups of a
Parquet file, or a whole file (compressed text, Arrow IPC, or text in an encoding whose line
feed is not the byte 0x0A). Partitions are numbered in reading order (files in order, ranges
and row groups in file order), so writing each one's rows to `part-<index>.parquet` of its
split keeps every split's rows in the order the local path writes them.

A byte range `[start, stop)` owns the lines that begin inside it: its reader skips the
partial line at `start` (the previous range finishes it) and reads on past `stop` to the end
of its last line. The ranges of a file thus cover each line exactly once, however the
boundaries fall. A range's reader does not know how many lines precede it in the file; it
numbers its lines from `first_line` (1 when not told), and counts its lines and rows, so that
the first failing partition can be read again with its true line and row numbers
(`ray_data`).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shipyard.components.ingest.chunks import LineChunk, line_chunks
from shipyard.components.ingest.sources import COMPRESSIONS, FileSource
from shipyard.errors import DataError

if TYPE_CHECKING:
    from collections.abc import Generator, Iterator

    import pyarrow as pa

    from shipyard.components.ingest.csv_reader import CsvLayout
    from shipyard.components.ingest.options import ReadOptions
    from shipyard.components.ingest.stream import Batch

_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Partition:
    """One independently readable part of a source.

    Attributes:
        index: Its place in reading order over every source of the ingest (from 0).
        split: The split all its rows go to (one source per split), or None.
        path: The file.
        format: "csv", "jsonl", "parquet" or "arrow".
        start: A text range's first byte, or a Parquet partition's first row group.
        stop: A text range's end byte, or a Parquet partition's end row group; -1 for the
            whole file.
        first_row: For Parquet, the 1-based row number of its first row in the file (known
            from the footer); 1 for the others, whose row numbers come from reading.
    """

    index: int
    split: str | None
    path: str
    format: str
    start: int = 0
    stop: int = -1
    first_row: int = 1

    @property
    def whole(self) -> bool:
        """Whether it is a whole file."""
        return self.stop < 0


@dataclass(frozen=True)
class SourceLayout:
    """What every partition of one source needs to read its rows as the local path does.

    Attributes:
        schema: The source's schema (inferred from its first chunk, or its first file's).
        target: The schema every source's rows are cast to: the first source's.
        options: The reading options.
        csv: The first CSV file's layout, with the inferred types fixed; None for others.
    """

    schema: pa.Schema
    target: pa.Schema
    options: ReadOptions
    csv: CsvLayout | None = None


@dataclass
class PartitionCount:
    """What a partition held: its lines (line feeds, for text) and its rows."""

    lines: int = 0
    rows: int = 0


def plan_partitions(
    sources: dict[str | None, FileSource], options: ReadOptions, *, partition_bytes: int
) -> list[Partition]:
    """Cut every file of `sources` into partitions of about `partition_bytes`, in order."""
    import pyarrow.parquet as pq

    partitions: list[Partition] = []

    def add(split: str | None, path: str, fmt: str, *, start: int = 0, **where: int) -> None:
        partitions.append(Partition(len(partitions), split, path, fmt, start, **where))

    for split, source in sources.items():
        for file in source.files:
            path = str(file)
            if source.format == "parquet":
                metadata = pq.read_metadata(file) if file.stat().st_size else None
                if metadata is None or metadata.num_row_groups == 0:
                    add(split, path, "parquet")
                    continue
                first, size, row = 0, 0, 1
                for group in range(metadata.num_row_groups):
                    size += metadata.row_group(group).total_byte_size
                    if size >= partition_bytes or group == metadata.num_row_groups - 1:
                        add(split, path, "parquet", start=first, stop=group + 1, first_row=row)
                        row += sum(metadata.row_group(g).num_rows for g in range(first, group + 1))
                        first, size = group + 1, 0
            elif source.format == "arrow" or not splittable(path, options.encoding):
                add(split, path, source.format)
            else:
                size = file.stat().st_size
                for start in range(0, max(size, 1), partition_bytes):
                    add(
                        split,
                        path,
                        source.format,
                        start=start,
                        stop=min(start + partition_bytes, size),
                    )
    return partitions


def splittable(path: str, encoding: str) -> bool:
    """Whether a text file can be cut at line feeds by byte offset: not compressed, and in
    an encoding that writes a line feed as the one byte 0x0A and never uses that byte
    otherwise (UTF-8, Latin-1, the Windows code pages; not UTF-16 or UTF-32)."""
    if path.lower().endswith(tuple(COMPRESSIONS)):
        return False
    return codecs.lookup(encoding).name in _BYTE_LINE_FEED or "\n,".encode(encoding) == b"\n,"


_BYTE_LINE_FEED = frozenset({"utf-8", "utf-8-sig", "ascii", "latin-1", "iso8859-1"})


def read_partition(
    partition: Partition,
    layout: SourceLayout,
    count: PartitionCount,
    *,
    first_line: int = 1,
    first_row: int = 1,
) -> Iterator[Batch]:
    """Read a partition as batches of the source's schema, counting its lines and rows.

    Args:
        partition: What to read.
        layout: The source's schema, options and CSV layout.
        count: Filled in as batches are read.
        first_line: The line number, in the file, of the partition's first line (text).
        first_row: The row number, in the file, of its first row (text).

    Raises:
        DataError: The data has a problem; it names the file, line (or row) and column.
        MixedTypesError: A value does not fit its column's inferred type.
    """
    from shipyard.components.ingest.stream import Batch

    if partition.format in ("parquet", "arrow"):
        from shipyard.components.ingest.formats import read_part

        groups = None if partition.whole else range(partition.start, partition.stop)
        for batch in read_part(
            _path(partition),
            layout.schema,
            format=partition.format,
            row_groups=groups,
            first_row=partition.first_row,
        ):
            count.rows += batch.table.num_rows
            yield batch
        return
    parse = _text_parser(partition, layout)
    for chunk in _chunks(partition, layout.options, first_line=first_line):
        table = parse(chunk)
        count.lines += chunk.data.count(b"\n")
        if table.num_rows:
            yield Batch(table, partition.path, first_row + count.rows)
        count.rows += table.num_rows


def _path(partition: Partition) -> Any:
    from pathlib import Path

    return Path(partition.path)


def _text_parser(partition: Partition, layout: SourceLayout) -> Any:
    if partition.format == "jsonl":
        from shipyard.components.ingest.formats import parse_json

        return lambda chunk: parse_json(chunk, layout.schema)
    from shipyard.components.ingest.csv_reader import file_layout, parse_chunk

    assert layout.csv is not None  # a CSV source has one
    csv = file_layout(_path(partition), layout.csv, layout.options)
    return lambda chunk: parse_chunk(chunk, csv, layout.options)


def _chunks(partition: Partition, options: ReadOptions, *, first_line: int) -> Iterator[LineChunk]:
    """The partition's line chunks, numbered from `first_line`; a range's first chunk has
    index 0 only at the start of the file (where a CSV header is)."""
    path = _path(partition)
    if partition.whole:
        yield from line_chunks(path, chunk_bytes=options.chunk_bytes, encoding=options.encoding)
        return
    line = first_line
    for index, data in enumerate(_range_blocks(partition, options.chunk_bytes)):
        text = data if _utf8(options.encoding) else _transcode(data, partition, options, line)
        if partition.start == 0 and index == 0 and text.startswith(_BOM):
            text = text[len(_BOM) :]
        yield LineChunk(path, text, line, index + (partition.start > 0))
        line += text.count(b"\n")


def _range_blocks(partition: Partition, chunk_bytes: int) -> Generator[bytes, None, None]:
    """Whole lines beginning in `[start, stop)`, in blocks of about `chunk_bytes`."""
    with open(partition.path, "rb") as file:
        position = partition.start
        if position > 0:
            file.seek(position - 1)
            position += len(file.readline()) - 1  # the line the previous range finishes
        pending = b""
        while position < partition.stop:
            block = file.read(min(chunk_bytes, partition.stop - position))
            if not block:
                break
            position += len(block)
            data = pending + block
            if position >= partition.stop:
                if not data.endswith(b"\n"):
                    data += file.readline()  # finish the last line this range owns
                pending = b""
                yield data
                return
            cut = data.rfind(b"\n")
            if cut < 0:
                pending = data
                continue
            pending = data[cut + 1 :]
            yield data[: cut + 1]
        if pending:
            yield pending


def _utf8(encoding: str) -> bool:
    return encoding.lower().replace("_", "-") in ("utf-8", "utf8", "utf-8-sig")


def _transcode(data: bytes, partition: Partition, options: ReadOptions, line: int) -> bytes:
    try:
        return data.decode(options.encoding).encode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"the bytes from line {line} on are not valid {options.encoding!r} text "
            f"({exc.reason} at byte {exc.start}). Pass the file's encoding.",
            path=partition.path,
        ) from None
