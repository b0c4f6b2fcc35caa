"""One SQLAlchemy engine per database per process, shared by every `SqlStore` opened on it.

An engine holds a connection pool and the cache of compiled statements, so building one per
store made every `shipyard.run` call in a notebook compile each of its statements again.
`acquire` returns a `Lease` on the database's shared engine, creating the engine on first
use, and `Lease.release` gives it back:

- Stores open on the same database share the engine's pool and compiled statements.
- When the last lease on a database is released, the engine's pool is disposed: every
  connection is closed (SQLite checkpoints its WAL file), as when each store had its own
  engine. The engine itself, with its compiled statements, stays registered for the next
  store on that database; at most `MAX_IDLE` unused engines are kept, the most recently
  used ones.
- Opening a store reads the database's version (`is_current`: one row, no lock, no table
  reflection), which sees a version changed since by another process or by `migrate`.
  Only a database behind the current version (new, or written by an older release) is
  migrated (`migrate`, under the write lock), so a store at the current version opens
  without waiting for another process's write transaction.
- At interpreter exit the pools of stores that were never closed are disposed too, and a
  forked child process gives up the pools it inherited instead of sharing their
  connections with its parent.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from sqlalchemy.exc import SQLAlchemyError

from shipyard.errors import StoreError
from shipyard.store.sql.connection import (
    WRITE,
    create_sql_engine,
    make_sqlite_directory,
    pool_key,
    suggest_connection_fix,
    summarize_error,
)
from shipyard.store.sql.migrations import is_current, migrate

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Engine

__all__ = ["MAX_IDLE", "Lease", "SharedEngine", "acquire"]

MAX_IDLE: Final = 8  # engines kept, without connections, for databases no store has open


@dataclass(eq=False)
class SharedEngine:
    """The engine of one database and what this process knows about the database.

    Attributes:
        key: The database's URL, password included, with an absolute SQLite path.
        engine: The engine every store on the database reads with.
        writer: The same engine with the `WRITE` option (`BEGIN IMMEDIATE` on SQLite).
        users: How many leases on it are held.
        schema_lock: Held while a new store checks or migrates the schema.
    """

    key: str
    engine: Engine
    writer: Engine
    users: int = 0
    schema_lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(eq=False)
class Lease:
    """One store's hold on a shared engine; `release` it exactly once, when the store closes."""

    shared: SharedEngine
    released: bool = False

    def release(self) -> None:
        """Give the engine back; the last lease on a database closes its connections."""
        with _lock:
            if self.released:
                return
            self.released = True
            _give_back(self.shared, discard=False)


_lock = threading.Lock()  # guards _engines and every SharedEngine.users
_engines: OrderedDict[str, SharedEngine] = OrderedDict()  # least recently acquired first


def acquire(url: URL, masked: str) -> Lease:
    """Return a lease on the engine of the database at `url`, migrated to the latest version.

    Args:
        url: A URL from `parse_url`.
        masked: The URL with its password masked, to name the store in errors.

    Raises:
        PluginNotInstalled: The database's driver is not installed.
        StoreError: The database cannot be reached, created or migrated.
    """
    key_url = pool_key(url)
    if key_url.get_backend_name() == "sqlite":
        make_sqlite_directory(key_url, masked)
    key = key_url.render_as_string(hide_password=False)
    with _lock:
        shared = _engines.get(key)
        if shared is None:
            engine = create_sql_engine(key_url, masked)
            shared = SharedEngine(key, engine, engine.execution_options(**{WRITE: True}))
            _engines[key] = shared
        _engines.move_to_end(key)
        shared.users += 1
    try:
        _check_schema(shared, url, masked)
    except BaseException:
        with _lock:
            _give_back(shared, discard=True)
        raise
    return Lease(shared)


def _check_schema(shared: SharedEngine, url: URL, masked: str) -> None:
    with shared.schema_lock:
        if is_current(shared.engine):
            return
        try:
            migrate(shared.writer)
        except SQLAlchemyError as exc:
            raise StoreError(
                f"Cannot open the metadata store at {masked}: {summarize_error(exc)}",
                hint=suggest_connection_fix(url),
            ) from exc


def _give_back(shared: SharedEngine, *, discard: bool) -> None:
    """Drop one user (the caller holds `_lock`); `discard` forgets an engine left unused."""
    shared.users -= 1
    if shared.users > 0:
        return
    shared.engine.dispose()
    if _engines.get(shared.key) is not shared:
        return
    if discard:
        del _engines[shared.key]
        return
    idle = [key for key, other in _engines.items() if other.users == 0]
    for key in idle[: max(0, len(idle) - MAX_IDLE)]:
        del _engines[key]


def _dispose_all() -> None:
    """Close the pooled connections of stores still open at interpreter exit."""
    with _lock:
        for shared in _engines.values():
            shared.engine.dispose()


def _forget_parent_connections() -> None:
    """In a forked child, start new pools: the inherited connections are the parent's."""
    global _lock  # noqa: PLW0603 - the parent's lock may have been held while forking
    _lock = threading.Lock()
    for shared in _engines.values():
        shared.schema_lock = threading.Lock()
        shared.engine.dispose(close=False)


atexit.register(_dispose_all)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_parent_connections)
