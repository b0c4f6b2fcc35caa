"""The `ingest` component: files or a SQL query in, one `Examples` artifact of splits out."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from shipyard.artifacts import Examples
from shipyard.components.ingest.options import read_options
from shipyard.components.ingest.plan import SourceSpec, plan_sources, plan_splitter
from shipyard.components.ingest.sources import FileSource, listing
from shipyard.dsl import Out, component

if TYPE_CHECKING:
    from collections.abc import Mapping

logger = logging.getLogger("shipyard.components.ingest")


def source_state(params: Mapping[str, Any]) -> Any:
    """Return what the files behind `source` are now, for the cache key.

    The resolved files (after globbing and picking the span and version) with their sizes
    and modification times: a new span, a new file in a glob or an edited file makes the
    next run execute again. Never raises: a source that cannot be resolved is described by
    its error, and the component reports it properly when it runs.
    """
    if params.get("source") is None:
        return None
    try:
        spec = SourceSpec(
            source=params["source"],
            format=params.get("format", "auto"),
            span=params.get("span"),
            span_range=params.get("span_range"),
            version=params.get("version"),
            last_n_spans=params.get("last_n_spans"),
        )
        sources = plan_sources(spec)
    except Exception as exc:
        return {"unresolved": f"{type(exc).__name__}: {exc}"}
    return {
        str(name): {"files": listing(source), "spans": list(source.spans)}
        for name, source in sources.items()
        if isinstance(source, FileSource)
    }


@component(depends_on=source_state)
def ingest(
    examples: Out[Examples],
    *,
    source: Path | dict[str, Path] | None = None,
    query: str | dict[str, str] | None = None,
    database: str | Path | None = None,
    format: Literal["auto", "csv", "parquet", "jsonl", "arrow"] = "auto",
    splits: dict[str, int] | None = None,
    split_key: list[str] | None = None,
    split_column: str | None = None,
    span: int | None = None,
    span_range: list[int] | None = None,
    version: int | None = None,
    last_n_spans: int | None = None,
    column_types: dict[str, str] | None = None,
    delimiter: str | None = None,
    header: bool = True,
    column_names: list[str] | None = None,
    quote_char: str | None = '"',
    encoding: str = "utf-8",
    null_values: list[str] | None = None,
    newlines_in_values: bool = False,
) -> None:
    """Read files or a SQL query into an `Examples` artifact, split into train/eval/...

    The TFX ExampleGen of Shipyard. Reads CSV (compressed .gz/.bz2/.zst too), Parquet,
    JSON lines and Arrow IPC files, globs and directories of them, or a SQL query; streams
    them in batches (memory stays bounded), and writes one Parquet file per split.
    Records in `examples.properties`: `rows` per split, `source`, `format`, `files`,
    `columns` (name and type of each), `split` (how), and `span`/`version` for patterns
    (`spans`/`versions` list every span read, and `span_note` says when `last_n_spans`
    found fewer spans than it asked for).

    Args:
        examples: The output.
        source: A file, glob (`data/*.csv.gz`), directory, or span pattern
            (`data/span-{SPAN}/v{VERSION}/*.csv`: by default the latest span at its latest
            version). A dict `{"train": ..., "eval": ...}` gives each split its own source.
            Relative paths resolve against the pipeline file.
        query: SQL to run instead of reading files; a dict gives each split its own query.
        database: For `query`: a DuckDB file (the embedded warehouse), a SQLAlchemy URL
            (`postgresql://user@host/db`), or None for in-memory DuckDB.
        format: The files' format; "auto" tells it from the extension.
        splits: Split name -> hash buckets (default `{"train": 8, "eval": 2}`): each row
            goes to a split by a stable MD5 hash, see `shipyard.components.ingest.splits`.
        split_key: Columns to hash (rows with equal keys share a split); default: all.
        split_column: Split by this column's values instead (the column is dropped).
        span: Read this span instead of the latest.
        span_range: Read spans `[first, last]` (inclusive), each at its latest version.
        version: Read this version of the span(s) instead of the latest.
        last_n_spans: Read the newest N spans, each at its latest version: a rolling
            window for retraining. When fewer exist, ingest reads those and logs it.
        column_types: Override inferred types: `{"zip": "string", "fare": "float64"}`.
        delimiter: CSV field separator; default: detected from the header line.
        header: Whether the CSV's first line names the columns.
        column_names: Names for the CSV columns (needed when `header` is False).
        quote_char: CSV quote character; None turns quoting off.
        encoding: Text encoding of CSV/JSON files (e.g. "latin-1").
        null_values: CSV strings that mean "missing" (default: "", "NA", "NULL", "nan"...).
        newlines_in_values: Allow quoted CSV values to span lines.

    Raises:
        DataError: The data is missing, empty (no rows: a header-only file is an error,
            not a warning), or malformed; the message names the file, line and column.
        InvalidParameterError: A parameter is invalid or names a column that does not
            exist (the columns are listed, with the closest name).

    Example:
        >>> raw = ingest(source="data/taxi.csv", splits={"train": 8, "eval": 2})
        >>> stats = compute_statistics(examples=raw.outputs.examples)
    """
    from shipyard.components.ingest.plan import Plan
    from shipyard.components.ingest.writer import write_examples

    options = read_options(
        format=format,
        column_types=column_types,
        delimiter=delimiter,
        header=header,
        column_names=column_names,
        quote_char=quote_char,
        encoding=encoding,
        null_values=null_values,
        newlines_in_values=newlines_in_values,
    )
    spec = SourceSpec(source, query, database, format, span, span_range, version, last_n_spans)
    splitter = plan_splitter(spec, splits=splits, split_key=split_key, split_column=split_column)
    plan = Plan(plan_sources(spec), splitter)
    examples.properties.update(plan.describe())
    if "span_note" in examples.properties:
        logger.warning("%s", examples.properties["span_note"])
    write_examples(examples, plan.sources, plan.splitter, options)
