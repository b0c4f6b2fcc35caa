"""Guarantees every CSV read keeps: the input is text, and every line becomes one row.

Without `newlines_in_values` a CSV line (ended by a line feed, a carriage return or both, as
Arrow reads them) is one row, so a reader that parsed fewer rows than the file has lines
lost some: an unterminated quote swallowed the lines after it. Both readers (`fast_csv` for whole
files, `csv_reader` for streams) count the lines of what they parsed and compare; and before
parsing anything they check that the file is text at all: compressed or binary bytes, or a
header that is not valid UTF-8, are refused with the file named and the fix said.
"""

from __future__ import annotations

import csv
import re
from typing import TYPE_CHECKING

from shipyard.errors import DataError

if TYPE_CHECKING:
    from pathlib import Path

# Magic numbers of what people most often name `.csv` by mistake, and how to read each.
_SIGNATURES = (
    (b"\x1f\x8b", "gzip-compressed", "name it with a .gz suffix (data.csv.gz)"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed", "name it with a .zst suffix (data.csv.zst)"),
    (b"BZh", "bzip2-compressed", "name it with a .bz2 suffix (data.csv.bz2)"),
    (b"PK\x03\x04", "a zip archive", "unzip it and pass the CSV file inside"),
    (b"PAR1", "a Parquet file", "name it .parquet or pass format='parquet'"),
    (b"ARROW1", "an Arrow IPC file", "name it .arrow or pass format='arrow'"),
)
PROBE_BYTES = 64 << 10
"""How much of a file's start `check_text` looks at."""
_LINE_BREAK = re.compile(rb"\r\n|\r|\n")


def check_text(data: bytes, *, path: str, encoding: str = "utf-8") -> None:
    """Refuse bytes that are not CSV text: compressed, binary, or a non-UTF-8 header.

    Args:
        data: The start of the file, as the reader will parse it (decompressed and
            transcoded to UTF-8 already).
        path: The file, for the message.
        encoding: The encoding the user gave, for the message.

    Raises:
        DataError: The bytes are compressed or binary, or the first line is not UTF-8.
    """
    head = data[:PROBE_BYTES]
    for magic, kind, fix in _SIGNATURES:
        if head.startswith(magic):
            raise DataError(
                f"the file is {kind}, not CSV text (it starts with {head[:8]!r}). To read "
                f"it, {fix}.",
                path=path,
                hint="Pass a CSV, Parquet, JSON-lines or Arrow file.",
            )
    if b"\x00" in head:
        offset = head.index(b"\x00")
        raise DataError(
            f"the file is binary, not CSV text: byte {offset} is a NUL byte "
            f"({head[max(0, offset - 8) : offset + 8]!r}). Pass a CSV file, or the data in "
            f"a format ingest reads (Parquet, JSON lines, Arrow).",
            path=path,
        )
    end = head.find(b"\n")
    header = head if end < 0 else head[:end]
    try:
        header.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"line 1 is not valid {encoding!r} text: byte {exc.start} is "
            f"{header[exc.start : exc.start + 1]!r} ({header[:60]!r}). Pass the file's "
            f"encoding, e.g. encoding='latin-1' or encoding='cp1252'.",
            path=path,
        ) from None


def count_lines(data: bytes) -> int:
    """Return the number of lines of `data`: line breaks, plus an unterminated last line.

    A line break is a line feed, a carriage return, or the two together (Windows).
    """
    breaks = data.count(b"\n")
    if b"\r" in data:
        breaks += data.count(b"\r") - data.count(b"\r\n")
    return breaks + (1 if data and not data.endswith((b"\n", b"\r")) else 0)


def count_file_lines(path: Path, *, chunk_bytes: int = 16 << 20) -> int:
    """Return `count_lines` of a file's bytes, read in chunks (bounded memory).

    A carriage return ending one chunk and a line feed starting the next are one break.
    """
    breaks = 0
    previous = b""
    with path.open("rb") as file:
        while chunk := file.read(chunk_bytes):
            breaks += chunk.count(b"\n")
            if b"\r" in chunk:
                breaks += chunk.count(b"\r") - chunk.count(b"\r\n")
            if previous.endswith(b"\r") and chunk.startswith(b"\n"):
                breaks -= 1  # a CRLF split across the two chunks
            previous = chunk
    return breaks + (1 if previous and not previous.endswith((b"\n", b"\r")) else 0)


def count_rows(data: bytes) -> int:
    """Return the number of non-blank lines of `data`: the rows a CSV parser makes of it."""
    return sum(1 for line in _LINE_BREAK.split(data) if line)


def unclosed_quote(
    data: bytes, *, first_line: int, quote_char: str, delimiter: str
) -> tuple[int, int, str] | None:
    """Find the first line whose quote is never closed on it.

    A line of whole quoted values holds an even number of quote characters (an escaped
    quote is two), so the first line with an odd number opens a value it does not close.

    Args:
        data: Whole lines of a file.
        first_line: The line number of the first line of `data`.
        quote_char: The quote character.
        delimiter: The field delimiter.

    Returns:
        `(line number, 0-based field index, the line)` of the first such line, or None.
    """
    quote = quote_char.encode()
    start = 0
    line = first_line
    while start < len(data):
        end = data.find(b"\n", start)
        end = len(data) if end < 0 else end
        if data.count(quote, start, end) % 2 and _opens_field(data[start:end], quote, delimiter):
            text = data[start:end].decode("utf-8", errors="replace").rstrip("\r")
            fields = next(csv.reader([text], delimiter=delimiter, quotechar=quote_char), [])
            return line, max(len(fields) - 1, 0), text
        start = end + 1
        line += 1
    return None


def _opens_field(line: bytes, quote: bytes, delimiter: str) -> bool:
    """Whether a quote in `line` opens a field (a quote inside a bare value is a letter)."""
    return line.startswith(quote) or delimiter.encode() + quote in line


def check_row_count(data: bytes, rows: int, *, path: str, first_line: int, header: bool) -> None:
    """Raise unless `rows` parsed rows are exactly the non-blank lines of `data`.

    Args:
        data: Whole lines of a file, as parsed.
        rows: The rows the parser made of them.
        path: The file, for the message.
        first_line: The line number of the first line of `data`.
        header: Whether the first non-blank line is a header, not a row.

    Raises:
        DataError: The counts differ: the message names the lines and the likely cause.
    """
    expected = count_lines(data) - header
    if rows == expected:
        return
    expected = count_rows(data) - header
    if rows == expected:
        return  # blank lines, which make no row
    last = first_line + count_lines(data) - 1
    raise DataError(
        f"lines {first_line} to {last} hold {expected} rows but {rows} were read: a quoted "
        f"value runs across lines. Close its quote, or pass newlines_in_values=True if values "
        f"really span lines.",
        path=path,
    )
