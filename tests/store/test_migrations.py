"""Schema migrations: fresh stores, upgrades, failed steps, newer stores, idempotent opens."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    Table,
    UniqueConstraint,
    func,
    inspect,
    select,
)

from shipyard.errors import StoreError
from shipyard.store.sql import SqlStore, tables
from shipyard.store.sql.migrations import (
    LATEST_VERSION,
    MIGRATIONS,
    Migration,
    is_current,
    migrate,
    schema_migrations,
    schema_version,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine


def _writer(store: SqlStore) -> Engine:
    """The store's own write engine: on SQLite, its transactions make DDL transactional."""
    return store._writer


def _version(engine: Engine) -> int:
    with engine.connect() as conn:
        return schema_version(conn)


def _add_runs_note(conn: Connection) -> None:
    conn.exec_driver_sql("ALTER TABLE contexts ADD COLUMN note VARCHAR(200)")


def test_a_fresh_store_is_at_the_latest_version(store_url: str, engine: Engine) -> None:
    assert _version(engine) == 0
    SqlStore(store_url).close()
    assert _version(engine) == LATEST_VERSION
    with engine.connect() as conn:
        applied = conn.execute(select(schema_migrations.c.version)).scalars().all()
    assert applied == [step.version for step in MIGRATIONS]


def test_migrating_from_scratch_builds_the_schema_tables_py_declares(
    store_url: str, engine: Engine
) -> None:
    SqlStore(store_url).close()
    inspector = inspect(engine)
    for table in tables.metadata.sorted_tables:
        columns = {column["name"] for column in inspector.get_columns(table.name)}
        assert columns == set(table.columns.keys()), table.name
        indexes = {
            index["name"]
            for index in inspector.get_indexes(table.name)
            if not index.get("duplicates_constraint")  # PostgreSQL lists unique constraints too
        }
        assert indexes == {index.name for index in table.indexes}, table.name
        uniques = {
            constraint["name"] for constraint in inspector.get_unique_constraints(table.name)
        }
        declared = {c.name for c in table.constraints if isinstance(c, UniqueConstraint)}
        assert uniques == declared, table.name
    assert set(inspector.get_table_names()) == {
        *tables.metadata.tables,
        schema_migrations.name,
    }


def test_opening_twice_is_idempotent(store_url: str, engine: Engine) -> None:
    first = SqlStore(store_url)
    run = first.create_run("taxi")
    first.close()
    second = SqlStore(store_url)
    try:
        assert second.get_run(run.id) == run
    finally:
        second.close()
    with engine.connect() as conn:
        rows = conn.scalar(select(func.count()).select_from(schema_migrations))
    assert rows == len(MIGRATIONS)


def test_an_older_store_is_upgraded_in_order(store: SqlStore, engine: Engine) -> None:
    applied: list[int] = []

    def step(version: int) -> Migration:
        def upgrade(conn: Connection) -> None:
            applied.append(version)
            if version == LATEST_VERSION + 1:
                _add_runs_note(conn)
            else:
                Table(f"extra_{version}", MetaData(), Column("id", Integer)).create(conn)

        return Migration(version, f"test step {version}", upgrade)

    # `store` was written by this Shipyard; a newer one knows two more steps.
    first, second = LATEST_VERSION + 1, LATEST_VERSION + 2
    newer = (*MIGRATIONS, step(first), step(second))
    assert migrate(_writer(store), newer) == second
    assert migrate(_writer(store), newer) == second  # already there: nothing runs twice
    assert applied == [first, second]
    assert _version(engine) == second
    inspector = inspect(engine)
    assert "note" in {column["name"] for column in inspector.get_columns("contexts")}
    assert inspector.has_table(f"extra_{second}")


def test_a_failing_step_leaves_the_store_at_its_old_version(
    store: SqlStore, engine: Engine
) -> None:
    def broken(conn: Connection) -> None:
        Table("half_done", MetaData(), Column("id", Integer)).create(conn)
        conn.exec_driver_sql("ALTER TABLE no_such_table ADD COLUMN x INTEGER")

    broken_step = Migration(LATEST_VERSION + 1, "broken step", broken)
    with pytest.raises(
        StoreError, match=rf"version {LATEST_VERSION + 1} \(broken step\) failed"
    ) as caught:
        migrate(_writer(store), (*MIGRATIONS, broken_step))
    assert f"unchanged at version {LATEST_VERSION}" in str(caught.value)
    assert _version(engine) == LATEST_VERSION
    assert not inspect(engine).has_table("half_done")


def test_a_newer_store_asks_to_upgrade_shipyard(
    store_url: str, store: SqlStore, engine: Engine
) -> None:
    future = Migration(LATEST_VERSION + 1, "from the future", _add_runs_note)
    migrate(_writer(store), (*MIGRATIONS, future))
    with pytest.raises(StoreError) as caught:
        SqlStore(store_url)
    message = str(caught.value)
    assert (
        f"store schema version {LATEST_VERSION + 1} is newer than this Shipyard "
        f"(knows {LATEST_VERSION}); upgrade shipyard"
    ) in message
    assert "pip install --upgrade shipyard" in message
    assert _version(engine) == LATEST_VERSION + 1


def test_migration_versions_must_be_consecutive(engine: Engine) -> None:
    gap = (*MIGRATIONS, Migration(LATEST_VERSION + 2, "skips one", _add_runs_note))
    with pytest.raises(StoreError, match="must be 1, 2, 3"):
        migrate(engine, gap)
    assert _version(engine) == 0


def test_is_current_reads_whether_the_database_is_at_the_latest_version(
    store_url: str, engine: Engine
) -> None:
    assert not is_current(engine)  # no version table yet
    store = SqlStore(store_url)
    try:
        assert is_current(engine)
        future = Migration(LATEST_VERSION + 1, "from the future", _add_runs_note)
        migrate(_writer(store), (*MIGRATIONS, future))
        assert not is_current(engine)
        assert is_current(engine, (*MIGRATIONS, future))
    finally:
        store.close()
