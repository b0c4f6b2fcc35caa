"""The UI's store is read-only in the database itself, on SQLite and PostgreSQL, and still
names itself by the URL the user gave."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import create_engine

from shipyard.errors import NotFoundError, StoreError
from shipyard.store.sql import SqlStore
from shipyard.store.sql.migrations import LATEST_VERSION, MIGRATIONS, migrate
from shipyard.ui.read_only import open_read_only, read_only_url

if TYPE_CHECKING:
    from pathlib import Path


def test_reads_work_and_writes_fail_in_the_database(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    writer = SqlStore(store_url)
    run = writer.create_run("p", properties={"parameters": {"a": 1}})
    with open_read_only(store_url) as project:
        assert [r.id for r in project.store.list_runs()] == [run.id]
        assert project.store.url == writer.url  # the user's URL, not the read-only one
        with pytest.raises(StoreError, match=r"read-only|readonly"):
            project.store.create_run("p")
        with pytest.raises(StoreError, match=r"read-only|readonly"):
            project.store.finish_run(run.id, "complete")
    assert writer.get_run(run.id).state == "running"
    writer.close()
    assert not (tmp_path / "file:").exists()  # a file: URI is not a directory to make


def test_a_missing_sqlite_file_is_not_created(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'none' / 'store.db'}"
    with pytest.raises(NotFoundError, match="does not exist"):
        open_read_only(url)
    assert not (tmp_path / "none").exists()


def test_the_read_only_urls() -> None:
    assert read_only_url("sqlite:////srv/a b.db") == "sqlite:///file:/srv/a%20b.db?mode=ro&uri=true"
    assert read_only_url("postgresql://u@h/db?sslmode=require") == (
        "postgresql://u@h/db?sslmode=require&options=-c%20default_transaction_read_only%3Don"
    )


def test_a_store_that_needs_a_migration_says_to_run_a_writer_first(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    engine = create_engine(store_url)
    migrate(engine, MIGRATIONS[:3])  # a store from before run_metrics
    engine.dispose()
    with pytest.raises(
        StoreError, match=rf"schema version 3.*needs version {LATEST_VERSION}"
    ) as caught:
        open_read_only(store_url)
    assert "shipyard runs" in str(caught.value)
    SqlStore(store_url).close()  # what `shipyard runs` does: opening a writer migrates
    with open_read_only(store_url) as project:
        assert project.store.list_runs() == []
