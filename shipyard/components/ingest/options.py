"""Reading options shared by every format, checked once, with the shared parameter template.

`ReadOptions` is the validated form of ingest's (and `load_dataset`'s) reading parameters.
Checks here need no data; checks against the data's columns live in `columns.py`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shipyard.errors import InvalidParameterError

if TYPE_CHECKING:
    import pyarrow as pa

COMPONENT = "ingest"
FORMATS = ("csv", "parquet", "jsonl", "arrow")
TYPE_NAMES = (
    "string, int64, int32, float64, float32, bool, date, timestamp, timestamp[ms], category, binary"
)
DEFAULT_CHUNK_BYTES = 4 << 20
"""Text parsed per task: ~30,000 rows of a typical CSV; the first chunk infers the types."""

_ALIASES = {
    "str": "string",
    "text": "string",
    "utf8": "string",
    "int": "int64",
    "integer": "int64",
    "long": "int64",
    "float": "float64",
    "double": "float64",
    "boolean": "bool",
    "date": "date32",
    "datetime": "timestamp[us]",
    "timestamp": "timestamp[us]",
}


@dataclass(frozen=True)
class ReadOptions:
    """How to read the source: the format and every format-specific option.

    Attributes:
        format: One of `FORMATS`, or "auto" to tell each file's format by its extension.
        column_types: Arrow types by column name, overriding inference.
        delimiter: The CSV field separator, or None to detect it from the header line.
        header: Whether the first CSV line names the columns.
        column_names: Names for the CSV columns (required reading when `header` is False,
            else they replace the header's names).
        quote_char: The CSV quoting character, or None for no quoting.
        encoding: The text encoding of CSV and JSON-lines files.
        null_values: Strings that mean a missing value in CSV (None: Arrow's defaults,
            such as "", "NA", "NULL", "null", "nan").
        newlines_in_values: Whether quoted CSV values may span lines. Off by default: then
            a value with a line break means an unterminated quote and is reported.
        chunk_bytes: How many bytes of text one parse task reads: memory per worker.
        workers: Parse threads (default: the number of CPUs).
    """

    format: str = "auto"
    column_types: dict[str, pa.DataType] = field(default_factory=dict)
    delimiter: str | None = None
    header: bool = True
    column_names: tuple[str, ...] | None = None
    quote_char: str | None = '"'
    encoding: str = "utf-8"
    null_values: tuple[str, ...] | None = None
    newlines_in_values: bool = False
    chunk_bytes: int = DEFAULT_CHUNK_BYTES
    workers: int = field(default_factory=lambda: max(1, min(8, os.cpu_count() or 1)))


def read_options(
    *,
    format: str = "auto",
    column_types: dict[str, str] | None = None,
    delimiter: str | None = None,
    header: bool = True,
    column_names: list[str] | None = None,
    quote_char: str | None = '"',
    encoding: str = "utf-8",
    null_values: list[str] | None = None,
    newlines_in_values: bool = False,
    chunk_bytes: int | None = None,
    component: str = COMPONENT,
) -> ReadOptions:
    """Check reading parameters and return them as `ReadOptions`.

    Raises:
        InvalidParameterError: A parameter has a value it cannot take.
    """
    import codecs

    if format != "auto" and format not in FORMATS:
        raise invalid(component, "format", "one of 'auto', " + _quoted(FORMATS), format)
    if delimiter is not None and (len(delimiter) != 1 or delimiter in "\r\n"):
        raise invalid(component, "delimiter", "one character (not a line break)", delimiter)
    if quote_char is not None and (len(quote_char) != 1 or quote_char == delimiter):
        raise invalid(
            component, "quote_char", "one character other than the delimiter, or None", quote_char
        )
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise invalid(
            component, "encoding", "a Python codec name such as 'utf-8' or 'latin-1'", encoding
        ) from None
    if column_names is not None and len(set(column_names)) != len(column_names):
        raise invalid(component, "column_names", "a list of distinct names", column_names)
    if chunk_bytes is None:
        chunk_bytes = DEFAULT_CHUNK_BYTES
    if chunk_bytes < 64:
        raise invalid(component, "chunk_bytes", "an int >= 64", chunk_bytes)
    return ReadOptions(
        format=format,
        column_types=arrow_types(column_types or {}, component=component),
        delimiter=delimiter,
        header=header,
        column_names=None if column_names is None else tuple(column_names),
        quote_char=quote_char,
        encoding=encoding,
        null_values=None if null_values is None else tuple(null_values),
        newlines_in_values=newlines_in_values,
        chunk_bytes=chunk_bytes,
    )


def arrow_types(column_types: dict[str, str], *, component: str = COMPONENT) -> dict[str, Any]:
    """Turn `{"zip": "string"}` into Arrow types.

    Raises:
        InvalidParameterError: A type name is unknown.
    """
    import pyarrow as pa

    types: dict[str, Any] = {}
    for column, name in column_types.items():
        key = name.strip().lower()
        if key in ("category", "dictionary"):
            types[column] = pa.dictionary(pa.int32(), pa.string())
            continue
        try:
            types[column] = pa.type_for_alias(_ALIASES.get(key, key))
        except (ValueError, KeyError):
            raise invalid(
                component, f"column_types[{column!r}]", f"an Arrow type name ({TYPE_NAMES})", name
            ) from None
    return types


def type_name(arrow_type: Any) -> str:
    """Name an Arrow type the way `column_types` accepts it back."""
    import pyarrow as pa

    if pa.types.is_dictionary(arrow_type):
        return "category"
    text = str(arrow_type)
    return {"double": "float64", "float": "float32", "date32[day]": "date32"}.get(text, text)


def invalid(
    component: str, name: str, expected: str, value: Any, *, hint: str | None = None
) -> InvalidParameterError:
    """Build an `InvalidParameterError` with the shared template and an optional hint."""
    from shipyard.dsl.parameters import parameter_message  # the DSL loads on errors only

    return InvalidParameterError(parameter_message(component, name, expected, value), hint=hint)


def _quoted(names: tuple[str, ...]) -> str:
    return ", ".join(repr(name) for name in names)
