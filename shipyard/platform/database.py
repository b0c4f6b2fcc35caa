"""The platform's tables in the store's database, through the engine the store shares.

The platform server keeps users, tokens, projects, grants, the audit log and the job queue in
the same database as the metadata store (`shipyard.store.sql.tables` declares them, store
migrations create them), so one backup holds a team's whole server. `Database` opens it the
way `SqlStore` does: one shared engine per database and process (`shipyard.store.sql.pool`),
migrated to the latest version, errors turned into `StoreError`s naming the masked URL.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.exc import IntegrityError

from shipyard.errors import StoreError
from shipyard.store.sql.connection import parse_url, suggest_connection_fix, translate_errors
from shipyard.store.sql.pool import acquire

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from types import TracebackType

    from sqlalchemy.engine import Connection

__all__ = ["Database", "lost_a_race", "retry_lost_races"]

T = TypeVar("T")


class Database:
    """A connection source for the platform's tables in the store at `url`.

    Args:
        url: The store's URL: `sqlite:///path.db` or `postgresql://user:pw@host/db`.

    Raises:
        ConfigError: The URL cannot be parsed or names an unsupported database.
        PluginNotInstalled: The database's driver is not installed.
        StoreError: The database cannot be reached, created or migrated.

    Example:
        >>> with Database("sqlite:///.shipyard/store.db") as database, database.write() as conn:
        ...     conn.execute(...)
    """

    def __init__(self, url: str) -> None:
        parsed = parse_url(url)
        self.url = parsed.render_as_string(hide_password=True)
        self._hint = suggest_connection_fix(parsed)
        self._lease = acquire(parsed, self.url)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    def __enter__(self) -> Database:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reading; database errors become `StoreError`s."""
        with translate_errors(self.url, self._hint), self._lease.shared.engine.connect() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction (`BEGIN IMMEDIATE` on SQLite), committed when the block ends."""
        with translate_errors(self.url, self._hint), self._lease.shared.writer.begin() as conn:
            yield conn

    def close(self) -> None:
        """Give the shared engine back; closing again does nothing."""
        self._lease.release()


def lost_a_race(exc: BaseException) -> bool:
    """Whether a write failed on a unique constraint: a concurrent writer inserted the same
    row first (on PostgreSQL the loser hears of it only at its insert)."""
    return isinstance(exc, StoreError) and isinstance(exc.__cause__, IntegrityError)


def retry_lost_races(write: Callable[[], T], *, attempts: int = 3) -> T:
    """Run the transaction `write`, again if it lost a race (`lost_a_race`): the next run
    reads the winner's row and answers as if it had come second (e.g. idempotently).

    Raises:
        StoreError: It lost `attempts` times, or failed otherwise.
    """
    for _ in range(attempts - 1):
        try:
            return write()
        except StoreError as exc:
            if not lost_a_race(exc):
                raise
    return write()
