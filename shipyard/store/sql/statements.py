"""The queries `SqlStore` runs, built once with bound parameters.

A statement built at import time costs SQLAlchemy a cache lookup per call instead of a build
and, on an engine that has run it before, no compilation: the runner calls the store several
times per node. The few queries whose shape depends on optional filters are built by
`select_runs` and `select_artifacts`.

Runs and pipelines are both rows of `contexts`; `run_context` and `pipeline_context` are the
two aliases the run queries join.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import bindparam, delete, func, insert, select, update

from shipyard.store.sql.tables import (
    artifacts,
    associations,
    attributions,
    contexts,
    events,
    executions,
    run_metrics,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    from sqlalchemy import Select
    from sqlalchemy.engine import Connection

__all__ = [
    "ABANDON_EXECUTIONS",
    "ABANDON_RUN",
    "ARTIFACT",
    "ARTIFACT_COLUMNS",
    "CACHED",
    "DELETE_ARTIFACTS",
    "EVENTS_OF_ARTIFACT",
    "EVENTS_OF_EXECUTION",
    "EXECUTION",
    "EXECUTIONS_OF_RUN",
    "EXECUTION_STATE",
    "EXISTING_ARTIFACTS",
    "EXISTING_RUNS",
    "FINISH_EXECUTION",
    "FINISH_RUN",
    "HOLDERS",
    "INSERT_ARTIFACTS",
    "INSERT_ASSOCIATION",
    "INSERT_ATTRIBUTIONS",
    "INSERT_CONTEXT",
    "INSERT_EVENTS",
    "INSERT_EXECUTION",
    "MAX_CANDIDATES",
    "OUTPUTS",
    "PIPELINE_CONTEXT",
    "RUN",
    "RUNS_BY_PREFIX",
    "RUN_CONTEXT",
    "USED_ARTIFACTS",
    "chunk",
    "replace_run_metrics",
    "select_artifacts",
    "select_runs",
]

MAX_CANDIDATES: Final = 10  # runs an ambiguous prefix error lists
_CHUNK_SIZE: Final = 500  # ids per IN (...) list, well below every driver's parameter limit

# Runs -------------------------------------------------------------------------------------
run_context = contexts.alias("run")
pipeline_context = contexts.alias("pipeline")
_RUN_JOIN: Final = run_context.join(
    pipeline_context, run_context.c.parent_id == pipeline_context.c.id
)
_SELECT_RUNS: Final = (
    select(
        run_context.c.name.label("id"),
        pipeline_context.c.name.label("pipeline"),
        run_context.c.state,
        run_context.c.started_at,
        run_context.c.ended_at,
        run_context.c.properties,
    )
    .select_from(_RUN_JOIN)
    .where(run_context.c.type == "run")
    .order_by(run_context.c.started_at.desc(), run_context.c.id.desc())
)
RUN: Final = _SELECT_RUNS.where(run_context.c.name == bindparam("run_id"))
RUNS_BY_PREFIX: Final = _SELECT_RUNS.where(
    func.substr(run_context.c.name, 1, bindparam("length")) == bindparam("prefix")
).limit(MAX_CANDIDATES + 1)
RUN_CONTEXT: Final = (
    select(run_context.c.id, pipeline_context.c.name)
    .select_from(_RUN_JOIN)
    .where(run_context.c.type == "run", run_context.c.name == bindparam("run_id"))
)
EXISTING_RUNS: Final = select(contexts.c.name).where(
    contexts.c.type == "run", contexts.c.name.in_(bindparam("run_ids", expanding=True))
)
PIPELINE_CONTEXT: Final = select(contexts.c.id).where(
    contexts.c.type == "pipeline", contexts.c.name == bindparam("pipeline")
)
INSERT_CONTEXT: Final = insert(contexts).returning(contexts.c.id)
FINISH_RUN: Final = (
    update(contexts)
    .where(contexts.c.type == "run", contexts.c.name == bindparam("run_id"))
    .values(state=bindparam("new_state"), ended_at=bindparam("now"))
)
ABANDON_RUN: Final = (
    update(contexts)
    .where(contexts.c.id == bindparam("run_pk"), contexts.c.state == "running")
    .values(state="abandoned", ended_at=bindparam("now"))
)
ABANDON_EXECUTIONS: Final = (
    update(executions)
    .where(executions.c.run_id == bindparam("run_pk"), executions.c.state == "running")
    .values(state="abandoned", ended_at=bindparam("now"))
)

# Executions -------------------------------------------------------------------------------
_SELECT_EXECUTIONS: Final = select(
    executions.c.id,
    run_context.c.name.label("run_id"),
    pipeline_context.c.name.label("pipeline"),
    executions.c.node,
    executions.c.component,
    executions.c.parameters,
    executions.c.cache_key,
    executions.c.state,
    executions.c.started_at,
    executions.c.ended_at,
    executions.c.error,
    executions.c.cached_from,
).select_from(executions.join(_RUN_JOIN, executions.c.run_id == run_context.c.id))
EXECUTION: Final = _SELECT_EXECUTIONS.where(executions.c.id == bindparam("execution_id"))
EXECUTIONS_OF_RUN: Final = _SELECT_EXECUTIONS.where(
    run_context.c.name == bindparam("run_id")
).order_by(executions.c.id)
EXECUTION_STATE: Final = select(executions.c.state).where(
    executions.c.id == bindparam("execution_id")
)
INSERT_EXECUTION: Final = insert(executions).returning(executions.c.id)
INSERT_ASSOCIATION: Final = insert(associations)
FINISH_EXECUTION: Final = (
    update(executions)
    .where(executions.c.id == bindparam("execution_id"), executions.c.state == "running")
    .values(state=bindparam("new_state"), ended_at=bindparam("now"), error=bindparam("error"))
    .returning(executions.c.run_id)
)
_ALL_OUTPUTS_LIVE: Final = ~(
    select(events.c.id)
    .join(artifacts, events.c.artifact_id == artifacts.c.id)
    .where(
        events.c.execution_id == executions.c.id,
        events.c.kind == "output",
        artifacts.c.state != "live",
    )
    .exists()
)
CACHED: Final = (
    _SELECT_EXECUTIONS.where(
        executions.c.cache_key == bindparam("cache_key"),
        executions.c.state == "complete",
        _ALL_OUTPUTS_LIVE,
    )
    .order_by(executions.c.ended_at.desc(), executions.c.id.desc())
    .limit(1)
)
# What answers for a key: its running executions and its complete ones with live outputs, in
# ONE statement, so one snapshot: on PostgreSQL (read committed) two statements could see an
# execution neither running (the first) nor complete (the second) when it completes between.
HOLDERS: Final = _SELECT_EXECUTIONS.where(
    executions.c.cache_key == bindparam("cache_key"),
    (executions.c.state == "running") | ((executions.c.state == "complete") & _ALL_OUTPUTS_LIVE),
)

# Artifacts and events ---------------------------------------------------------------------
ARTIFACT_COLUMNS: Final = (
    artifacts.c.id,
    artifacts.c.type_name,
    artifacts.c.uri,
    artifacts.c.name,
    artifacts.c.state,
    artifacts.c.fingerprint,
    artifacts.c.properties,
    artifacts.c.created_at,
)
ARTIFACT: Final = select(*ARTIFACT_COLUMNS).where(artifacts.c.id == bindparam("artifact_id"))
OUTPUTS: Final = (
    select(events.c.name, *ARTIFACT_COLUMNS)
    .join(artifacts, events.c.artifact_id == artifacts.c.id)
    .where(events.c.execution_id == bindparam("execution_id"), events.c.kind == "output")
)
EXISTING_ARTIFACTS: Final = select(artifacts.c.id).where(
    artifacts.c.id.in_(bindparam("ids", expanding=True))
)
INSERT_ARTIFACTS: Final = insert(artifacts).returning(artifacts.c.id, sort_by_parameter_order=True)
INSERT_ATTRIBUTIONS: Final = insert(attributions)
DELETE_ARTIFACTS: Final = (
    update(artifacts)
    .where(artifacts.c.id.in_(bindparam("ids", expanding=True)))
    .values(state="deleted")
)
USED_ARTIFACTS: Final = (
    select(events.c.artifact_id)
    .join(executions, events.c.execution_id == executions.c.id)
    .join(contexts, executions.c.run_id == contexts.c.id)
    .where(contexts.c.type == "run", contexts.c.name.in_(bindparam("run_ids", expanding=True)))
    .distinct()
)

_SELECT_EVENTS: Final = select(
    events.c.artifact_id, events.c.execution_id, events.c.kind, events.c.name
).order_by(events.c.id)
EVENTS_OF_EXECUTION: Final = _SELECT_EVENTS.where(
    events.c.execution_id == bindparam("execution_id")
)
EVENTS_OF_ARTIFACT: Final = _SELECT_EVENTS.where(events.c.artifact_id == bindparam("artifact_id"))
INSERT_EVENTS: Final = insert(events)


def select_runs(*, pipeline: str | None, limit: int | None) -> Select[Any]:
    """Return the query for runs, newest first, of one pipeline or all, at most `limit`."""
    query = _SELECT_RUNS.limit(limit)
    if pipeline is not None:
        query = query.where(pipeline_context.c.name == pipeline)
    return query


def select_artifacts(
    *, run_id: str | None, pipeline: str | None, type_name: str | None, state: str | None
) -> Select[Any]:
    """Return the query for artifacts, oldest first, filtered by run, pipeline, type, state."""
    query = select(*ARTIFACT_COLUMNS).order_by(artifacts.c.id)
    if state is not None:
        query = query.where(artifacts.c.state == state)
    if type_name is not None:
        query = query.where(artifacts.c.type_name == type_name)
    if run_id is not None or pipeline is not None:
        query = query.join(attributions, attributions.c.artifact_id == artifacts.c.id).join(
            _RUN_JOIN, attributions.c.context_id == run_context.c.id
        )
    if run_id is not None:
        query = query.where(run_context.c.type == "run", run_context.c.name == run_id)
    if pipeline is not None:
        query = query.where(run_context.c.type == "run", pipeline_context.c.name == pipeline)
    return query


def chunk(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    """Split ids into slices short enough for one `IN (...)` list."""
    for start in range(0, len(values), _CHUNK_SIZE):
        yield values[start : start + _CHUNK_SIZE]


def replace_run_metrics(conn: Connection, run_id: str, metrics: Mapping[str, float]) -> None:
    """Make `metrics` the metrics recorded for run `run_id` (replacing any it had)."""
    run_pk = select(contexts.c.id).where(contexts.c.type == "run", contexts.c.name == run_id)
    conn.execute(delete(run_metrics).where(run_metrics.c.run_id == run_pk.scalar_subquery()))
    if metrics:
        pk = conn.scalar(run_pk)
        rows = [{"run_id": pk, "name": name, "value": value} for name, value in metrics.items()]
        conn.execute(insert(run_metrics), rows)
