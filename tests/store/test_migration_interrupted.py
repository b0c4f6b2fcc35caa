"""Migration 2: runs and executions gain the state `interrupted`, on a store of migration 1.

On SQLite the version-1 store is a real file built by `sqlite3` from the schema that release
created (`store_v1.sql`); on PostgreSQL it is built by the frozen version-1 step.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.schema import CreateTable

from shipyard.errors import StoreError
from shipyard.store.sql import SqlStore, tables
from shipyard.store.sql.migrations import MIGRATIONS, migrate, schema_version

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

V1_SCHEMA = Path(__file__).with_name("store_v1.sql")
CTRL_C = (
    "interrupted by Ctrl-C (SIGINT) after 1.2 s (it stopped); run the pipeline again to "
    "resume (training resumes from its checkpoint)."
)
BY_RUNNER = "interrupted by the runner after 0.3 s (the run ended); run the pipeline again."
T0 = "'2026-01-05 12:00:00'"

# A pipeline, four runs and their executions as a release at migration 1 recorded them.
V1_ROWS = [
    f"INSERT INTO contexts VALUES (1, 'pipeline', 'taxi', NULL, NULL, '{{}}', {T0}, NULL)",
    *(
        f"INSERT INTO contexts VALUES ({pk}, 'run', '{name}', 1, '{state}', '{{}}', {T0}, {T0})"
        for pk, name, state in [
            (2, "r-ctrl-c", "failed"),
            (3, "r-broken", "failed"),
            (4, "r-internal", "failed"),
            (5, "r-complete", "complete"),
        ]
    ),
    *(
        f"INSERT INTO executions VALUES ({pk}, {run}, '{node}', '{node}', '{{}}', 'key-{pk}', "
        f"'{state}', {T0}, {T0}, {error}, {cached_from})"
        for pk, run, node, state, error, cached_from in [
            (1, 2, "ingest", "complete", "NULL", "NULL"),
            (2, 2, "train", "failed", f"'{CTRL_C}'", "NULL"),
            (3, 3, "train", "failed", "'ValueError: boom'", "NULL"),
            (4, 4, "train", "failed", f"'{BY_RUNNER}'", "NULL"),
            (5, 5, "ingest", "cached", "NULL", "1"),
        ]
    ),
    f"INSERT INTO artifacts VALUES (1, 'Examples', '/a/1', 'taxi/r-ctrl-c/ingest/examples', "
    f"'live', 'fp', '{{}}', {T0})",
    "INSERT INTO events VALUES (1, 1, 1, 'output', 'examples')",
    "INSERT INTO events VALUES (2, 1, 2, 'input', 'examples')",
    "INSERT INTO events VALUES (3, 1, 5, 'output', 'examples')",
    *(f"INSERT INTO associations VALUES ({run}, {pk})" for pk, run in [(1, 2), (2, 2), (3, 3)]),
    "INSERT INTO attributions VALUES (2, 1)",
]


def _v1_sqlite_file(path: str) -> None:
    """Write a store file as a release at migration 1 left it, with `sqlite3` alone."""
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA foreign_keys = ON")
        db.executescript(V1_SCHEMA.read_text(encoding="utf-8"))
        db.execute(
            "INSERT INTO schema_migrations VALUES (1, 'initial schema', '2026-01-05 11:00:00')"
        )
        for statement in V1_ROWS:
            db.execute(statement)
    db.close()


def _v1_store(store_url: str, engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        database = make_url(store_url).database
        assert database is not None
        _v1_sqlite_file(database)
        return
    migrate(engine, MIGRATIONS[:1])
    with engine.begin() as conn:
        for statement in V1_ROWS:
            conn.execute(text(statement))
        for name in ("contexts", "executions", "artifacts", "events"):  # ids were given
            conn.execute(text(f"SELECT setval('{name}_id_seq', (SELECT max(id) FROM {name}))"))


def _schema(url: str) -> dict[str, dict[str, object]]:
    """Every table's columns, keys, constraints and indexes, as SQLAlchemy reads them back."""
    engine = create_engine(url)
    try:
        inspector = inspect(engine)
        return {
            name: {
                "columns": [
                    (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(name)
                ],
                "primary_key": inspector.get_pk_constraint(name),
                "foreign_keys": sorted(map(repr, inspector.get_foreign_keys(name))),
                "unique": sorted(map(repr, inspector.get_unique_constraints(name))),
                "checks": sorted(map(repr, inspector.get_check_constraints(name))),
                "indexes": sorted(map(repr, inspector.get_indexes(name))),
            }
            for name in inspector.get_table_names()
        }
    finally:
        engine.dispose()


def test_the_frozen_version_1_step_creates_what_version_1_created(tmp_path: Path) -> None:
    frozen = f"sqlite:///{tmp_path / 'frozen.db'}"
    engine = create_engine(frozen)
    try:
        assert migrate(engine, MIGRATIONS[:1]) == 1
    finally:
        engine.dispose()
    _v1_sqlite_file(str(tmp_path / "released.db"))
    assert _schema(frozen) == _schema(f"sqlite:///{tmp_path / 'released.db'}")


def test_a_version_1_store_is_migrated_and_interrupted_rows_say_so(
    store_url: str, engine: Engine
) -> None:
    _v1_store(store_url, engine)
    store = SqlStore(store_url)
    try:
        runs = {run.id: run.state for run in store.list_runs()}
        assert runs == {
            "r-ctrl-c": "interrupted",
            "r-broken": "failed",  # the user's code failed
            "r-internal": "failed",  # the runner failed; its node was stopped, not the run
            "r-complete": "complete",
        }
        executions = {
            e.id: (e.state, e.error, e.cached_from)
            for run in runs
            for e in store.list_executions(run)
        }
        assert executions == {
            1: ("complete", None, None),
            2: ("interrupted", CTRL_C, None),
            3: ("failed", "ValueError: boom", None),
            4: ("interrupted", BY_RUNNER, None),
            5: ("cached", None, 1),
        }
        # Lineage and the cache survive the rebuilt tables.
        assert {(e.execution_id, e.kind) for e in store.events_of_artifact(1)} == {
            (1, "output"),
            (2, "input"),
            (5, "output"),
        }
        cached = store.find_cached("key-1")
        assert cached is not None
        assert cached[0].id == 1
        assert cached[1]["examples"].id == 1
        # The new state is writable, and the constraint still rejects what is no state.
        run = store.create_run("taxi")
        started = store.start_execution(
            run.id, node="train", component="train", parameters={}, cache_key="k",
            inputs={"examples": 1},
        )  # fmt: skip
        store.fail_execution(started.id, "interrupted by SIGTERM", state="interrupted")
        assert store.finish_run(run.id, "interrupted").state == "interrupted"
        assert store.get_execution(started.id).state == "interrupted"
    finally:
        store.close()
    with engine.connect() as conn:
        assert schema_version(conn) == MIGRATIONS[-1].version
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("UPDATE executions SET state = 'paused' WHERE id = 1"))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("UPDATE contexts SET state = 'paused' WHERE id = 2"))


def test_the_migrated_schema_is_the_one_tables_py_declares(
    store_url: str, engine: Engine, tmp_path: Path
) -> None:
    _v1_store(store_url, engine)
    SqlStore(store_url).close()
    inspector = inspect(engine)
    for table in (tables.contexts, tables.executions):
        checks = {c["name"]: c["sqltext"] for c in inspector.get_check_constraints(table.name)}
        assert "'interrupted'" in checks[f"ck_{table.name}_state_valid"]
        assert len(checks) == len(
            [c for c in table.constraints if type(c).__name__ == "CheckConstraint"]
        )
        indexes = {
            index["name"]
            for index in inspector.get_indexes(table.name)
            if not index.get("duplicates_constraint")  # a unique constraint's own index
        }
        assert indexes == {index.name for index in table.indexes}
        foreign_keys = {
            (fk["name"], fk["referred_table"]) for fk in inspector.get_foreign_keys(table.name)
        }
        declared = {(fk.constraint.name, fk.column.table.name) for fk in table.foreign_keys}
        assert foreign_keys == declared
        # Migrating left the declared constraint alone: a new table still gets it.
        assert f"ck_{table.name}_state_valid" in str(CreateTable(table).compile(engine))
    assert not inspector.has_table("contexts_v2")
    assert not inspector.has_table("executions_v2")


def test_sqlite_foreign_keys_are_enforced_again_after_the_migration(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    _v1_sqlite_file(str(path))
    store = SqlStore(f"sqlite:///{path}")
    try:
        with store._engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        with pytest.raises(StoreError), store._write() as conn:
            conn.execute(text("INSERT INTO associations VALUES (99, 1)"))
    finally:
        store.close()


def test_a_broken_foreign_key_stops_the_migration_and_leaves_version_1(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    _v1_sqlite_file(str(path))
    with sqlite3.connect(path) as db:  # foreign keys are off in a bare connection
        db.execute("INSERT INTO associations VALUES (99, 1)")
    db.close()
    with pytest.raises(StoreError) as caught:
        SqlStore(f"sqlite:///{path}")
    message = str(caught.value)
    assert "schema version 2" in message
    assert "row 4 of table 'associations' names no row of 'contexts'" in message
    assert "unchanged" in message
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT max(version) FROM schema_migrations").fetchone() == (1,)
        assert db.execute("SELECT state FROM executions WHERE id = 2").fetchone() == ("failed",)
        [ddl] = db.execute("SELECT sql FROM sqlite_master WHERE name = 'executions'").fetchone()
        assert "'interrupted'" not in ddl
    db.close()
