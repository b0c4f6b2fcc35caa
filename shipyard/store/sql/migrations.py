"""Versioned schema migrations: a version table and an ordered list of steps.

The `schema_migrations` table holds one row per applied step; the database's version is the
highest. `migrate` applies the missing steps in order, all in one transaction that first
takes a lock, so two processes opening a fresh store at the same time never both migrate:
on SQLite the caller's engine begins write transactions with `BEGIN IMMEDIATE`, and on
PostgreSQL `pg_advisory_xact_lock` serialises the migrators.

A released step never changes. Version 1 creates the tables as `tables.py` declares them;
the first later step that alters a table must first copy that table's version-1 definition
into `_create_initial_schema`, so that a fresh database still goes through every step
(`tests/store/test_migrations.py` checks that migrating from scratch yields `tables.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Column, Integer, MetaData, Table, Text, func, insert, inspect, select
from sqlalchemy.exc import SQLAlchemyError

from shipyard.errors import StoreError
from shipyard.store.sql import tables
from shipyard.store.sql.tables import UtcDateTime

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from sqlalchemy.engine import Connection, Engine

__all__ = [
    "LATEST_VERSION",
    "MIGRATIONS",
    "Migration",
    "is_current",
    "migrate",
    "schema_version",
]

# An arbitrary constant naming Shipyard's migration lock among PostgreSQL advisory locks.
_ADVISORY_LOCK_KEY = 0x5348_4950_5944  # "SHIPYD"

schema_migrations = Table(
    "schema_migrations",
    MetaData(),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("description", Text, nullable=False),
    Column("applied_at", UtcDateTime, nullable=False),
)

_VERSION = select(func.max(schema_migrations.c.version))


@dataclass(frozen=True)
class Migration:
    """One step from version `version - 1` to `version`.

    Attributes:
        version: The version the database is at once the step is applied.
        description: What the step changes, kept in `schema_migrations`.
        upgrade: Applies the step inside the migration transaction.
    """

    version: int
    description: str
    upgrade: Callable[[Connection], None]


def _create_initial_schema(conn: Connection) -> None:
    tables.metadata.create_all(conn)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "initial schema: contexts, executions, artifacts, events, associations, attributions",
        _create_initial_schema,
    ),
)
LATEST_VERSION = MIGRATIONS[-1].version


def schema_version(conn: Connection) -> int:
    """Return the schema version a database is at: 0 for one Shipyard has never touched."""
    if not inspect(conn).has_table(schema_migrations.name):
        return 0
    return conn.scalar(_VERSION) or 0


def is_current(engine: Engine, migrations: Sequence[Migration] = MIGRATIONS) -> bool:
    """Return whether the database is at the last version of `migrations`, reading one row.

    Unlike `migrate`, this takes no lock and inspects no tables, so it is cheap enough to run
    whenever a store is opened on a database that this process migrated before. A database
    without the version table (or no database at all) is not current.
    """
    known = migrations[-1].version if migrations else 0
    try:
        with engine.connect() as conn:
            version: int | None = conn.scalar(_VERSION)
    except SQLAlchemyError:
        return False
    return version == known


def migrate(engine: Engine, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Bring the database behind `engine` to the last version of `migrations`.

    Args:
        engine: An engine whose `begin()` takes the write lock on SQLite (`BEGIN IMMEDIATE`).
        migrations: The steps, versions 1, 2, ... in order.

    Returns:
        The version the database is at afterwards.

    Raises:
        StoreError: The database is at a version newer than `migrations` knows, or a step
            failed (then nothing was applied).
    """
    _check_sequence(migrations)
    known = migrations[-1].version if migrations else 0
    where = engine.url.render_as_string(hide_password=True)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(select(func.pg_advisory_xact_lock(_ADVISORY_LOCK_KEY)))
        current = schema_version(conn)
        if current > known:
            raise StoreError(
                f"store schema version {current} is newer than this Shipyard (knows {known}); "
                f"upgrade shipyard. The store at {where} was written by a newer release.",
                hint="Run: pip install --upgrade shipyard",
            )
        if current == known:
            return current
        schema_migrations.create(conn, checkfirst=True)
        for step in migrations[current:]:
            try:
                step.upgrade(conn)
            except SQLAlchemyError as exc:
                raise StoreError(
                    f"Migrating the store at {where} to schema version {step.version} "
                    f"({step.description}) failed: {exc}. The store is unchanged at "
                    f"version {current}."
                ) from exc
            conn.execute(
                insert(schema_migrations).values(
                    version=step.version,
                    description=step.description,
                    applied_at=datetime.now(UTC),
                )
            )
    return known


def _check_sequence(migrations: Sequence[Migration]) -> None:
    versions = [step.version for step in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise StoreError(f"Migration versions must be 1, 2, 3, ... in order; got {versions}.")
