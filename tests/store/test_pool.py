"""Stores on one database share an engine; closing the last one closes its connections."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from shipyard.errors import StoreError
from shipyard.store.sql import SqlStore, pool
from shipyard.store.sql.migrations import LATEST_VERSION
from tests.environment import child_environment

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


def _idle_connections(engine: Engine) -> int:
    return engine.pool.checkedin()  # type: ignore[attr-defined, no-any-return]


def _users(store: SqlStore) -> int:
    return store._lease.shared.users


def test_stores_on_one_database_share_an_engine(store_url: str) -> None:
    first = SqlStore(store_url)
    second = SqlStore(store_url)
    try:
        assert second._engine is first._engine
        run = first.create_run("taxi")
        first.close()
        assert second.get_run(run.id) == run  # closing one store leaves the other usable
    finally:
        first.close()
        second.close()


def test_stores_on_different_databases_do_not_share(tmp_path: Path) -> None:
    first = SqlStore(f"sqlite:///{tmp_path / 'a.db'}")
    second = SqlStore(f"sqlite:///{tmp_path / 'b.db'}")
    try:
        assert second._engine is not first._engine
    finally:
        first.close()
        second.close()


def test_closing_the_last_store_closes_every_connection(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    first = SqlStore(f"sqlite:///{path}")
    second = SqlStore(f"sqlite:///{path}")
    first.create_run("taxi")
    second.list_runs()
    engine = first._engine
    first.close()
    assert _idle_connections(engine) > 0  # still serving the second store
    second.close()
    assert _idle_connections(engine) == 0
    assert not path.with_name("store.db-wal").exists()  # SQLite checkpointed: no one is left


def test_a_reopened_store_reuses_the_engine_and_its_compiled_statements(
    store_url: str,
) -> None:
    first = SqlStore(store_url)
    first.list_runs()
    engine = first._engine
    first.close()
    second = SqlStore(store_url)
    try:
        assert second._engine is engine
        cached = len(engine._compiled_cache)  # type: ignore[arg-type]
        second.list_runs()
        assert len(engine._compiled_cache) == cached  # type: ignore[arg-type]  # nothing new
    finally:
        second.close()


def test_closing_a_store_twice_releases_it_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    first, second = SqlStore(url), SqlStore(url)
    first.close()
    first.close()
    try:
        assert _users(second) == 1
        second.create_run("taxi")
        assert _idle_connections(second._engine) > 0
    finally:
        second.close()
    assert _users(second) == 0


def test_a_newer_version_written_by_another_process_is_seen_by_the_next_store(
    tmp_path: Path,
) -> None:
    path = tmp_path / "store.db"
    url = f"sqlite:///{path}"
    held = SqlStore(url)
    try:
        other = sqlite3.connect(path)  # another process, with a newer Shipyard
        with other:
            other.execute(
                "INSERT INTO schema_migrations VALUES (?, 'from the future', '2030-01-01')",
                (LATEST_VERSION + 1,),
            )
        other.close()
        with pytest.raises(StoreError, match="newer than this Shipyard"):
            SqlStore(url)
    finally:
        held.close()
    with pytest.raises(StoreError, match="newer than this Shipyard"):
        SqlStore(url)


def test_a_store_at_the_current_version_opens_without_the_write_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "store.db"
    made = "from shipyard.store.sql import SqlStore; import sys; SqlStore(sys.argv[1]).close()"
    subprocess.run([sys.executable, "-c", made, f"sqlite:///{path}"], check=True)
    writer = sqlite3.connect(path, isolation_level=None)  # another process, mid-transaction
    writer.execute("BEGIN IMMEDIATE")

    def no_migration(engine: Engine) -> int:
        raise AssertionError("a store at the current version was migrated")

    monkeypatch.setattr(pool, "migrate", no_migration)
    try:
        store = SqlStore(f"sqlite:///{path}")  # the first store on it in this process
        assert store.list_runs() == []
        store.close()
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_a_deleted_sqlite_file_is_created_again(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "store.db"
    url = f"sqlite:///{path}"
    SqlStore(url).close()
    (tmp_path / "deep" / "store.db").unlink()
    (tmp_path / "deep").rmdir()
    store = SqlStore(url)
    try:
        assert store.list_runs() == []
        store.create_run("taxi")
    finally:
        store.close()
    assert path.is_file()


def test_a_store_that_fails_to_open_leaves_no_engine_behind(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    path.write_bytes(b"not a database" * 100)
    with pytest.raises(StoreError):
        SqlStore(f"sqlite:///{path}")
    assert not any(str(path) in key for key in pool._engines)


def test_only_a_few_unused_engines_are_kept(tmp_path: Path) -> None:
    for index in range(pool.MAX_IDLE + 3):
        SqlStore(f"sqlite:///{tmp_path / f'store-{index}.db'}").close()
    idle = [shared for shared in pool._engines.values() if shared.users == 0]
    assert len(idle) <= pool.MAX_IDLE
    newest = f"sqlite:///{tmp_path / f'store-{pool.MAX_IDLE + 2}.db'}"
    assert newest in pool._engines


def test_relative_sqlite_paths_name_the_file_in_the_directory_they_were_opened_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    monkeypatch.chdir(tmp_path / "a")
    in_a = SqlStore("sqlite:///store.db")
    monkeypatch.chdir(tmp_path / "b")
    in_b = SqlStore("sqlite:///store.db")
    try:
        assert in_b._engine is not in_a._engine
        run = in_a.create_run("taxi")
        assert [r.id for r in in_a.list_runs()] == [run.id]
        assert in_b.list_runs() == []
    finally:
        in_a.close()
        in_b.close()
    assert (tmp_path / "a" / "store.db").is_file()
    assert (tmp_path / "b" / "store.db").is_file()


def test_stores_open_and_close_from_many_threads(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    errors: list[BaseException] = []
    engines: set[int] = set()

    def work() -> None:
        try:
            for _ in range(15):
                store = SqlStore(url)
                try:
                    engines.add(id(store._engine))
                    store.create_run("threads")
                finally:
                    store.close()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(engines) == 1
    store = SqlStore(url)
    try:
        assert len(store.list_runs()) == 90
        assert _users(store) == 1
    finally:
        store.close()
    assert _idle_connections(store._engine) == 0


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_does_not_use_its_parents_connections(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    parent = SqlStore(url)
    try:
        run = parent.create_run("taxi")
        parents_pool = parent._engine.pool
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads, 3.12+
            pid = os.fork()
        if pid == 0:  # pragma: no cover - the child process
            code = 1
            try:
                child = SqlStore(url)
                fresh = child._engine.pool is not parents_pool
                child.create_run("child")
                child.close()
                code = 0 if fresh else 3
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert parent._engine.pool is parents_pool
        assert {r.pipeline for r in parent.list_runs()} == {"taxi", "child"}
        assert parent.get_run(run.id) == run
    finally:
        parent.close()


LEFT_OPEN = """
import sys
from sqlalchemy import event
from shipyard.store.sql import SqlStore

store = SqlStore(sys.argv[1])
event.listen(store._engine, "close", lambda *_: print("closed"))
store.create_run("taxi")
"""


@pytest.mark.slow
def test_connections_of_a_store_left_open_are_closed_at_exit(store_url: str) -> None:
    env = child_environment(checkout_first=True)
    done = subprocess.run(
        [sys.executable, "-W", "error", "-X", "dev", "-c", LEFT_OPEN, store_url],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.split() == ["closed"]
