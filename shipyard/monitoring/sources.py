"""Where the logs are: listing the files of a directory, glob or fsspec URL, and reading them.

Hidden names are never read: the server writes each log file under a hidden temporary name
(`.NAME.parquet.tmp`) and renames it when complete, so a listed file is a whole file. Files
in a `feedback` directory below the logs are labels (`feedback`), not requests.
Parquet files are read in batches of `BATCH_ROWS` rows, CSV files in 8 MB blocks, and only
the columns needed, so memory stays bounded by a batch whatever the logs' size.
A file that cannot be read is reported (`UnreadableFile`) and skipped by the caller.
"""

from __future__ import annotations

import contextlib
import itertools
import posixpath
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shipyard.errors import DataError
from shipyard.monitoring.feedback import FEEDBACK_DIRECTORY

if TYPE_CHECKING:
    from collections.abc import Collection, Iterator

    import pyarrow as pa
    from fsspec import AbstractFileSystem

SUFFIXES = (".parquet", ".csv", ".csv.gz")
BATCH_ROWS = 131_072


@dataclass(frozen=True)
class LogFile:
    """A file of logs: its path (in its filesystem) and its size in bytes."""

    path: str
    size_bytes: int


class UnreadableFile(Exception):
    """A log file that cannot be read: the caller reports it and reads on."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def list_files(logs: str) -> tuple[AbstractFileSystem, list[LogFile]]:
    """Return the filesystem of `logs` and its data files, sorted by path.

    Args:
        logs: A file, a directory (searched recursively), a glob, or an fsspec URL of any.

    Raises:
        DataError: Nothing matches `logs`.
    """
    from fsspec.core import url_to_fs

    fs, root = url_to_fs(logs)
    root = root.rstrip("/") or root
    if any(char in root for char in "*?["):
        found = fs.glob(root, detail=True)
        base = _glob_base(root)
    elif fs.isdir(root):
        found = fs.find(root, detail=True)
        base = root
    elif fs.exists(root):
        found = {root: fs.info(root)}
        base = posixpath.dirname(root)
    else:
        raise DataError(
            f"The logs {logs!r} do not exist. Give the server's --request-log-dir (or a "
            "directory, glob or URL of Parquet or CSV files with a timestamp column)."
        )
    files = [
        LogFile(path, int(info.get("size") or 0))
        for path, info in sorted(found.items())
        if info.get("type", "file") == "file" and _readable_name(path, base)
    ]
    return fs, files


def _glob_base(pattern: str) -> str:
    """Return the directories of a glob before its first wildcard."""
    parts = pattern.split("/")
    return "/".join(itertools.takewhile(lambda part: not set(part) & set("*?["), parts))


def _readable_name(path: str, base: str) -> bool:
    """Whether a path names a data file, hidden neither itself nor below `base`."""
    below = path[len(base) :] if path.startswith(base) else posixpath.basename(path)
    parts = [part for part in below.replace("\\", "/").split("/") if part]
    return (
        path.endswith(SUFFIXES)
        and not any(part.startswith(".") for part in parts)
        and FEEDBACK_DIRECTORY not in parts[:-1]
    )


def read_columns(fs: AbstractFileSystem, file: LogFile) -> list[str]:
    """Return the column names of a log file."""
    try:
        if file.path.endswith(".parquet"):
            import pyarrow.parquet as pq

            with _open(fs, file.path) as source:
                return list(pq.read_schema(source).names)
        with fs.open(file.path, "rb", compression="infer") as handle:
            return list(_csv_reader(handle).schema.names)
    except Exception as exc:
        raise UnreadableFile(file.path, _reason(exc)) from exc


def read_batches(
    fs: AbstractFileSystem, file: LogFile, columns: list[str], *, categories: Collection[str] = ()
) -> Iterator[pa.RecordBatch]:
    """Yield a file's batches of `columns` (those it has), a row group or block at a time.

    Args:
        fs: The file's filesystem.
        file: The file.
        columns: The columns to read.
        categories: Columns counted by value: a Parquet file's string columns among them
            are read as dictionaries, their values not decoded row by row (CSV: as text).

    Raises:
        UnreadableFile: The file is not Parquet or CSV, or is truncated or corrupt.
    """
    try:
        if file.path.endswith(".parquet"):
            import pyarrow as pa
            import pyarrow.parquet as pq

            with _open(fs, file.path) as source:
                parquet = pq.ParquetFile(source)
                coded = [
                    field.name
                    for field in parquet.schema_arrow
                    if field.name in categories
                    and (pa.types.is_string(field.type) or pa.types.is_large_string(field.type))
                ]
                if coded:  # the footer read once: the same metadata, dictionaries asked for
                    metadata = parquet.metadata
                    parquet = pq.ParquetFile(source, metadata=metadata, read_dictionary=coded)
                present = [c for c in columns if c in parquet.schema_arrow.names]
                yield from parquet.iter_batches(batch_size=BATCH_ROWS, columns=present)
            return
        with fs.open(file.path, "rb", compression="infer") as handle:
            reader = _csv_reader(handle)
            wanted = set(columns)
            for batch in reader:
                yield batch.select([c for c in batch.schema.names if c in wanted])
    except UnreadableFile:
        raise
    except Exception as exc:
        raise UnreadableFile(file.path, _reason(exc)) from exc


@contextlib.contextmanager
def _open(fs: AbstractFileSystem, path: str) -> Iterator[Any]:
    """Yield a local file's path (Arrow reads it natively), else an open file."""
    if "file" in _protocols(fs):
        yield path
        return
    with fs.open(path, "rb") as handle:
        yield handle


def _protocols(fs: AbstractFileSystem) -> tuple[str, ...]:
    protocol = fs.protocol
    return (protocol,) if isinstance(protocol, str) else tuple(protocol)


def _csv_reader(handle: Any) -> Any:
    from pyarrow import csv

    return csv.open_csv(
        handle,
        read_options=csv.ReadOptions(block_size=8 << 20),
        convert_options=csv.ConvertOptions(strings_can_be_null=True),  # as ingest reads CSV
    )


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else 'unreadable'}"


def display_path(path: str) -> str:
    """Return a path as messages show it (its last three parts)."""
    return posixpath.join(*path.replace("\\", "/").split("/")[-3:])
