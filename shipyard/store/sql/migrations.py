"""Versioned schema migrations: a version table and an ordered list of steps.

The `schema_migrations` table holds one row per applied step; the database's version is the
highest. `migrate` applies the missing steps in order, all in one transaction that first
takes a lock, so two processes opening a fresh store at the same time never both migrate:
on SQLite the caller's engine begins write transactions with `BEGIN IMMEDIATE`, and on
PostgreSQL `pg_advisory_xact_lock` serialises the migrators.

A released step never changes. Version 1 creates the tables as they were then: the tables a
later step alters are frozen here as they were (`_V1`), the others are copied from `tables.py`.
The first later step that alters another table must first freeze that table's version-1
definition, so that a fresh database still goes through every step
(`tests/store/test_migrations.py` checks that migrating from scratch yields `tables.py`).

Version 2 adds the state `interrupted` to runs and executions. A CHECK constraint cannot be
altered in place: PostgreSQL drops and adds it again; SQLite rebuilds the table the way its
manual says (https://www.sqlite.org/lang_altertable.html#otheralter): with foreign keys off,
create the new table, copy the rows, drop the old one, rename the new one, create the
indexes, check the foreign keys, all in the migration's transaction. Executions that older
releases recorded `failed` with a reason "interrupted by ..." become `interrupted`, and so do
the failed runs a Ctrl-C or SIGTERM stopped.

Version 3 adds the tables of `shipyard schedule`, `firings` and `trigger_leases`; it creates
them as `tables.py` declares them, and nothing else changes.

Version 4 adds `run_metrics`, each run's metrics, which runners write when a run ends, so
that run listings sort by a metric through an index instead of reading every evaluation.
It fills the table for the runs already recorded, the way runners of that release do: for
each metric name, the value in the run's first output artifact (by execution, then event,
cached outputs included) of type `ModelEvaluation` (under its `metrics` property) or
`Metrics` (its properties) that holds a finite number under that name.

Version 5 adds the platform server's tables: `users`, `api_tokens`, `projects`, `grants` and
the append-only `audit_events` (with the triggers that refuse to change or delete its rows),
as `tables.py` declares them.

Version 6 adds the platform server's job queue, `jobs` and `job_logs`, as `tables.py`
declares them.

Version 7 adds the model registry and its endpoints: `registered_models`, `model_versions`
and `endpoints` (`shipyard.platform.models`), as `tables.py` declares them.

Version 8 adds what several platform server processes on one database share about logins:
`login_failures` (the login throttle's recent failures) and `oidc_logins` (OIDC logins
under way: state, nonce, PKCE verifier), as `tables.py` declares them.

Version 9 adds `job_workers`: what each live job worker has (CPUs, GPUs, memory), which the
queue places jobs by.
"""

from __future__ import annotations

import functools
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    column,
    func,
    insert,
    inspect,
    select,
    table,
    update,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.schema import AddConstraint, CreateTable, DropConstraint, DropTable

from shipyard.errors import StoreError
from shipyard.store.run_metrics import first_metrics
from shipyard.store.sql import tables
from shipyard.store.sql.tables import JsonDocument, UtcDateTime, _one_of

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from sqlalchemy import CheckConstraint
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


# Version 1 ---------------------------------------------------------------------------------
_V1 = MetaData(naming_convention=tables.metadata.naming_convention)
Table(
    "contexts",
    _V1,
    Column("id", Integer, primary_key=True),
    Column("type", String(16), nullable=False),
    Column("name", String(255), nullable=False),
    Column("parent_id", Integer, ForeignKey("contexts.id"), nullable=True),
    Column("state", String(16), nullable=True),
    Column("properties", JsonDocument, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, nullable=True),
    UniqueConstraint("type", "name"),
    _one_of("type", ("pipeline", "run")),
    _one_of("state", ("running", "complete", "failed", "abandoned"), nullable=True),
    Index(None, "parent_id"),
    Index(None, "type", "started_at"),
)
Table(
    "executions",
    _V1,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("contexts.id"), nullable=False),
    Column("node", String(255), nullable=False),
    Column("component", String(255), nullable=False),
    Column("parameters", JsonDocument, nullable=False),
    Column("cache_key", String(255), nullable=False),
    Column("state", String(16), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, nullable=True),
    Column("error", Text, nullable=True),
    Column("cached_from", Integer, ForeignKey("executions.id"), nullable=True),
    _one_of("state", ("running", "complete", "cached", "failed", "skipped", "abandoned")),
    Index(None, "run_id"),
    Index(None, "cache_key"),
)
for _unchanged in (tables.artifacts, tables.events, tables.associations, tables.attributions):
    _unchanged.to_metadata(_V1)


def _create_initial_schema(conn: Connection) -> None:
    _V1.create_all(conn)


# Version 2 ---------------------------------------------------------------------------------
_INTERRUPTED_BY = "interrupted by "
_BY_THE_RUNNER = "interrupted by the runner"  # stopped because the run failed, not by a signal
_executions_v2 = table("executions", column("run_id"), column("state"), column("error"))
_contexts_v2 = table("contexts", column("id"), column("type"), column("state"))


def _add_interrupted_state(conn: Connection) -> None:
    """Let runs and executions be `interrupted`, and mark those older releases recorded failed."""
    changed = (tables.contexts, tables.executions)
    if conn.dialect.name == "sqlite":
        for target in changed:
            _rebuild_sqlite_table(conn, target)
        _check_sqlite_foreign_keys(conn)
    else:
        for target in changed:
            check = _state_check(target)
            conn.execute(DropConstraint(check))
            # Leave the declared constraint as it is: by default AddConstraint marks it to be
            # left out of every later CREATE TABLE (a fresh SQLite store would lack it).
            conn.execute(AddConstraint(check, isolate_from_table=False))
    executions, contexts = _executions_v2, _contexts_v2
    conn.execute(
        update(executions)
        .where(executions.c.state == "failed", executions.c.error.startswith(_INTERRUPTED_BY))
        .values(state="interrupted")
    )
    by_signal = select(executions.c.run_id).where(
        executions.c.state == "interrupted", ~executions.c.error.startswith(_BY_THE_RUNNER)
    )
    conn.execute(
        update(contexts)
        .where(contexts.c.type == "run", contexts.c.state == "failed")
        .where(contexts.c.id.in_(by_signal))
        .values(state="interrupted")
    )


def _state_check(target: Table) -> CheckConstraint:
    [check] = [c for c in target.constraints if c.name == f"ck_{target.name}_state_valid"]
    return check  # type: ignore[return-value]


def _rebuild_sqlite_table(conn: Connection, target: Table) -> None:
    """Replace the SQLite table named like `target` by one built as `target` declares it.

    Runs inside the migration's transaction with foreign keys off (`_sqlite_foreign_keys_off`):
    the rows of other tables that refer to the old table refer to the new one once it has
    the old one's name.
    """
    staging = _staging_tables()[target.name]
    conn.execute(CreateTable(staging))
    names = list(target.columns.keys())
    conn.execute(insert(staging).from_select(names, select(*target.columns)))
    conn.execute(DropTable(target))
    conn.exec_driver_sql(f'ALTER TABLE "{staging.name}" RENAME TO "{target.name}"')
    for index in target.indexes:
        index.create(conn)


@functools.cache
def _staging_tables() -> dict[str, Table]:
    """The tables version 2 rebuilds, declared under a temporary name; built once a process.

    Their foreign keys name the other tables by their own names (copying tables is the
    slowest part of migrating a fresh store, so it happens once).
    """
    rebuilt = (tables.contexts, tables.executions)
    staging = MetaData()
    for other in tables.metadata.sorted_tables:
        other.to_metadata(staging)
    return {t.name: t.to_metadata(staging, name=f"{t.name}_v2") for t in rebuilt}


def _check_sqlite_foreign_keys(conn: Connection) -> None:
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        table_name, rowid, parent, _ = broken[0]
        raise StoreError(
            f"{len(broken)} foreign key(s) are broken after rebuilding the tables: row "
            f"{rowid} of table {table_name!r} names no row of {parent!r}.",
            hint="Report this with the store file; an older Shipyard still opens it.",
        )


@contextmanager
def _sqlite_foreign_keys_off(conn: Connection) -> Iterator[None]:
    """On SQLite, turn foreign key checks off until the block ends (elsewhere do nothing).

    `PRAGMA foreign_keys` does nothing inside a transaction, so this is run on the bare
    connection before the migration's transaction begins; it is restored afterwards.
    """
    if conn.dialect.name != "sqlite":
        yield
        return
    raw = conn.connection.driver_connection
    assert raw is not None
    enabled = raw.execute("PRAGMA foreign_keys").fetchone()[0]
    raw.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        raw.execute(f"PRAGMA foreign_keys = {'ON' if enabled else 'OFF'}")


# Version 3 ---------------------------------------------------------------------------------
def _add_trigger_tables(conn: Connection) -> None:
    """Create the tables of trigger firings and trigger leases (`shipyard schedule`)."""
    for new in (tables.firings, tables.trigger_leases):
        new.create(conn)


# Version 4 ---------------------------------------------------------------------------------
_METRIC_SOURCES_V4 = {"ModelEvaluation": "metrics", "Metrics": None}
_artifacts_v4 = table(
    "artifacts", column("id"), column("type_name"), column("properties", JsonDocument)
)
_events_v4 = table(
    "events", column("id"), column("artifact_id"), column("execution_id"), column("kind")
)
_executions_v4 = table("executions", column("id"), column("run_id"))
_FILL_BATCH = 5_000


def _add_run_metrics(conn: Connection) -> None:
    """Create `run_metrics` and fill it from the evaluations of the runs already recorded."""
    tables.run_metrics.create(conn)
    artifacts, events, executions = _artifacts_v4, _events_v4, _executions_v4
    outputs = (
        select(executions.c.run_id, artifacts.c.type_name, artifacts.c.properties)
        .select_from(
            executions.join(events, events.c.execution_id == executions.c.id).join(
                artifacts, artifacts.c.id == events.c.artifact_id
            )
        )
        .where(events.c.kind == "output", artifacts.c.type_name.in_(list(_METRIC_SOURCES_V4)))
        .order_by(executions.c.run_id, executions.c.id, events.c.id)
    )
    found: dict[int, dict[str, float]] = {}
    for run_pk, type_name, properties in conn.execute(outputs):
        source = _METRIC_SOURCES_V4[type_name]
        recorded = properties.get(source) if source is not None else properties
        for name, value in first_metrics([recorded]).items():
            found.setdefault(run_pk, {}).setdefault(name, value)
    rows = [
        {"run_id": run_pk, "name": name, "value": value}
        for run_pk, metrics in found.items()
        for name, value in metrics.items()
    ]
    for start in range(0, len(rows), _FILL_BATCH):
        conn.execute(insert(tables.run_metrics), rows[start : start + _FILL_BATCH])


# Version 5 ---------------------------------------------------------------------------------
def _add_platform_tables(conn: Connection) -> None:
    """Create the platform server's users, tokens, projects, grants and audit log."""
    for new in (tables.users, tables.api_tokens, tables.projects, tables.grants):
        new.create(conn)
    tables.audit_events.create(conn)  # its append-only triggers come with it (tables.py)


# Version 6 ---------------------------------------------------------------------------------
def _add_job_tables(conn: Connection) -> None:
    """Create the platform server's job queue and its logs (`shipyard.platform.jobs`)."""
    for new in (tables.jobs, tables.job_logs):
        new.create(conn)


# Version 7 ---------------------------------------------------------------------------------
def _add_model_registry(conn: Connection) -> None:
    """Create the registered models, their versions and the endpoints serving them."""
    for new in (tables.registered_models, tables.model_versions, tables.endpoints):
        new.create(conn)


# Version 8 ---------------------------------------------------------------------------------
def _add_login_state(conn: Connection) -> None:
    """Create the login throttle's failures and the OIDC logins under way."""
    for new in (tables.login_failures, tables.oidc_logins):
        new.create(conn)


def _add_job_workers(conn: Connection) -> None:
    """Create the table of workers' capacities, which job placement reads."""
    tables.job_workers.create(conn)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "initial schema: contexts, executions, artifacts, events, associations, attributions",
        _create_initial_schema,
    ),
    Migration(2, "runs and executions can be interrupted", _add_interrupted_state),
    Migration(3, "trigger firings and trigger leases", _add_trigger_tables),
    Migration(4, "each run's metrics, indexed by name and value", _add_run_metrics),
    Migration(
        5, "platform users, API tokens, projects, grants and audit log", _add_platform_tables
    ),
    Migration(6, "the platform server's job queue and job logs", _add_job_tables),
    Migration(7, "registered models, their versions and endpoints", _add_model_registry),
    Migration(8, "login throttle failures and OIDC logins under way", _add_login_state),
    Migration(9, "the job workers' capacities", _add_job_workers),
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
    with engine.connect() as conn, _sqlite_foreign_keys_off(conn), conn.begin():
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
            except (SQLAlchemyError, StoreError) as exc:
                reason = exc.message if isinstance(exc, StoreError) else str(exc)
                raise StoreError(
                    f"Migrating the store at {where} to schema version {step.version} "
                    f"({step.description}) failed: {reason} The store is unchanged at "
                    f"version {current}.",
                    hint=exc.hint if isinstance(exc, StoreError) else None,
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
