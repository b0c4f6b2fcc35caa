"""`load_dataset`: read anything ingest can read into one in-memory Arrow table.

For commands that look at data directly (`shipyard stats DATA`, `shipyard schema DATA`,
`shipyard validate DATA`): the same readers, checks and error messages as `ingest`, with
no splitting and nothing written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shipyard.components.ingest import fast_csv
from shipyard.components.ingest.columns import read_again
from shipyard.components.ingest.options import invalid, read_options
from shipyard.components.ingest.plan import SourceSpec, plan_sources
from shipyard.components.ingest.readers import open_source
from shipyard.components.ingest.sources import FileSource, QuerySource
from shipyard.errors import MixedTypesError

if TYPE_CHECKING:
    from pathlib import Path

    import pyarrow as pa

    from shipyard.components.ingest.options import ReadOptions

_READ_OPTIONS = (
    "column_types",
    "delimiter",
    "header",
    "column_names",
    "quote_char",
    "encoding",
    "null_values",
    "newlines_in_values",
)
_SOURCE_OPTIONS = ("query", "span", "span_range", "version", "last_n_spans")
_DATABASE_SUFFIXES = (".duckdb", ".ddb", ".db", ".sqlite", ".sqlite3")
_NAME = "load_dataset"


def load_dataset(source: str | Path, *, format: str = "auto", **options: Any) -> pa.Table:
    """Read a file, glob, directory, span pattern or SQL query into one Arrow table.

    Args:
        source: A file (CSV, also .gz/.bz2/.zst; Parquet; JSON lines; Arrow IPC), a glob,
            a directory, a `{SPAN}` pattern, or a database: a DuckDB/SQLite file or a
            SQLAlchemy URL, read with `query=`.
        format: "auto" (by extension), "csv", "parquet", "jsonl" or "arrow".
        **options: Any of ingest's reading parameters: `query`, `column_types`,
            `delimiter`, `header`, `column_names`, `quote_char`, `encoding`,
            `null_values`, `newlines_in_values`, `span`, `span_range`, `version`,
            `last_n_spans`; and
            `max_rows` to stop after that many rows.

    Returns:
        Every row (or the first `max_rows`). A header-only file gives an empty table
        with the header's columns (ingest, by contrast, refuses it).

    Raises:
        DataError: The data is missing or malformed (file, line and column named).
        InvalidParameterError: An option is unknown or invalid.

    Example:
        >>> table = load_dataset("data/taxi.csv", column_types={"zip": "string"})
        >>> table = load_dataset("warehouse.duckdb", query="SELECT * FROM trips")
    """

    known = (*_READ_OPTIONS, *_SOURCE_OPTIONS, "max_rows")
    for name, value in options.items():
        if name not in known:
            raise invalid(_NAME, name, "unknown; use one of " + ", ".join(known), value)
    max_rows = options.get("max_rows")
    if max_rows is not None and (not isinstance(max_rows, int) or max_rows < 0):
        raise invalid(_NAME, "max_rows", "an int >= 0, or None", max_rows)
    reading = read_options(
        format=format,
        component=_NAME,
        **{name: options[name] for name in _READ_OPTIONS if name in options},
    )
    text = str(source)
    query = options.get("query")
    is_database = "://" in text or text.lower().endswith(_DATABASE_SUFFIXES)
    if is_database and query is None:
        raise invalid(
            _NAME,
            "query",
            "the SQL to run when the source is a database",
            None,
            hint=f"Example: load_dataset({text!r}, query=...) with the SQL to run.",
        )
    spec = (
        SourceSpec(query=query, database=text if is_database else None)
        if query is not None
        else SourceSpec(
            source=text,
            format=format,
            span=options.get("span"),
            span_range=options.get("span_range"),
            version=options.get("version"),
            last_n_spans=options.get("last_n_spans"),
        )
    )
    (resolved,) = plan_sources(spec).values()
    if max_rows is None and fast_csv.eligible(resolved, reading):
        assert isinstance(resolved, FileSource)
        fast = fast_csv.read_fast(resolved)
        if fast is not None:
            return fast
    declared = set(reading.column_types)
    while True:
        try:
            return _read(resolved, reading, max_rows)
        except MixedTypesError as error:  # a word after the first rows: read it as text
            reading = read_again(reading, error, declared=declared)


def _read(source: FileSource | QuerySource, reading: ReadOptions, max_rows: int | None) -> pa.Table:
    import pyarrow as pa

    tables: list[pa.Table] = []
    rows = 0
    with open_source(source, reading) as stream:
        schema = stream.schema
        for batch in stream:
            if max_rows is not None and rows + batch.table.num_rows >= max_rows:
                tables.append(batch.table.slice(0, max_rows - rows))
                break
            tables.append(batch.table)
            rows += batch.table.num_rows
    if not tables:
        return schema.empty_table()
    return pa.concat_tables(tables).cast(schema)
