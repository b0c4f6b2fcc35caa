"""Read a plain CSV file with Polars' parser where it gives exactly Arrow's table, faster.

`fast_csv` reads a whole file with Arrow's multithreaded reader. Polars' reader parses the
same text in about half the CPU time, but it reads some text differently, so it is used
only where the two provably agree, and the table is the same to the last bit:

- the types are Arrow's, inferred from the file's first 4 MB by Arrow itself, and only
  int64, float64 and text (Polars parses every other type differently, e.g. dates);
  a value after those 4 MB that does not fit its column's type makes Polars fail, and the
  file is then read as before;
- missing values are Arrow's null strings ("", "NA", "NaN", "null", ...), in every column;
- the text has none of what Polars reads otherwise, which one pass over the bytes (run
  while Polars parses) rules out: a quote character, a carriage return, a field that
  starts with a space or tab (Arrow refuses a number of spaces, Polars reads it as
  missing), a plus sign where there are integer columns (Arrow reads "+1" as a float,
  Polars as an integer);
- every line is one row with every field: the bytes hold exactly one line per row plus
  the header, and exactly `columns - 1` delimiters per line (Polars reads a blank line as
  a row of nulls, and a short row with its last fields missing, without a word).

Anything else returns None, and `fast_csv` reads the file with Arrow as before.
"""

from __future__ import annotations

import codecs
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shipyard.components.ingest.columns import starts_like_numbers, warn_if_mixed

if TYPE_CHECKING:
    from pathlib import Path

    import polars as pl
    import pyarrow as pa

_CHUNK_BYTES = 16 << 20
_BLANK_STARTS = (b" ", b"\t")
_POLARS_TYPES = {"int64": "Int64", "double": "Float64", "string": "String", "null": "String"}


@dataclass(frozen=True)
class PlainText:
    """What one pass over a file's bytes says about it (see `scan_plain`)."""

    lines: int
    delimiters: int
    quote: bool
    carriage_return: bool
    plus: bool
    blank_starts: int
    """Fields that start with a space or a tab (counted where the file holds one at all)."""

    def fits(self, *, rows: int, columns: int, integers: bool) -> bool:
        """Whether Polars read this text as Arrow would: see the module's docstring."""
        return (
            columns >= 2
            and not self.quote
            and not self.carriage_return
            and self.blank_starts == 0
            and not (integers and self.plus)
            and self.lines == rows + 1
            and self.delimiters == self.lines * (columns - 1)
        )


def scan_plain(path: Path, *, delimiter: bytes = b",") -> PlainText:
    """Count, in one pass of bounded memory, what `PlainText.fits` needs of a file.

    Args:
        path: The file.
        delimiter: The field delimiter, one byte.
    """
    lines = delimiters = blank_starts = 0
    quote = carriage_return = plus = False
    previous = b""
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK_BYTES):
            lines += chunk.count(b"\n")
            delimiters += chunk.count(delimiter)
            # Whether a byte is there at all: `in` finds it at memchr's speed, `count` is
            # a few times slower.
            quote = quote or b'"' in chunk
            carriage_return = carriage_return or b"\r" in chunk
            plus = plus or b"+" in chunk
            if b" " in chunk or b"\t" in chunk:
                for blank in _BLANK_STARTS:
                    blank_starts += chunk.count(delimiter + blank) + chunk.count(b"\n" + blank)
                if previous.endswith((delimiter, b"\n")) and chunk.startswith(_BLANK_STARTS):
                    blank_starts += 1  # a field starting in the next chunk
            previous = chunk
    if previous and not previous.endswith(b"\n"):
        lines += 1  # an unterminated last line
    return PlainText(lines, delimiters, quote, carriage_return, plus, blank_starts)


def read_plain(path: Path, head: bytes, null_values: list[str]) -> pa.Table | None:
    """Read `path` with Polars if the result is provably Arrow's; None otherwise.

    Args:
        path: A CSV file with a header, comma-delimited, UTF-8.
        head: The file's first 4 MB (all of it if smaller): Arrow infers the types from it.
        null_values: Arrow's null strings.

    Returns:
        The table, with Arrow's types (empty columns as text), or None.
    """
    import polars as pl
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if not head or head.startswith((codecs.BOM_UTF8, b"\n", b"\r", *_BLANK_STARTS)):
        return None
    whole = len(head) < (4 << 20)
    cut = head if whole else head[: head.rfind(b"\n") + 1]
    try:
        sample = pacsv.read_csv(
            pa.BufferReader(cut),
            read_options=pacsv.ReadOptions(use_threads=False, block_size=len(cut) + 1),
            convert_options=pacsv.ConvertOptions(strings_can_be_null=True),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None
    names = sample.column_names
    kinds = [str(field.type) for field in sample.schema]
    if len(set(names)) != len(names) or any(kind not in _POLARS_TYPES for kind in kinds):
        return None
    if not whole and "null" in kinds:
        return None  # Arrow would type the column from later blocks
    types = {
        name: getattr(pl, _POLARS_TYPES[kind]) for name, kind in zip(names, kinds, strict=True)
    }
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="shipyard-scan") as pool:
        scanning = pool.submit(scan_plain, path)
        frame = _read_nulls(path, types, null_values)
        text = scanning.result()
    if frame is None:
        return None
    if frame.height == 0 or not text.fits(
        rows=frame.height, columns=len(names), integers="int64" in kinds
    ):
        return None
    schema = pa.schema(
        [
            field.with_type(pa.string()) if kind == "null" else field
            for field, kind in zip(sample.schema, kinds, strict=True)
        ]
    )
    table = frame.to_arrow().cast(schema)
    for name, kind in zip(names, kinds, strict=True):
        if kind == "string" and starts_like_numbers(sample.column(name)):
            # Every line is one row, so row r is on line r + 2.
            warn_if_mixed(table.column(name), name, path=str(path), line_of=lambda row: row + 2)
    return table


def _read_nulls(path: Path, types: dict[str, Any], null_values: list[str]) -> pl.DataFrame | None:
    """Read with Arrow's null strings; None if Polars refuses the text.

    Matching every field against the null strings doubles Polars' time, so the file is
    read with empty fields as the only missing values, and the others are settled after:
    in a text column they are replaced by nulls; in a number column they either fail to
    parse ("NA") or parse as NaN ("nan"): then, and only then, the file is read again
    matching every field, so a NaN that is not a null string ("NAN") stays a NaN.
    """
    import polars as pl

    try:
        frame = pl.read_csv(path, schema=types, quote_char='"')
    except (pl.exceptions.PolarsError, OSError):
        frame = None
    floats = [name for name, dtype in types.items() if dtype == pl.Float64]
    if frame is not None and not (
        floats and frame.select(pl.any_horizontal(pl.col(floats).is_nan().any())).item()
    ):
        texts = [name for name, dtype in types.items() if dtype == pl.String]
        nulls = pl.Series(null_values, dtype=pl.String)
        return frame.with_columns(
            pl.when(pl.col(name).is_in(nulls.implode()))
            .then(None)
            .otherwise(pl.col(name))
            .alias(name)
            for name in texts
        )
    try:
        return pl.read_csv(path, schema=types, null_values=null_values, quote_char='"')
    except (pl.exceptions.PolarsError, OSError):
        return None
