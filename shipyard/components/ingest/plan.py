"""Turn ingest's parameters into a `Plan`: the sources per split and how to split.

All checks that need no data happen here, before a byte is read, and every parameter
error uses the shared template ("The 'x' parameter of ingest must be ... Got ... instead.").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shipyard.components.ingest.options import COMPONENT, invalid
from shipyard.components.ingest.sources import FileSource, QuerySource, Source, resolve_files
from shipyard.components.ingest.spans import has_span
from shipyard.components.ingest.splits import MAX_SPLITS, SPLIT_NAME, ColumnSplit, HashSplit
from shipyard.errors import InvalidParameterError

if TYPE_CHECKING:
    from pathlib import Path

DEFAULT_SPLITS = {"train": 8, "eval": 2}


@dataclass(frozen=True)
class SourceSpec:
    """The source parameters, before files are looked up."""

    source: str | Path | Mapping[str, str | Path] | None = None
    query: str | dict[str, str] | None = None
    database: str | Path | None = None
    format: str = "auto"
    span: int | None = None
    span_range: list[int] | None = None
    version: int | None = None
    last_n_spans: int | None = None


@dataclass(frozen=True)
class Plan:
    """What to read and how to split it.

    Attributes:
        sources: Split name -> source, or `{None: source}` for one source to split.
        splitter: How to split the one source; None when each split has its own source.
    """

    sources: dict[str | None, Source]
    splitter: HashSplit | ColumnSplit | None

    def describe(self) -> dict[str, Any]:
        """The artifact properties that say where the data came from."""
        formats = {
            str(name): source.format if isinstance(source, FileSource) else "sql"
            for name, source in self.sources.items()
        }
        properties: dict[str, Any] = {
            "source": _describe_sources(self.sources),
            "format": formats.popitem()[1] if len(set(formats.values())) == 1 else formats,
            "split": self.splitter.describe()
            if self.splitter is not None
            else {"method": "inputs", "splits": sorted(str(s) for s in self.sources)},
        }
        files = [s for s in self.sources.values() if isinstance(s, FileSource)]
        if files:
            properties["files"] = sum(len(s.files) for s in files)
        spans = sorted({span for s in files for span in s.spans})
        versions = sorted({version for s in files for version in s.versions})
        if spans:
            properties["span"] = spans[-1]
            properties["spans"] = spans
        if versions:
            properties["version"] = versions[-1]
            properties["versions"] = versions
        last_n = {s.note for s in files if s.note is not None}
        if last_n:
            properties["span_note"] = "; ".join(sorted(last_n))
        return properties


def plan_sources(spec: SourceSpec) -> dict[str | None, Source]:
    """Check the source parameters and resolve them to files or queries.

    Raises:
        InvalidParameterError: The parameters contradict each other.
        DataError: A file, glob or span pattern matches nothing.
    """
    if (spec.source is None) == (spec.query is None):
        raise InvalidParameterError(
            "ingest needs exactly one of 'source' (files, a glob, a directory or a span "
            f"pattern) and 'query' (SQL). Got {'both' if spec.source is not None else 'neither'}.",
            hint="Example: ingest(source='data/*.csv') or ingest(database='wh.duckdb', "
            "query='SELECT * FROM trips').",
        )
    span_range = _span_range(spec.span, spec.span_range)
    _check_last_n_spans(spec.last_n_spans, spec.span, span_range)
    if spec.version is not None and spec.version < 0:
        raise invalid(COMPONENT, "version", "an int >= 0, or None for the latest", spec.version)
    if spec.query is not None:
        if spec.last_n_spans is not None:
            raise invalid(
                COMPONENT,
                "last_n_spans",
                "None with a query (spans select files)",
                spec.last_n_spans,
            )
        if spec.span is not None or span_range is not None or spec.version is not None:
            raise invalid(COMPONENT, "span", "None with a query (spans select files)", spec.span)
        database = None if spec.database is None else str(spec.database)
        if isinstance(spec.query, dict):
            _check_split_names("query", list(spec.query))
            return {name: QuerySource(text, database) for name, text in spec.query.items()}
        return {None: QuerySource(spec.query, database)}
    if spec.database is not None:
        raise invalid(COMPONENT, "database", "None when reading files (source=...)", spec.database)
    patterns = spec.source if isinstance(spec.source, Mapping) else {None: spec.source}
    if isinstance(spec.source, Mapping):
        _check_split_names("source", list(spec.source))
    sources: dict[str | None, Source] = {}
    for name, pattern in patterns.items():
        text = str(pattern)
        if not has_span(text) and spec.last_n_spans is not None:
            raise invalid(
                COMPONENT,
                "last_n_spans",
                "None unless the source is a pattern with {SPAN}",
                spec.last_n_spans,
                hint="Write the source as e.g. 'data/span-{SPAN}/v{VERSION}/*.csv'.",
            )
        if not has_span(text) and (
            spec.span is not None or span_range is not None or spec.version is not None
        ):
            raise invalid(
                COMPONENT,
                "span" if spec.span is not None else "span_range" if span_range else "version",
                "None unless the source is a pattern with {SPAN}",
                spec.span if spec.span is not None else spec.span_range or spec.version,
                hint="Write the source as e.g. 'data/span-{SPAN}/v{VERSION}/*.csv'.",
            )
        sources[name] = resolve_files(
            text,
            format=spec.format,
            span=spec.span,
            span_range=span_range,
            version=spec.version,
            last_n_spans=spec.last_n_spans,
        )
    return sources


def plan_splitter(
    spec: SourceSpec,
    *,
    splits: dict[str, int] | None,
    split_key: list[str] | None,
    split_column: str | None,
) -> HashSplit | ColumnSplit | None:
    """Check the split parameters against each other and the kind of source.

    Raises:
        InvalidParameterError: The split parameters contradict each other or the sources.
    """
    if isinstance(spec.source, Mapping) or isinstance(spec.query, dict):
        for name, value in (
            ("splits", splits),
            ("split_key", split_key),
            ("split_column", split_column),
        ):
            if value is not None:
                raise invalid(
                    COMPONENT,
                    name,
                    "None when every split has its own source",
                    value,
                    hint="Either give one source and split it, or one source per split.",
                )
        return None
    if split_column is not None:
        if splits is not None or split_key is not None:
            raise invalid(
                COMPONENT,
                "splits" if splits is not None else "split_key",
                "None with split_column (the column's values name the splits)",
                splits if splits is not None else split_key,
            )
        if not split_column:
            raise invalid(COMPONENT, "split_column", "a column name", split_column)
        return ColumnSplit(split_column)
    buckets = DEFAULT_SPLITS if splits is None else splits
    if not buckets or len(buckets) > MAX_SPLITS:
        raise invalid(
            COMPONENT,
            "splits",
            f"a dict of 1 to {MAX_SPLITS} split names to bucket counts",
            buckets,
        )
    _check_split_names("splits", list(buckets))
    for name, count in buckets.items():
        if count < 1:
            raise invalid(
                COMPONENT, f"splits[{name!r}]", "an int >= 1 (a number of buckets)", count
            )
    if split_key is not None and not split_key:
        raise invalid(
            COMPONENT, "split_key", "a non-empty list of column names, or None", split_key
        )
    return HashSplit(dict(buckets), None if split_key is None else tuple(split_key))


def _check_split_names(parameter: str, names: list[str]) -> None:
    if not names:
        raise invalid(COMPONENT, parameter, "a non-empty dict of split name to value", {})
    for name in names:
        if not SPLIT_NAME.match(name):
            raise invalid(
                COMPONENT,
                parameter,
                "a dict whose keys are split names (letters, digits, '_', '-', '.')",
                name,
            )


def _span_range(span: int | None, span_range: list[int] | None) -> tuple[int, int] | None:
    if span is not None and span < 0:
        raise invalid(COMPONENT, "span", "an int >= 0, or None for the latest span", span)
    if span_range is None:
        return None
    if span is not None:
        raise invalid(COMPONENT, "span_range", "None when 'span' is given", span_range)
    if len(span_range) != 2 or span_range[0] > span_range[1] or span_range[0] < 0:
        raise invalid(
            COMPONENT,
            "span_range",
            "a list [first, last] of spans with 0 <= first <= last",
            span_range,
        )
    return span_range[0], span_range[1]


def _check_last_n_spans(
    last_n_spans: int | None, span: int | None, span_range: tuple[int, int] | None
) -> None:
    if last_n_spans is None:
        return
    if isinstance(last_n_spans, bool) or not isinstance(last_n_spans, int) or last_n_spans < 1:
        raise invalid(COMPONENT, "last_n_spans", "an int >= 1, or None", last_n_spans)
    if span is not None or span_range is not None:
        raise invalid(
            COMPONENT,
            "last_n_spans",
            "None when 'span' or 'span_range' is given (each picks the spans)",
            last_n_spans,
        )


def _describe_sources(sources: dict[str | None, Source]) -> str | dict[str, str]:
    def one(source: Source) -> str:
        if isinstance(source, FileSource):
            return source.pattern
        return f"{_safe(source.database)}: {source.query}"

    if None in sources:
        return one(sources[None])
    return {str(name): one(source) for name, source in sources.items()}


def _safe(database: str | None) -> str:
    if database is None:
        return "duckdb"
    if "://" not in database:
        return database
    from sqlalchemy.engine import make_url

    return make_url(database).render_as_string(hide_password=True)
