"""A persistent cache of local files' content fingerprints, shared by every process of a project.

A cached rerun computes the cache key of each node, and a node that reads a local file (an
`ingest` source, a pinned schema) counts the file by its content. Hashing a 50 MB CSV on every
rerun costs more than the rest of the rerun, so the digest is remembered in
`.shipyard/fingerprints.db`, keyed by the file's resolved path and what `stat` says of it:
size, modification and change times (nanoseconds), inode and device. Any change to one of
them hashes the file again, so a rewritten, touched, replaced or moved-over file is never
taken for the old one; a `chmod` or `touch` costs one re-hash, never a stale digest.

Why a small SQLite file beside the store, not a table in the metadata store: the store may be
PostgreSQL shared by many hosts, while file identities (inode, device) mean something only on
this host; and a store migration would be heavy for what is a disposable cache. SQLite (the
standard library's `sqlite3`) gives atomic, concurrent updates across processes: each entry is
one `INSERT OR REPLACE` in its own transaction, and writers wait for each other (busy
timeout). The cache can always be deleted; it only saves time.

Two rules keep it from ever being stale:

- A file modified within `RACY_WINDOW_NS` before it was hashed is hashed but not remembered
  (git's "racily clean" rule): a second write in the same timestamp tick could change the
  bytes without changing the size or the times.
- A file whose `stat` changed while it was being read is not remembered either.

A cache that cannot be opened or written (a read-only directory, a damaged file, a lock held
too long) is skipped, and files are hashed as if there were none: it never fails a run.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import os
    from pathlib import Path

FINGERPRINTS_FILENAME: Final = "fingerprints.db"
"""The cache's file name in the project's `.shipyard/` directory."""

RACY_WINDOW_NS: Final = 2_000_000_000
"""A file modified this recently (2 s: coarser than any file system's timestamp tick) is not
remembered: a later write within the same tick would leave its `stat` unchanged."""

_BUSY_TIMEOUT_S: Final = 5.0
_TABLE: Final = "files_v1"  # a new format gets a new table; old entries are then unused
_SCHEMA: Final = f"""
CREATE TABLE IF NOT EXISTS {_TABLE} (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    ctime_ns INTEGER NOT NULL,
    inode INTEGER NOT NULL,
    device INTEGER NOT NULL,
    digest TEXT NOT NULL
)
"""


@dataclass(frozen=True)
class FileIdentity:
    """What `stat` says of a file: equal identities mean the bytes were not changed since."""

    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    device: int

    @classmethod
    def of(cls, stat: os.stat_result) -> FileIdentity:
        """Return the identity of a `stat` result."""
        return cls(stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, stat.st_dev)

    def is_settled(self, now_ns: int) -> bool:
        """Whether the file was last changed long enough ago to be remembered safely."""
        return now_ns - max(self.mtime_ns, self.ctime_ns) >= RACY_WINDOW_NS


class FingerprintCache:
    """The digests of local files, remembered in a SQLite file across processes.

    Args:
        path: The cache file (created on first use, with its directory).

    Example:
        >>> cache = FingerprintCache(Path(".shipyard") / FINGERPRINTS_FILENAME)
        >>> fingerprint_path("data/taxi.csv", cache=cache)  # hashed once, then looked up
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def open(self) -> FingerprintSession:
        """Return a session for one fingerprinting (one connection, closed by `close`)."""
        return FingerprintSession(self._connect())

    def entries(self) -> list[tuple[str, str]]:
        """Return (path, digest) of every remembered file, by path: to inspect the cache."""
        connection = self._connect()
        if connection is None:
            return []
        try:
            rows = connection.execute(f"SELECT path, digest FROM {_TABLE} ORDER BY path")  # noqa: S608
            return [(str(path), str(digest)) for path, digest in rows]
        finally:
            connection.close()

    def _connect(self) -> sqlite3.Connection | None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
        except (OSError, sqlite3.Error):
            return None
        try:
            connection.execute(_SCHEMA)
        except sqlite3.Error:
            connection.close()
            return None
        return connection


class FingerprintSession:
    """Lookups and updates of the cache during one `fingerprint_path` call.

    Args:
        connection: The open cache, or None to remember nothing (no cache, or it failed).
    """

    def __init__(self, connection: sqlite3.Connection | None) -> None:
        self._connection = connection

    def lookup(self, path: str, identity: FileIdentity) -> str | None:
        """Return the remembered digest of `path` if its identity is unchanged, else None."""
        if self._connection is None:
            return None
        try:
            row = self._connection.execute(
                f"SELECT size, mtime_ns, ctime_ns, inode, device, digest FROM {_TABLE} "  # noqa: S608
                "WHERE path = ?",
                (path,),
            ).fetchone()
        except sqlite3.Error:
            self.close()
            return None
        if row is None or FileIdentity(*row[:5]) != identity:
            return None
        return str(row[5])

    def remember(self, path: str, before: FileIdentity, after: FileIdentity, digest: str) -> None:
        """Store `digest` for `path` if the file was settled and unchanged while it was read.

        Args:
            path: The file's resolved path.
            before: Its identity before it was read.
            after: Its identity after it was read.
            digest: What reading it gave.
        """
        if self._connection is None or before != after or not after.is_settled(time.time_ns()):
            return
        try:
            self._connection.execute(
                f"INSERT OR REPLACE INTO {_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
                (
                    path,
                    after.size,
                    after.mtime_ns,
                    after.ctime_ns,
                    after.inode,
                    after.device,
                    digest,
                ),
            )
        except sqlite3.Error:
            self.close()  # locked too long or damaged: hash without it from now on

    def close(self) -> None:
        """Close the connection; later lookups find nothing."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None
