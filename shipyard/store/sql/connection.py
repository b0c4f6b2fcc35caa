"""How the SQL store connects: URLs, drivers and the settings of every connection.

`parse_url` checks a store URL and picks the PostgreSQL driver; `create_sql_engine` makes the
SQLAlchemy engine, which on SQLite puts every connection in WAL mode and begins write
transactions (those run with the `WRITE` execution option) with `BEGIN IMMEDIATE`. Values are
written as JSON by `dump_json`, which refuses what JSON cannot represent, NaN included, and
`translate_errors` turns the database's errors into Shipyard's.
"""

from __future__ import annotations

import json
import os
import re
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
    StatementError,
)

from shipyard.errors import ConfigError, InvalidParameterError, PluginNotInstalled, StoreError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy.engine import URL, Connection, Engine

__all__ = [
    "WRITE",
    "create_sql_engine",
    "dump_json",
    "make_sqlite_directory",
    "mask_url",
    "parse_url",
    "pool_key",
    "suggest_connection_fix",
    "summarize_error",
    "translate_errors",
]

WRITE: Final = "shipyard_write"  # execution option: begin with BEGIN IMMEDIATE on SQLite
_URL_EXAMPLES: Final = "sqlite:///.shipyard/store.db or postgresql://user:password@host/db"
_CONNECT_TIMEOUT_S: Final = 10


def parse_url(url: str) -> URL:
    """Parse a store URL, choosing psycopg 3 for a PostgreSQL URL that names no driver.

    Raises:
        ConfigError: The URL cannot be parsed, names an in-memory SQLite database or a
            database other than SQLite and PostgreSQL.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(
            f"Cannot parse the store URL {mask_url(url)!r}.", hint=f"Use e.g. {_URL_EXAMPLES}."
        ) from exc
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    if backend == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise ConfigError(
            f"The store URL {mask_url(url)!r} names an in-memory SQLite database, which "
            "cannot hold a store shared by processes.",
            hint="Give a file path, e.g. sqlite:///.shipyard/store.db",
        )
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"The store URL {mask_url(url)!r} names a {backend!r} database; the SQL store "
            "supports SQLite and PostgreSQL.",
            hint=f"Use e.g. {_URL_EXAMPLES}.",
        )
    return parsed


def pool_key(url: URL) -> URL:
    """Return the URL that names the same database from any working directory.

    A relative SQLite path becomes absolute, so that stores opened before and after a
    `chdir` never share connections to different files. SQLite `file:` URIs stay as given.
    """
    if url.get_backend_name() != "sqlite" or url.query.get("uri") or not url.database:
        return url
    return url.set(database=os.path.abspath(url.database))


def mask_url(url: str) -> str:
    """Hide the password of a URL that may not even parse."""
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", url)


def suggest_connection_fix(url: URL) -> str:
    """Return what to check when the database behind `url` cannot be used."""
    if url.get_backend_name() == "sqlite":
        return "Check that the file's directory is writable and the file is a SQLite database."
    return (
        "Check that the PostgreSQL server is running and reachable, and that the URL's host, "
        "port, user, password and database are right."
    )


def summarize_error(exc: SQLAlchemyError) -> str:
    """Return the first line of the database's own error message."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@contextmanager
def translate_errors(masked: str, hint: str) -> Iterator[None]:
    """Turn the database's errors into Shipyard's, naming the store by its masked URL.

    Args:
        masked: The store's URL with its password masked.
        hint: What to check when the database cannot be reached.

    Raises:
        InvalidParameterError: A value was not JSON-serialisable (see `dump_json`).
        StoreError: Any other database error; with `hint` if the database is unreachable.
    """
    try:
        yield
    except InvalidParameterError as exc:  # raised by dump_json inside the driver
        raise InvalidParameterError(f"Cannot write to {masked}: {exc}") from exc
    except StatementError as exc:
        if isinstance(exc.orig, InvalidParameterError):  # dump_json, wrapped by SQLAlchemy
            raise InvalidParameterError(f"Cannot write to {masked}: {exc.orig}") from exc
        raise _failed(exc, masked, hint) from exc
    except SQLAlchemyError as exc:
        raise _failed(exc, masked, hint) from exc


def _failed(exc: SQLAlchemyError, masked: str, hint: str) -> StoreError:
    unreachable = isinstance(exc, OperationalError | InterfaceError)
    return StoreError(
        f"The metadata store at {masked} failed: {summarize_error(exc)}",
        hint=hint if unreachable else None,
    )


def make_sqlite_directory(url: URL, masked: str) -> None:
    """Create the directory of a SQLite store's file if it is missing (not for a `file:` URI,
    whose path is the URI's, not a directory to make: `ui.read_only` opens one).

    Raises:
        StoreError: The directory cannot be created.
    """
    if url.query.get("uri"):
        return
    try:
        Path(url.database or "").parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"Cannot create the directory of the SQLite store {masked}: {exc}.",
            hint="Choose a path in a writable directory.",
        ) from exc


def create_sql_engine(url: URL, masked: str) -> Engine:
    """Create the engine for a URL from `parse_url`; `masked` names it in errors.

    Raises:
        PluginNotInstalled: The PostgreSQL driver the URL names is not installed.
    """
    if url.get_backend_name() == "postgresql":
        args = {} if "connect_timeout" in url.query else {"connect_timeout": _CONNECT_TIMEOUT_S}
        try:
            return create_engine(url, connect_args=args, json_serializer=dump_json)
        except ImportError as exc:
            raise PluginNotInstalled(
                f"The store at {masked} needs the {url.get_driver_name()!r} PostgreSQL driver, "
                f"which is not installed ({exc.name or exc}).",
                hint='Install it with: pip install "shipyard[postgres]"',
            ) from exc
    engine = create_engine(url, json_serializer=dump_json)
    event.listen(engine, "connect", _configure_sqlite_connection)
    event.listen(engine, "begin", _begin_sqlite_transaction)
    return engine


def dump_json(value: Any) -> str:
    """Serialise a parameter or property value, which must be plain JSON.

    Raises:
        InvalidParameterError: The value holds something JSON cannot represent (NaN too).
    """
    try:
        return json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            f"{exc}. Parameters and properties must be JSON-serialisable."
        ) from exc


def _configure_sqlite_connection(dbapi_connection: Any, _record: object) -> None:
    # Let SQLAlchemy, not pysqlite, emit BEGIN (see _begin_sqlite_transaction).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def _begin_sqlite_transaction(conn: Connection) -> None:
    # Writers take the write lock up front, so two writers never deadlock upgrading a read
    # lock; readers begin a deferred transaction and see one consistent snapshot.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE) else "BEGIN")
