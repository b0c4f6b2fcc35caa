"""Where the data comes from: files, globs, directories, span patterns, or a SQL query.

`resolve_files` turns what the user wrote into the exact list of files to read and their
format; `listing` describes that list (names, sizes, modification times) for the cache key.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass, field
from pathlib import Path

from shipyard.components.ingest.options import FORMATS
from shipyard.components.ingest.spans import has_span, select_spans
from shipyard.errors import DataError, InvalidParameterError

COMPRESSIONS = {".gz": "gzip", ".gzip": "gzip", ".bz2": "bz2", ".zst": "zstd", ".zstd": "zstd"}
_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".arrow": "arrow",
    ".feather": "arrow",
    ".ipc": "arrow",
}
_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class FileSource:
    """Files to read, all of one format.

    Attributes:
        pattern: What the user wrote (a file, directory, glob or span pattern), absolute.
        files: The files, in reading order.
        format: One of `FORMATS`.
        spans: The spans read, when the pattern has `{SPAN}`.
        versions: The versions read, when the pattern has `{VERSION}`.
        note: Why fewer spans were read than `last_n_spans` asked for, if so.
    """

    pattern: str
    files: tuple[Path, ...]
    format: str
    spans: tuple[int, ...] = field(default=())
    versions: tuple[int, ...] = field(default=())
    note: str | None = None


@dataclass(frozen=True)
class QuerySource:
    """A SQL query against a DuckDB file, a SQLAlchemy URL, or in-memory DuckDB (None)."""

    query: str
    database: str | None = None


Source = FileSource | QuerySource


def resolve_files(
    pattern: str | Path,
    *,
    format: str = "auto",
    span: int | None = None,
    span_range: tuple[int, int] | None = None,
    version: int | None = None,
    last_n_spans: int | None = None,
) -> FileSource:
    """Expand a file, directory, glob or span pattern into the files to read.

    Raises:
        DataError: Nothing matches, a file's format cannot be told, or formats are mixed.
    """
    text = str(pattern)
    if "://" in text:
        raise InvalidParameterError(
            f"The 'source' parameter of ingest takes local files, globs or directories. Got "
            f"{text!r} instead.",
            hint="For a database, pass database=URL and query='SELECT ...'.",
        )
    spans: tuple[int, ...] = ()
    versions: tuple[int, ...] = ()
    note = None
    if has_span(text):
        selection = select_spans(
            text, span=span, span_range=span_range, version=version, last_n_spans=last_n_spans
        )
        files, spans, versions = list(selection.files), selection.spans, selection.versions
        note = selection.note
    else:
        files = _expand(Path(text))
    kind = _common_format(files, format, text)
    return FileSource(text, tuple(files), kind, spans, versions, note)


def detect_format(path: Path) -> str | None:
    """Tell a file's format from its extension, ignoring a compression suffix."""
    name = path.name.lower()
    for suffix in COMPRESSIONS:
        if name.endswith(suffix):
            name = name.removesuffix(suffix)
            break
    return _EXTENSIONS.get(Path(name).suffix)


def listing(source: FileSource) -> list[list[str | int]]:
    """Describe the files for the cache key: `[path, size_bytes, mtime_ns]` each."""
    rows: list[list[str | int]] = []
    for path in source.files:
        stat = path.stat()
        rows.append([str(path), stat.st_size, stat.st_mtime_ns])
    return rows


def _expand(path: Path) -> list[Path]:
    text = str(path)
    if _GLOB_CHARS.intersection(text):
        base = _glob_base(path)
        files = sorted(
            Path(name)
            for name in glob.glob(text, recursive=True)
            if Path(name).is_file() and not _hidden(Path(name).relative_to(base))
        )
        if not files:
            raise DataError(f"the glob matches no file ({where_missing(path)}).", path=text)
        return files
    if path.is_dir():
        files = sorted(
            p for p in path.rglob("*") if p.is_file() and not _hidden(p.relative_to(path))
        )
        if not files:
            raise DataError("the directory holds no data file.", path=text)
        return files
    if not path.exists():
        raise DataError(f"no such file or directory ({where_missing(path)}).", path=text)
    return [path]


def _hidden(path: Path) -> bool:
    return any(part.startswith((".", "_")) for part in path.parts)


def _glob_base(path: Path) -> Path:
    base = path
    while _GLOB_CHARS.intersection(str(base)):
        base = base.parent
    return base


def where_missing(path: Path) -> str:
    """Say where a missing path was looked for, and the nearest directory that exists.

    A relative path is shown resolved against the working directory, where it was looked
    for: the message holds whatever resolved it (a pipeline file's directory, or the
    command line's working directory) without guessing which.
    """
    full = path.absolute()
    nearest = next((str(parent) for parent in full.parents if parent.is_dir()), "/")
    looked = "" if path.is_absolute() else f"looked for {full}; "
    return f"{looked}the nearest directory that exists is {nearest}"


def _common_format(files: list[Path], format: str, pattern: str) -> str:
    if format != "auto":
        return format
    formats = {path: detect_format(path) for path in files}
    unknown = [path for path, kind in formats.items() if kind is None]
    if unknown:
        raise DataError(
            f"cannot tell the format of {unknown[0].name!r} from its extension. Pass "
            f"format= one of {', '.join(map(repr, FORMATS))}.",
            path=str(unknown[0]),
        )
    kinds = sorted({kind for kind in formats.values() if kind is not None})
    if len(kinds) > 1:
        raise DataError(
            f"the files are of several formats ({', '.join(kinds)}); ingest reads one format "
            f"per source. Narrow the glob, e.g. '*.{kinds[0]}'.",
            path=pattern,
        )
    return kinds[0]
