"""Migration 4: `run_metrics`, filled from the evaluations of the runs a store held before it,
so that old runs sort by a metric too; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select

from shipyard.store import RunQuery
from shipyard.store.sql import SqlStore, tables
from shipyard.store.sql.migrations import LATEST_VERSION, MIGRATIONS, migrate, schema_version

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

T0 = datetime(2026, 1, 5, 12, tzinfo=UTC)


def _v3_store(engine: Engine) -> None:
    """A store at version 3 holding five runs, as a release before migration 4 recorded them.

    - `evaluated`: a ModelEvaluation (accuracy 0.7), then a Metrics artifact (accuracy 0.1,
      rows 9): the first artifact holding a metric gives it;
    - `metrics-only`: a Metrics artifact only (accuracy 0.9, a boolean and a text skipped);
    - `cached`: reuses `evaluated`'s evaluation through a cached execution;
    - `no-metrics`: an Examples artifact only; `running`: an evaluation, still running.
    """
    assert migrate(engine, MIGRATIONS[:3]) == 3
    runs = ["evaluated", "metrics-only", "cached", "no-metrics", "running"]
    contexts: list[dict[str, Any]] = [
        {"id": 1, "type": "pipeline", "name": "taxi", "parent_id": None, "state": None,
         "properties": {}, "started_at": T0, "ended_at": None},
    ]  # fmt: skip
    contexts += [
        {"id": pk, "type": "run", "name": name, "parent_id": 1,
         "state": "running" if name == "running" else "complete", "properties": {},
         "started_at": T0 + timedelta(minutes=pk), "ended_at": None}
        for pk, name in enumerate(runs, start=2)
    ]  # fmt: skip
    # (execution id, run pk, state, cached_from, [(artifact id, type, properties)])
    plan: list[tuple[int, int, str, int | None, list[tuple[int, str, dict[str, Any]]]]] = [
        (1, 2, "complete", None, [(1, "ModelEvaluation", {"metrics": {"accuracy": 0.7}})]),
        (2, 2, "complete", None, [(2, "Metrics", {"accuracy": 0.1, "rows": 9})]),
        (3, 3, "complete", None, [(3, "Metrics", {"accuracy": 0.9, "ok": True, "n": "x"})]),
        (4, 4, "cached", 1, [(1, "ModelEvaluation", {})]),
        (5, 5, "complete", None, [(4, "Examples", {"accuracy": 0.99})]),
        (6, 6, "complete", None, [(5, "ModelEvaluation", {"metrics": {"accuracy": 0.5}})]),
    ]
    executions, artifacts, events = [], [], []
    for execution, run, state, cached_from, outputs in plan:
        executions.append(
            {"id": execution, "run_id": run, "node": f"n{execution}", "component": "c",
             "parameters": {}, "cache_key": f"k{execution}", "state": state, "started_at": T0,
             "ended_at": T0, "error": None, "cached_from": cached_from}
        )  # fmt: skip
        for artifact, type_name, properties in outputs:
            if execution != 4:  # a cached execution outputs the artifact it reuses
                artifacts.append(
                    {"id": artifact, "type_name": type_name, "uri": f"/a/{artifact}",
                     "name": f"a{artifact}", "state": "live", "fingerprint": "f",
                     "properties": properties, "created_at": T0}
                )  # fmt: skip
            events.append(
                {"artifact_id": artifact, "execution_id": execution, "kind": "output",
                 "name": "out"}
            )  # fmt: skip
    with engine.begin() as conn:
        for table, rows in (
            (tables.contexts, contexts), (tables.executions, executions),
            (tables.artifacts, artifacts), (tables.events, events),
        ):  # fmt: skip
            conn.execute(insert(table), rows)


def test_a_version_3_store_gains_the_metrics_of_its_runs_and_sorts_by_them(
    store_url: str, engine: Engine
) -> None:
    _v3_store(engine)
    store = SqlStore(store_url)
    try:
        metrics, contexts = tables.run_metrics, tables.contexts
        named = select(contexts.c.name, metrics.c.name, metrics.c.value).join(
            contexts, contexts.c.id == metrics.c.run_id
        )
        with engine.connect() as conn:
            assert schema_version(conn) == LATEST_VERSION
            recorded = {(run, name): value for run, name, value in conn.execute(named)}
        assert recorded == {
            ("evaluated", "accuracy"): 0.7,
            ("evaluated", "rows"): 9.0,
            ("metrics-only", "accuracy"): 0.9,
            ("cached", "accuracy"): 0.7,
            ("running", "accuracy"): 0.5,
        }
        best = store.find_runs(RunQuery(order_by="metrics.accuracy"))
        assert [r.id for r in best.runs] == [
            "metrics-only", "cached", "evaluated", "running", "no-metrics"
        ]  # fmt: skip
        store.finish_run("running", "complete", metrics={"accuracy": 0.95})
        assert store.find_runs(RunQuery(order_by="metrics.accuracy", limit=1)).runs[0].id == (
            "running"
        )
    finally:
        store.close()
