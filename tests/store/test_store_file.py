"""A SQLite store whose file is deleted or replaced while open refuses every write after it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from shipyard.errors import PlatformError, StoreError
from shipyard.store.sql import SqlStore
from shipyard.store.sql.identity import StoreFile


def test_a_deleted_store_file_fails_the_next_write(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        run = store.create_run("p")
        (tmp_path / "store.db").unlink()
        with pytest.raises(StoreError, match=r"was deleted while it was open") as caught:
            store.finish_run(run.id, "complete")
        assert isinstance(caught.value, PlatformError)
        assert caught.value.path == str(tmp_path / "store.db")
        assert "run the pipeline again" in str(caught.value)
    finally:
        store.close()


def test_a_replaced_store_file_fails_the_next_write(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    store = SqlStore(f"sqlite:///{path}")
    try:
        run = store.create_run("p")
        shutil.copy(path, tmp_path / "backup.db")
        os.replace(tmp_path / "backup.db", path)
        with pytest.raises(StoreError, match=r"was replaced by another file"):
            store.finish_run(run.id, "complete")
        assert store.get_run(run.id).state == "running"  # reads still work
    finally:
        store.close()


def test_a_store_reopened_on_a_new_file_writes_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = SqlStore(url)
    store.create_run("p")
    store.close()
    (tmp_path / "store.db").unlink()
    fresh = SqlStore(url)
    try:
        run = fresh.create_run("p")
        assert fresh.finish_run(run.id, "complete").state == "complete"
        assert [r.id for r in fresh.list_runs()] == [run.id]
    finally:
        fresh.close()


def test_only_sqlite_files_have_an_identity(tmp_path: Path) -> None:
    assert StoreFile.of(make_url("postgresql+psycopg://u@h/db"), "db") is None
    with pytest.raises(StoreError, match="is gone"):
        StoreFile.of(make_url(f"sqlite:///{tmp_path / 'missing.db'}"), "missing")
