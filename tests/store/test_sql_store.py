"""SqlStore behaviour beyond the conformance suite: URLs, SQLite settings, errors, details."""

from __future__ import annotations

import re
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from shipyard.errors import (
    ConfigError,
    InvalidParameterError,
    NotFoundError,
    StoreError,
)
from shipyard.store import MetadataStore, NewArtifact, open_store
from shipyard.store.sql import SqlStore
from shipyard.store.sql import store as store_module

if TYPE_CHECKING:
    from pathlib import Path

    from shipyard.store.records import ExecutionRecord, RunRecord


def _artifact(run: RunRecord, node: str, port: str = "out") -> NewArtifact:
    name = f"{run.pipeline}/{run.id}/{node}/{port}"
    return NewArtifact(type_name="Examples", uri=f"/artifacts/{name}", fingerprint="f", name=name)


def _start(store: SqlStore, run: RunRecord, node: str, key: str = "k") -> ExecutionRecord:
    return store.start_execution(
        run.id, node=node, component=node, parameters={}, cache_key=key, inputs={}
    )


# Opening ----------------------------------------------------------------------------------
def test_open_store_returns_a_sql_store(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        assert isinstance(store, SqlStore)
        assert isinstance(store, MetadataStore)
        assert store.name == "sql"
    finally:
        store.close()


def test_relative_sqlite_path_creates_its_directories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = SqlStore("sqlite:///deep/er/store.db")
    store.close()
    assert (tmp_path / "deep" / "er" / "store.db").is_file()
    assert store.url == "sqlite:///deep/er/store.db"


def test_sqlite_store_persists_across_reopening(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    first = SqlStore(url)
    run = first.create_run("taxi", properties={"k": "v"})
    first.close()
    second = SqlStore(url)
    try:
        assert second.get_run(run.id) == run
    finally:
        second.close()


def test_sqlite_is_in_wal_mode_with_the_configured_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    store = SqlStore(f"sqlite:///{path}")
    try:
        with store._engine.connect() as conn:
            pragmas = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
            }
    finally:
        store.close()
    assert pragmas == {
        "journal_mode": "wal",
        "synchronous": 1,  # NORMAL
        "busy_timeout": 30_000,
        "foreign_keys": 1,
    }
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)  # persisted in the file
    finally:
        raw.close()


def test_sqlite_writer_waits_for_another_writer_instead_of_failing(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    store = SqlStore(f"sqlite:///{path}")
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock ...
        release = threading.Timer(0.3, other.execute, ["COMMIT"])  # ... for a moment
        release.start()
        run = store.create_run("taxi")
        release.join()
        assert store.get_run(run.id).state == "running"
    finally:
        other.close()
        store.close()


@pytest.mark.postgres
def test_postgresql_url_without_driver_uses_psycopg(postgres_url: str) -> None:
    bare = make_url(postgres_url).set(drivername="postgresql")
    store = SqlStore(bare.render_as_string(hide_password=False))
    try:
        assert store.url.startswith("postgresql+psycopg://")
        assert store.list_runs(pipeline="nothing-here") == []
    finally:
        store.close()


@pytest.mark.postgres
def test_url_masks_the_password(postgres_url: str) -> None:
    with_password = make_url(postgres_url).set(password="s3cret")  # the server trusts anyone
    store = SqlStore(with_password.render_as_string(hide_password=False))
    try:
        assert "s3cret" not in store.url
        assert "***" in store.url
        assert "s3cret" not in repr(store)
    finally:
        store.close()


def test_unreachable_server_raises_store_error_naming_the_masked_url() -> None:
    with pytest.raises(StoreError) as caught:
        SqlStore("postgresql://shipyard:hunter2@127.0.0.1:1/metadata")
    message = str(caught.value)
    assert "127.0.0.1:1/metadata" in message
    assert "hunter2" not in message
    assert "PostgreSQL server is running" in message


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url", "Cannot parse the store URL"),
        ("sqlite://", "in-memory"),
        ("sqlite:///:memory:", "in-memory"),
        ("mysql://u:topsecret@host/db", "supports SQLite and PostgreSQL"),
    ],
)
def test_unusable_urls_raise_config_error(url: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected) as caught:
        SqlStore(url)
    assert "topsecret" not in str(caught.value)


def test_sqlite_path_that_is_not_a_database_raises_store_error(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    path.write_bytes(b"this is not a SQLite database, just some bytes" * 100)
    with pytest.raises(StoreError, match=r"Cannot open the metadata store at sqlite:///"):
        SqlStore(f"sqlite:///{path}")


def test_sqlite_path_that_is_a_directory_raises_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=re.escape(str(tmp_path))):
        SqlStore(f"sqlite:///{tmp_path}")


# Runs -------------------------------------------------------------------------------------
def test_run_id_is_its_utc_start_time_and_a_random_suffix(store: SqlStore) -> None:
    run = store.create_run("taxi")
    assert run.id.startswith(run.started_at.strftime("%Y-%m-%dT%H-%M-%S-"))
    assert run.started_at.utcoffset() == timedelta(0)
    assert abs((datetime.now(UTC) - run.started_at).total_seconds()) < 60


def test_run_id_collision_is_retried(store: SqlStore, monkeypatch: pytest.MonkeyPatch) -> None:
    frozen = datetime(2026, 11, 22, 9, 50, 12, tzinfo=UTC)
    suffixes = iter(["ab12", "ab12", "ab12", "cd34"])
    monkeypatch.setattr(store_module, "_now", lambda: frozen)
    monkeypatch.setattr(store_module.secrets, "token_hex", lambda _n: next(suffixes))
    first = store.create_run("taxi")
    second = store.create_run("taxi")
    assert first.id == "2026-11-22T09-50-12-ab12"
    assert second.id == "2026-11-22T09-50-12-cd34"
    assert {run.id for run in store.list_runs()} == {first.id, second.id}


def test_ambiguous_prefix_lists_the_candidates(store: SqlStore) -> None:
    runs = [store.create_run("taxi") for _ in range(2)]
    with pytest.raises(NotFoundError, match="ambiguous") as caught:
        store.get_run(runs[0].id[:4])
    assert all(run.id in str(caught.value) for run in runs)


def test_unknown_run_error_names_the_run_and_store(store: SqlStore) -> None:
    with pytest.raises(NotFoundError) as caught:
        store.get_run("2020-01-01T00")
    assert "2020-01-01T00" in str(caught.value)
    assert store.url in str(caught.value)


def test_empty_run_id_is_not_a_prefix_of_everything(store: SqlStore) -> None:
    store.create_run("taxi")
    with pytest.raises(NotFoundError):
        store.get_run("")


def test_prefix_lookup_is_literal(store: SqlStore) -> None:
    run = store.create_run("taxi")
    for pattern in ("%", "_", run.id[:3] + "%", run.id.replace("T", "t")):
        with pytest.raises(NotFoundError):
            store.get_run(pattern)


def test_list_runs_filters_by_pipeline_and_limits(store: SqlStore) -> None:
    taxi = [store.create_run("taxi").id for _ in range(3)]
    penguins = store.create_run("penguins").id
    assert [run.id for run in store.list_runs()] == [penguins, *taxi[::-1]]
    assert [run.id for run in store.list_runs(pipeline="taxi", limit=2)] == taxi[:0:-1]
    assert store.list_runs(limit=0) == []
    with pytest.raises(InvalidParameterError, match="'limit' parameter of list_runs"):
        store.list_runs(limit=-1)


def test_finish_run_rejects_running(store: SqlStore) -> None:
    run = store.create_run("taxi")
    with pytest.raises(InvalidParameterError, match="'state' parameter of finish_run"):
        store.finish_run(run.id, "running")


def test_abandon_run_keeps_a_finished_run_finished(store: SqlStore) -> None:
    run = store.create_run("taxi")
    finished = store.finish_run(run.id, "complete")
    store.abandon_run(run.id)
    assert store.get_run(run.id) == finished


# Executions -------------------------------------------------------------------------------
def test_only_a_running_execution_can_complete_or_fail(store: SqlStore) -> None:
    run = store.create_run("taxi")
    execution = _start(store, run, "ingest")
    store.complete_execution(execution.id, {"out": _artifact(run, "ingest")})
    with pytest.raises(StoreError, match="it is complete"):
        store.complete_execution(execution.id, {"out": _artifact(run, "ingest")})
    with pytest.raises(StoreError, match="it is complete"):
        store.fail_execution(execution.id, "boom")
    assert len(store.list_artifacts(run_id=run.id)) == 1
    assert store.get_execution(execution.id).state == "complete"


def test_record_execution_rejects_running(store: SqlStore) -> None:
    run = store.create_run("taxi")
    with pytest.raises(InvalidParameterError, match="finished state"):
        store.record_execution(
            run.id, node="n", component="c", parameters={}, cache_key="k", state="running",
            inputs={}, outputs={},
        )  # fmt: skip
    assert store.list_executions(run.id) == []


def test_find_cached_prefers_the_latest_completed(store: SqlStore) -> None:
    run = store.create_run("taxi")
    early = _start(store, run, "train", key="same")
    late = _start(store, run, "train", key="same")
    store.complete_execution(late.id, {"model": _artifact(run, "train", "late")})
    store.complete_execution(early.id, {"model": _artifact(run, "train", "early")})
    hit = store.find_cached("same")
    assert hit is not None
    assert hit[0].id == early.id
    assert hit[1]["model"].name.endswith("/early")


def test_find_cached_returns_every_output_port(store: SqlStore) -> None:
    run = store.create_run("taxi")
    execution = _start(store, run, "split", key="split")
    ports = {port: _artifact(run, "split", port) for port in ("train", "eval", "test")}
    registered = store.complete_execution(execution.id, ports)
    hit = store.find_cached("split")
    assert hit is not None
    assert hit[1] == registered
    assert {port: a.uri for port, a in hit[1].items()} == {p: n.uri for p, n in ports.items()}


def test_complete_execution_without_outputs_is_a_cache_hit(store: SqlStore) -> None:
    run = store.create_run("taxi")
    execution = _start(store, run, "check", key="no-outputs")
    assert store.complete_execution(execution.id, {}) == {}
    hit = store.find_cached("no-outputs")
    assert hit is not None
    assert hit == (store.get_execution(execution.id), {})


def test_parameters_and_properties_round_trip_as_json(store: SqlStore) -> None:
    parameters = {"a": 1, "b": [1.5, "x", None], "c": {"d": True}, "ünï": "cödé"}
    run = store.create_run("taxi", properties=parameters)
    execution = store.start_execution(
        run.id, node="n", component="c", parameters=parameters, cache_key="k", inputs={}
    )
    assert store.get_run(run.id).properties == parameters
    assert store.get_execution(execution.id).parameters == parameters


@pytest.mark.parametrize("value", [object(), float("nan")])
def test_values_json_cannot_encode_are_invalid_parameters(store: SqlStore, value: object) -> None:
    run = store.create_run("taxi")
    with pytest.raises(InvalidParameterError, match="JSON-serialisable") as caught:
        store.start_execution(
            run.id, node="n", component="c", parameters={"x": value}, cache_key="k", inputs={}
        )
    assert store.url in str(caught.value)
    with pytest.raises(InvalidParameterError, match="JSON-serialisable"):
        store.create_run("taxi", properties={"x": value})
    assert store.list_executions(run.id) == []
    assert [r.id for r in store.list_runs()] == [run.id]


def test_executions_are_associated_with_their_run(store: SqlStore) -> None:
    from shipyard.store.sql.tables import associations, attributions

    run = store.create_run("taxi")
    execution = _start(store, run, "ingest")
    outputs = store.complete_execution(execution.id, {"out": _artifact(run, "ingest")})
    with store._engine.connect() as conn:
        associated = conn.execute(associations.select()).all()
        attributed = conn.execute(attributions.select()).all()
    assert [row.execution_id for row in associated] == [execution.id]
    assert [row.artifact_id for row in attributed] == [outputs["out"].id]
    assert associated[0].context_id == attributed[0].context_id


def test_list_artifacts_combines_run_and_state(store: SqlStore) -> None:
    run = store.create_run("taxi")
    other = store.create_run("taxi")
    mine = store.complete_execution(
        _start(store, run, "a").id, {"x": _artifact(run, "a", "x"), "y": _artifact(run, "a", "y")}
    )
    store.complete_execution(_start(store, other, "a").id, {"x": _artifact(other, "a")})
    store.mark_artifacts_deleted([mine["x"].id])
    assert store.list_artifacts(run_id=run.id, state="live") == [store.get_artifact(mine["y"].id)]
    assert [a.id for a in store.list_artifacts(run_id=run.id, state="deleted")] == [mine["x"].id]
    assert len(store.list_artifacts()) == 3


def test_gc_primitives_handle_more_ids_than_one_query_takes(store: SqlStore) -> None:
    runs = [store.create_run("many") for _ in range(520)]
    execution = _start(store, runs[-1], "a")
    outputs = store.complete_execution(execution.id, {"x": _artifact(runs[-1], "a")})
    used = store.artifacts_used_by_runs(run.id for run in runs)
    assert used == {outputs["x"].id}
    store.mark_artifacts_deleted([outputs["x"].id] * 600)
    assert store.get_artifact(outputs["x"].id).state == "deleted"


def test_store_is_usable_from_several_threads(store: SqlStore) -> None:
    errors: list[BaseException] = []
    run = store.create_run("threads")

    def work(index: int) -> None:
        try:
            for step in range(10):
                execution = _start(store, run, f"t{index}-{step}", key=f"t{index}-{step}")
                store.complete_execution(execution.id, {"o": _artifact(run, f"t{index}-{step}")})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    executions = store.list_executions(run.id)
    assert len(executions) == 40
    assert {e.state for e in executions} == {"complete"}
    assert len(store.list_artifacts(run_id=run.id)) == 40


def test_schema_indexes_the_lookups_the_runner_makes(store: SqlStore) -> None:
    inspector = inspect(store._engine)
    indexed = {
        (table, tuple(index["column_names"]))
        for table in ("executions", "events", "contexts", "artifacts")
        for index in inspector.get_indexes(table)
    }
    assert ("executions", ("cache_key",)) in indexed
    assert ("executions", ("run_id",)) in indexed
    assert ("events", ("artifact_id",)) in indexed
    assert ("events", ("execution_id", "kind", "name")) in indexed
