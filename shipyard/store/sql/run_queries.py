"""Run listings for `SqlStore`: filtered, sorted and paginated in SQL, and their outputs.

`find_runs` answers a `RunQuery` with one query for the page and one for the count: with
10,000 runs, sorting by a metric takes milliseconds in the database (each run's metrics are
a row each in `run_metrics`, written when the run ends) and would take seconds in Python.
`outputs_of_runs` reads the output artifacts of a page of runs (of the types a listing shows)
in one query instead of several per execution.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Float, Text, and_, bindparam, cast, func, or_, select

from shipyard.errors import InvalidParameterError
from shipyard.store.records import RUN_ORDERS, ArtifactRecord, RunOutput, RunPage, RunRecord
from shipyard.store.sql import statements as sql
from shipyard.store.sql.statements import pipeline_context, run_context
from shipyard.store.sql.tables import RUN_STATES, artifacts, events, executions, run_metrics

if TYPE_CHECKING:
    from collections.abc import Iterable
    from contextlib import AbstractContextManager

    from sqlalchemy import ColumnElement, Select
    from sqlalchemy.engine import Connection

    from shipyard.store.records import RunQuery

__all__ = ["RunQueries"]


class RunQueries:
    """The `MetadataStore` methods that list runs by a query, for `SqlStore`."""

    _url: str

    if TYPE_CHECKING:

        def _read(self) -> AbstractContextManager[Connection]: ...

    def find_runs(self, query: RunQuery) -> RunPage:
        """Return the page of runs `query` asks for and how many runs match it in all."""
        _check(query)
        with self._read() as conn:
            page, count = _select_page(query, conn.dialect.name)
            runs = [RunRecord(**row._mapping) for row in conn.execute(page)]
            total = len(runs) + query.offset if _is_last_page(query, runs) else conn.scalar(count)
        return RunPage(runs, int(total or 0))

    def outputs_of_runs(
        self, run_ids: Iterable[str], *, type_names: Iterable[str]
    ) -> list[RunOutput]:
        """Return the output artifacts of these runs' executions (cached ones included) whose
        type is one of `type_names`, in the order the executions were registered."""
        ids = list(dict.fromkeys(run_ids))
        types = list(type_names)
        outputs: list[RunOutput] = []
        with self._read() as conn:
            for chunk in sql.chunk(ids):
                rows = conn.execute(_OUTPUTS_OF_RUNS, {"run_ids": chunk, "types": types})
                outputs.extend(
                    RunOutput(run, node, port, ArtifactRecord(*artifact))
                    for run, node, port, *artifact in rows
                )
        return outputs


def _is_last_page(query: RunQuery, runs: list[RunRecord]) -> bool:
    """Whether the page holds the last match, so the count is known without a query."""
    if query.limit is None:
        return True
    return 0 < len(runs) < query.limit or (not runs and not query.offset and query.limit > 0)


def _check(query: RunQuery) -> None:
    problems = []
    if query.offset < 0:
        problems.append(f"The 'offset' of a run query must be an int >= 0. Got {query.offset}.")
    if query.limit is not None and query.limit < 0:
        problems.append(f"The 'limit' of a run query must be an int >= 0. Got {query.limit}.")
    if unknown := sorted(set(query.states) - set(RUN_STATES)):
        problems.append(
            f"The 'states' of a run query must be among {', '.join(RUN_STATES)}. Got {unknown}."
        )
    if query.order_by not in RUN_ORDERS and not query.metric:
        problems.append(
            "The 'order_by' of a run query must be started_at, duration_s or metrics.NAME. "
            f"Got {query.order_by!r}."
        )
    if problems:
        raise InvalidParameterError(" ".join(problems))


def _select_page(query: RunQuery, dialect: str) -> tuple[Select[Any], Select[Any]]:
    """The query for the page of runs and the query counting every match."""
    matching = sql.select_runs(pipeline=query.pipeline, limit=None).order_by(None)
    if query.states:
        matching = matching.where(run_context.c.state.in_(query.states))
    if query.search:
        text = query.search.lower()
        matching = matching.where(
            or_(
                func.lower(run_context.c.name).contains(text, autoescape=True),
                func.lower(pipeline_context.c.name).contains(text, autoescape=True),
                func.lower(cast(run_context.c.properties, Text)).contains(text, autoescape=True),
            )
        )
    count = select(func.count()).select_from(matching.subquery())
    if query.metric is not None:
        matching = matching.outerjoin(
            run_metrics,
            and_(run_metrics.c.run_id == run_context.c.id, run_metrics.c.name == query.metric),
        )
        key: ColumnElement[Any] = run_metrics.c.value
    else:
        key = _sort_key(query, dialect)
    ordered = key.desc() if query.descending else key.asc()
    newest = run_context.c.started_at.desc() if query.descending else run_context.c.started_at
    page = (
        matching.order_by(ordered.nulls_last(), newest, run_context.c.id.desc())
        .offset(query.offset)
        .limit(query.limit)
    )
    return page, count


def _sort_key(query: RunQuery, dialect: str) -> ColumnElement[Any]:
    if query.order_by == "duration_s":
        started, ended = run_context.c.started_at, run_context.c.ended_at
        if dialect == "sqlite":
            return _sqlite_seconds_between(started, ended)
        return func.extract("epoch", ended - started)
    return run_context.c.started_at


def _sqlite_seconds_between(
    started: ColumnElement[Any], ended: ColumnElement[Any]
) -> ColumnElement[Any]:
    """Seconds from `started` to `ended`, to the microsecond: SQLite keeps times as text
    (`2026-01-05 12:03:07.123456`) and its julianday() keeps milliseconds only, so whole
    seconds and the fraction are taken apart."""
    whole = func.round(
        (func.julianday(func.substr(ended, 1, 19)) - func.julianday(func.substr(started, 1, 19)))
        * 86400.0
    )
    fraction = cast(func.substr(ended, 20), Float) - cast(func.substr(started, 20), Float)
    return whole + fraction


_OUTPUTS_OF_RUNS = (
    select(run_context.c.name, executions.c.node, events.c.name, *sql.ARTIFACT_COLUMNS)
    .select_from(
        executions.join(run_context, executions.c.run_id == run_context.c.id)
        .join(events, and_(events.c.execution_id == executions.c.id, events.c.kind == "output"))
        .join(artifacts, artifacts.c.id == events.c.artifact_id)
    )
    .where(
        run_context.c.type == "run",
        run_context.c.name.in_(bindparam("run_ids", expanding=True)),
        artifacts.c.type_name.in_(bindparam("types", expanding=True)),
    )
    .order_by(executions.c.id, events.c.id)
)
