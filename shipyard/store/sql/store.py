"""`SqlStore`: the `MetadataStore` on SQLite or PostgreSQL through SQLAlchemy Core."""

from __future__ import annotations

import json
import re
import secrets
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Final, NoReturn

from sqlalchemy import bindparam, create_engine, event, func, insert, select, update
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    ArgumentError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
    StatementError,
)

from shipyard.errors import (
    ConfigError,
    InvalidParameterError,
    NotFoundError,
    PluginNotInstalled,
    StoreError,
)
from shipyard.store.records import (
    ArtifactRecord,
    Event,
    ExecutionRecord,
    RunRecord,
)
from shipyard.store.sql.migrations import migrate
from shipyard.store.sql.tables import (
    EXECUTION_STATES,
    artifacts,
    associations,
    attributions,
    contexts,
    events,
    executions,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence

    from sqlalchemy.engine import Connection, Engine

    from shipyard.store.records import JSON, ExecutionState, NewArtifact, RunState

__all__ = ["SqlStore"]

_WRITE: Final = "shipyard_write"  # execution option: begin with BEGIN IMMEDIATE on SQLite
_RUN_ID_ATTEMPTS: Final = 20
_MAX_CANDIDATES: Final = 10
_CHUNK: Final = 500  # ids per IN (...) list, well below every driver's parameter limit
_URL_EXAMPLES: Final = "sqlite:///.shipyard/store.db or postgresql://user:password@host/db"

# Statements are built once, with bound parameters, so that a call costs SQLAlchemy a cache
# lookup instead of a statement build: the runner calls the store several times per node.
_run = contexts.alias("run")
_pipeline = contexts.alias("pipeline")
_RUN_JOIN: Final = _run.join(_pipeline, _run.c.parent_id == _pipeline.c.id)
_SELECT_RUNS: Final = (
    select(
        _run.c.name.label("id"),
        _pipeline.c.name.label("pipeline"),
        _run.c.state,
        _run.c.started_at,
        _run.c.ended_at,
        _run.c.properties,
    )
    .select_from(_RUN_JOIN)
    .where(_run.c.type == "run")
    .order_by(_run.c.started_at.desc(), _run.c.id.desc())
)
_RUN: Final = _SELECT_RUNS.where(_run.c.name == bindparam("run_id"))
_RUNS_BY_PREFIX: Final = _SELECT_RUNS.where(
    func.substr(_run.c.name, 1, bindparam("length")) == bindparam("prefix")
).limit(_MAX_CANDIDATES + 1)
_RUN_CONTEXT: Final = (
    select(_run.c.id, _pipeline.c.name)
    .select_from(_RUN_JOIN)
    .where(_run.c.type == "run", _run.c.name == bindparam("run_id"))
)
_EXISTING_RUNS: Final = select(contexts.c.name).where(
    contexts.c.type == "run", contexts.c.name.in_(bindparam("run_ids", expanding=True))
)
_PIPELINE_CONTEXT: Final = select(contexts.c.id).where(
    contexts.c.type == "pipeline", contexts.c.name == bindparam("pipeline")
)
_INSERT_CONTEXT: Final = insert(contexts).returning(contexts.c.id)
_FINISH_RUN: Final = (
    update(contexts)
    .where(contexts.c.type == "run", contexts.c.name == bindparam("run_id"))
    .values(state=bindparam("new_state"), ended_at=bindparam("now"))
)
_ABANDON_RUN: Final = (
    update(contexts)
    .where(contexts.c.id == bindparam("run_pk"), contexts.c.state == "running")
    .values(state="abandoned", ended_at=bindparam("now"))
)
_ABANDON_EXECUTIONS: Final = (
    update(executions)
    .where(executions.c.run_id == bindparam("run_pk"), executions.c.state == "running")
    .values(state="abandoned", ended_at=bindparam("now"))
)

_SELECT_EXECUTIONS: Final = select(
    executions.c.id,
    _run.c.name.label("run_id"),
    _pipeline.c.name.label("pipeline"),
    executions.c.node,
    executions.c.component,
    executions.c.parameters,
    executions.c.cache_key,
    executions.c.state,
    executions.c.started_at,
    executions.c.ended_at,
    executions.c.error,
    executions.c.cached_from,
).select_from(executions.join(_RUN_JOIN, executions.c.run_id == _run.c.id))
_EXECUTION: Final = _SELECT_EXECUTIONS.where(executions.c.id == bindparam("execution_id"))
_EXECUTIONS_OF_RUN: Final = _SELECT_EXECUTIONS.where(_run.c.name == bindparam("run_id")).order_by(
    executions.c.id
)
_EXECUTION_STATE: Final = select(executions.c.state).where(
    executions.c.id == bindparam("execution_id")
)
_INSERT_EXECUTION: Final = insert(executions).returning(executions.c.id)
_FINISH_EXECUTION: Final = (
    update(executions)
    .where(executions.c.id == bindparam("execution_id"), executions.c.state == "running")
    .values(state=bindparam("new_state"), ended_at=bindparam("now"), error=bindparam("error"))
    .returning(executions.c.run_id)
)
_CACHED: Final = (
    _SELECT_EXECUTIONS.where(
        executions.c.cache_key == bindparam("cache_key"),
        executions.c.state == "complete",
        ~select(events.c.id)
        .join(artifacts, events.c.artifact_id == artifacts.c.id)
        .where(
            events.c.execution_id == executions.c.id,
            events.c.kind == "output",
            artifacts.c.state != "live",
        )
        .exists(),
    )
    .order_by(executions.c.ended_at.desc(), executions.c.id.desc())
    .limit(1)
)

_ARTIFACT_COLUMNS: Final = (
    artifacts.c.id,
    artifacts.c.type_name,
    artifacts.c.uri,
    artifacts.c.name,
    artifacts.c.state,
    artifacts.c.fingerprint,
    artifacts.c.properties,
    artifacts.c.created_at,
)
_ARTIFACT: Final = select(*_ARTIFACT_COLUMNS).where(artifacts.c.id == bindparam("artifact_id"))
_OUTPUTS: Final = (
    select(events.c.name, *_ARTIFACT_COLUMNS)
    .join(artifacts, events.c.artifact_id == artifacts.c.id)
    .where(events.c.execution_id == bindparam("execution_id"), events.c.kind == "output")
)
_EXISTING_ARTIFACTS: Final = select(artifacts.c.id).where(
    artifacts.c.id.in_(bindparam("ids", expanding=True))
)
_INSERT_ARTIFACTS: Final = insert(artifacts).returning(artifacts.c.id, sort_by_parameter_order=True)
_DELETE_ARTIFACTS: Final = (
    update(artifacts)
    .where(artifacts.c.id.in_(bindparam("ids", expanding=True)))
    .values(state="deleted")
)
_USED_ARTIFACTS: Final = (
    select(events.c.artifact_id)
    .join(executions, events.c.execution_id == executions.c.id)
    .join(contexts, executions.c.run_id == contexts.c.id)
    .where(contexts.c.type == "run", contexts.c.name.in_(bindparam("run_ids", expanding=True)))
    .distinct()
)

_SELECT_EVENTS: Final = select(
    events.c.artifact_id, events.c.execution_id, events.c.kind, events.c.name
).order_by(events.c.id)
_EVENTS_OF_EXECUTION: Final = _SELECT_EVENTS.where(
    events.c.execution_id == bindparam("execution_id")
)
_EVENTS_OF_ARTIFACT: Final = _SELECT_EVENTS.where(events.c.artifact_id == bindparam("artifact_id"))


class SqlStore:
    """The metadata store in a SQLite file or a PostgreSQL database.

    Opening a store creates the SQLite file (and its directories) if needed and migrates the
    schema to the newest version. Every writing method runs in one transaction; on SQLite,
    write transactions begin with `BEGIN IMMEDIATE` in WAL mode, so several processes can
    share one file. The store is safe to use from several threads.

    Args:
        url: `sqlite:///relative/or/absolute/path.db` or `postgresql://user:pw@host/db`
            (the psycopg 3 driver is used unless the URL names another).

    Raises:
        ConfigError: The URL cannot be parsed or names an unsupported database.
        PluginNotInstalled: The database's driver is not installed.
        StoreError: The database cannot be reached, created or migrated.

    Example:
        >>> store = SqlStore("sqlite:///.shipyard/store.db")
        >>> run = store.create_run("taxi")
        >>> store.finish_run(run.id, "complete").state
        'complete'
        >>> store.close()
    """

    name: ClassVar[str] = "sql"

    def __init__(self, url: str) -> None:
        parsed = _parse_url(url)
        self._url = parsed.render_as_string(hide_password=True)
        self._hint = _hint(parsed)
        self._engine = _create_engine(parsed, self._url)
        self._writer = self._engine.execution_options(**{_WRITE: True})
        try:
            migrate(self._writer)
        except StoreError:
            self._engine.dispose()
            raise
        except SQLAlchemyError as exc:
            self._engine.dispose()
            raise StoreError(
                f"Cannot open the metadata store at {self._url}: {_reason(exc)}",
                hint=self._hint,
            ) from exc

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._url!r})"

    @property
    def url(self) -> str:
        """The store's URL, with any password masked."""
        return self._url

    def close(self) -> None:
        """Release the store's connections."""
        self._engine.dispose()

    # Runs ---------------------------------------------------------------------------------
    def create_run(self, pipeline: str, *, properties: JSON | None = None) -> RunRecord:
        """Register a new running run of `pipeline` with a fresh unique id."""
        props = dict(properties or {})
        for _ in range(_RUN_ID_ATTEMPTS):
            now = _now()
            run_id = f"{now:%Y-%m-%dT%H-%M-%S}-{secrets.token_hex(2)}"
            try:
                with self._write() as conn:
                    pipeline_pk = conn.scalar(_PIPELINE_CONTEXT, {"pipeline": pipeline})
                    if pipeline_pk is None:
                        pipeline_pk = conn.execute(
                            _INSERT_CONTEXT,
                            {
                                "type": "pipeline",
                                "name": pipeline,
                                "properties": {},
                                "started_at": now,
                            },
                        ).scalar_one()
                    conn.execute(
                        _INSERT_CONTEXT,
                        {
                            "type": "run",
                            "name": run_id,
                            "parent_id": pipeline_pk,
                            "state": "running",
                            "properties": props,
                            "started_at": now,
                        },
                    )
            except StoreError as exc:
                if isinstance(exc.__cause__, IntegrityError):
                    continue  # the id (or the pipeline's context) was taken meanwhile: retry
                raise
            return RunRecord(run_id, pipeline, "running", now, None, props)
        raise StoreError(f"Found no free run id in {self._url} after {_RUN_ID_ATTEMPTS} tries.")

    def finish_run(self, run_id: str, state: RunState) -> RunRecord:
        """Set a run's final state and end time."""
        if state not in ("complete", "failed", "abandoned"):
            raise InvalidParameterError(
                "The 'state' parameter of finish_run must be 'complete', 'failed' or "
                f"'abandoned'. Got {state!r} instead."
            )
        with self._write() as conn:
            params = {"run_id": run_id, "new_state": state, "now": _now()}
            if conn.execute(_FINISH_RUN, params).rowcount == 0:
                self._no_run(run_id)
            row = conn.execute(_RUN, {"run_id": run_id}).one()
        return RunRecord(**row._mapping)

    def get_run(self, run_id: str) -> RunRecord:
        """Return a run by its id, or by a prefix that matches exactly one run."""
        if not run_id:
            raise NotFoundError(f"No run id given to look up in {self._url}.")
        with self._read() as conn:
            rows = conn.execute(_RUNS_BY_PREFIX, {"prefix": run_id, "length": len(run_id)}).all()
        exact = [row for row in rows if row.id == run_id]
        if exact or len(rows) == 1:
            return RunRecord(**(exact or rows)[0]._mapping)
        if not rows:
            self._no_run(run_id)
        candidates = ", ".join(row.id for row in rows[:_MAX_CANDIDATES])
        more = " and more" if len(rows) > _MAX_CANDIDATES else ""
        raise NotFoundError(
            f"Run id prefix {run_id!r} is ambiguous in {self._url}: it matches {candidates}{more}.",
            hint="Give more characters of the run id.",
        )

    def list_runs(
        self, *, pipeline: str | None = None, limit: int | None = None
    ) -> list[RunRecord]:
        """Return runs, newest first."""
        if limit is not None and limit < 0:
            raise InvalidParameterError(
                f"The 'limit' parameter of list_runs must be an int >= 0. Got {limit} instead."
            )
        query = _SELECT_RUNS.limit(limit)
        if pipeline is not None:
            query = query.where(_pipeline.c.name == pipeline)
        with self._read() as conn:
            return [RunRecord(**row._mapping) for row in conn.execute(query)]

    def abandon_run(self, run_id: str) -> None:
        """Mark a run whose process died, and its running executions, as abandoned."""
        with self._write() as conn:
            params = {"run_pk": self._run_context(conn, run_id)[0], "now": _now()}
            conn.execute(_ABANDON_RUN, params)
            conn.execute(_ABANDON_EXECUTIONS, params)

    # Executions ---------------------------------------------------------------------------
    def start_execution(
        self,
        run_id: str,
        *,
        node: str,
        component: str,
        parameters: JSON,
        cache_key: str,
        inputs: Mapping[str, int],
    ) -> ExecutionRecord:
        """Register a running execution and its input events (port name -> artifact id)."""
        now = _now()
        row: dict[str, Any] = {
            "node": node,
            "component": component,
            "parameters": dict(parameters),
            "cache_key": cache_key,
            "state": "running",
            "started_at": now,
        }
        pipeline, execution_id = self._insert_execution(
            run_id, row, _event_rows(inputs, "input"), cached_from=None
        )
        return ExecutionRecord(
            id=execution_id, run_id=run_id, pipeline=pipeline, ended_at=None, error=None,
            cached_from=None, **row,
        )  # fmt: skip

    def complete_execution(
        self, execution_id: int, outputs: Mapping[str, NewArtifact]
    ) -> dict[str, ArtifactRecord]:
        """Register the published outputs as live artifacts and mark the execution complete."""
        now = _now()
        rows: list[dict[str, Any]] = [
            {
                "type_name": new.type_name,
                "uri": new.uri,
                "name": new.name,
                "state": "live",
                "fingerprint": new.fingerprint,
                "properties": dict(new.properties),
                "created_at": now,
            }
            for new in outputs.values()
        ]
        with self._write() as conn:
            params = {"execution_id": execution_id, "new_state": "complete", "now": now}
            run_pk = conn.execute(_FINISH_EXECUTION, {**params, "error": None}).scalar()
            if run_pk is None:
                self._not_running(conn, execution_id, "complete")
            if not rows:
                return {}
            ids = conn.execute(_INSERT_ARTIFACTS, rows).scalars().all()
            conn.execute(
                insert(events),
                [
                    {
                        "artifact_id": id_,
                        "execution_id": execution_id,
                        "kind": "output",
                        "name": port,
                    }
                    for port, id_ in zip(outputs, ids, strict=True)
                ],
            )
            conn.execute(
                insert(attributions), [{"context_id": run_pk, "artifact_id": id_} for id_ in ids]
            )
        return {
            port: ArtifactRecord(id=id_, **row)
            for port, row, id_ in zip(outputs, rows, ids, strict=True)
        }

    def fail_execution(self, execution_id: int, error: str) -> None:
        """Mark an execution failed with an error text."""
        with self._write() as conn:
            params = {"execution_id": execution_id, "new_state": "failed", "now": _now()}
            if conn.execute(_FINISH_EXECUTION, {**params, "error": error}).scalar() is None:
                self._not_running(conn, execution_id, "fail")

    def record_execution(
        self,
        run_id: str,
        *,
        node: str,
        component: str,
        parameters: JSON,
        cache_key: str,
        state: ExecutionState,
        inputs: Mapping[str, int],
        outputs: Mapping[str, int],
        cached_from: int | None = None,
        error: str | None = None,
    ) -> ExecutionRecord:
        """Register an already-finished execution ("cached" or "skipped") with its events."""
        if state == "running" or state not in EXECUTION_STATES:
            raise InvalidParameterError(
                "The 'state' parameter of record_execution must be a finished state such as "
                f"'cached' or 'skipped'. Got {state!r} instead."
            )
        now = _now()
        row: dict[str, Any] = {
            "node": node,
            "component": component,
            "parameters": dict(parameters),
            "cache_key": cache_key,
            "state": state,
            "started_at": now,
            "ended_at": now,
            "error": error,
            "cached_from": cached_from,
        }
        events_ = [*_event_rows(inputs, "input"), *_event_rows(outputs, "output")]
        pipeline, execution_id = self._insert_execution(
            run_id, row, events_, cached_from=cached_from
        )
        return ExecutionRecord(id=execution_id, run_id=run_id, pipeline=pipeline, **row)

    def find_cached(
        self, cache_key: str
    ) -> tuple[ExecutionRecord, dict[str, ArtifactRecord]] | None:
        """Return the newest complete execution with `cache_key` whose outputs are all live."""
        with self._read() as conn:
            row = conn.execute(_CACHED, {"cache_key": cache_key}).one_or_none()
            if row is None:
                return None
            outputs = conn.execute(_OUTPUTS, {"execution_id": row.id}).all()
        return ExecutionRecord(**row._mapping), {
            port: ArtifactRecord(*artifact) for port, *artifact in outputs
        }

    def get_execution(self, execution_id: int) -> ExecutionRecord:
        """Return one execution."""
        with self._read() as conn:
            row = conn.execute(_EXECUTION, {"execution_id": execution_id}).one_or_none()
        if row is None:
            self._no_execution(execution_id)
        return ExecutionRecord(**row._mapping)

    def list_executions(self, run_id: str) -> list[ExecutionRecord]:
        """Return a run's executions in the order they were registered."""
        with self._read() as conn:
            rows = conn.execute(_EXECUTIONS_OF_RUN, {"run_id": run_id}).all()
            if not rows:
                self._run_context(conn, run_id)
        return [ExecutionRecord(**row._mapping) for row in rows]

    # Artifacts and lineage ----------------------------------------------------------------
    def get_artifact(self, artifact_id: int) -> ArtifactRecord:
        """Return one artifact."""
        with self._read() as conn:
            row = conn.execute(_ARTIFACT, {"artifact_id": artifact_id}).one_or_none()
        if row is None:
            raise NotFoundError(f"No artifact with id {artifact_id} in {self._url}.")
        return ArtifactRecord(*row)

    def list_artifacts(
        self, *, run_id: str | None = None, state: str | None = None
    ) -> list[ArtifactRecord]:
        """Return artifacts, optionally those produced in a run or in a given state."""
        query = select(*_ARTIFACT_COLUMNS).order_by(artifacts.c.id)
        if state is not None:
            query = query.where(artifacts.c.state == state)
        if run_id is not None:
            query = (
                query.join(attributions, attributions.c.artifact_id == artifacts.c.id)
                .join(contexts, attributions.c.context_id == contexts.c.id)
                .where(contexts.c.type == "run", contexts.c.name == run_id)
            )
        with self._read() as conn:
            rows = conn.execute(query).all()
            if not rows and run_id is not None:
                self._run_context(conn, run_id)
        return [ArtifactRecord(*row) for row in rows]

    def events_of_execution(self, execution_id: int) -> list[Event]:
        """Return the input and output events of an execution."""
        with self._read() as conn:
            rows = conn.execute(_EVENTS_OF_EXECUTION, {"execution_id": execution_id}).all()
            if not rows and conn.scalar(_EXECUTION_STATE, {"execution_id": execution_id}) is None:
                self._no_execution(execution_id)
        return [Event(*row) for row in rows]

    def events_of_artifact(self, artifact_id: int) -> list[Event]:
        """Return every event naming an artifact (its producer and its consumers)."""
        with self._read() as conn:
            rows = conn.execute(_EVENTS_OF_ARTIFACT, {"artifact_id": artifact_id}).all()
            if not rows:
                self._require_artifacts(conn, [artifact_id])
        return [Event(*row) for row in rows]

    def artifacts_used_by_runs(self, run_ids: Iterable[str]) -> set[int]:
        """Return the ids of artifacts that any execution of these runs read or wrote."""
        wanted = list(dict.fromkeys(run_ids))
        used: set[int] = set()
        with self._read() as conn:
            for chunk in _chunks(wanted):
                found = conn.scalars(_EXISTING_RUNS, {"run_ids": chunk}).all()
                if missing := sorted(set(chunk) - set(found)):
                    raise NotFoundError(f"No run(s) {', '.join(missing)} in {self._url}.")
                used.update(conn.scalars(_USED_ARTIFACTS, {"run_ids": chunk}))
        return used

    def mark_artifacts_deleted(self, artifact_ids: Iterable[int]) -> None:
        """Mark artifacts deleted; their records stay for lineage."""
        ids = list(dict.fromkeys(artifact_ids))
        with self._write() as conn:
            self._require_artifacts(conn, ids)
            for chunk in _chunks(ids):
                conn.execute(_DELETE_ARTIFACTS, {"ids": chunk})

    # Internals ----------------------------------------------------------------------------
    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._translated_errors(), self._engine.connect() as conn:
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._translated_errors(), self._writer.begin() as conn:
            yield conn

    @contextmanager
    def _translated_errors(self) -> Iterator[None]:
        try:
            yield
        except InvalidParameterError as exc:  # raised by _dump_json inside the driver
            raise InvalidParameterError(f"Cannot write to {self._url}: {exc}") from exc
        except StatementError as exc:
            if isinstance(exc.orig, InvalidParameterError):  # _dump_json, wrapped by SQLAlchemy
                raise InvalidParameterError(f"Cannot write to {self._url}: {exc.orig}") from exc
            raise self._failed(exc) from exc
        except SQLAlchemyError as exc:
            raise self._failed(exc) from exc

    def _failed(self, exc: SQLAlchemyError) -> StoreError:
        hint = self._hint if isinstance(exc, OperationalError | InterfaceError) else None
        return StoreError(f"The metadata store at {self._url} failed: {_reason(exc)}", hint=hint)

    def _insert_execution(
        self,
        run_id: str,
        row: dict[str, Any],
        event_rows: list[dict[str, Any]],
        *,
        cached_from: int | None,
    ) -> tuple[str, int]:
        """Insert an execution, its association and events; return its pipeline and id.

        Unknown artifact ids (or `cached_from`) fail the foreign keys rather than being
        looked up first, which saves a query per call; the error is then explained.
        """
        try:
            with self._write() as conn:
                run_pk, pipeline = self._run_context(conn, run_id)
                execution_id: int = conn.execute(
                    _INSERT_EXECUTION, {**row, "run_id": run_pk}
                ).scalar_one()
                conn.execute(
                    insert(associations), {"context_id": run_pk, "execution_id": execution_id}
                )
                if event_rows:
                    for event_row in event_rows:
                        event_row["execution_id"] = execution_id
                    conn.execute(insert(events), event_rows)
        except StoreError as exc:
            if isinstance(exc.__cause__, IntegrityError):
                with self._read() as conn:
                    self._require_artifacts(conn, [e["artifact_id"] for e in event_rows])
                    if cached_from is not None:
                        if conn.scalar(_EXECUTION_STATE, {"execution_id": cached_from}) is None:
                            self._no_execution(cached_from)
            raise
        return pipeline, execution_id

    def _run_context(self, conn: Connection, run_id: str) -> tuple[int, str]:
        row = conn.execute(_RUN_CONTEXT, {"run_id": run_id}).one_or_none()
        if row is None:
            self._no_run(run_id)
        return row[0], row[1]

    def _require_artifacts(self, conn: Connection, artifact_ids: Iterable[int]) -> None:
        wanted = set(artifact_ids)
        for chunk in _chunks(list(wanted)):
            wanted -= set(conn.scalars(_EXISTING_ARTIFACTS, {"ids": chunk}))
        if wanted:
            listed = ", ".join(map(str, sorted(wanted)))
            raise NotFoundError(f"No artifact(s) with id {listed} in {self._url}.")

    def _not_running(self, conn: Connection, execution_id: int, verb: str) -> NoReturn:
        state = conn.scalar(_EXECUTION_STATE, {"execution_id": execution_id})
        if state is None:
            self._no_execution(execution_id)
        raise StoreError(
            f"Cannot {verb} execution {execution_id} in {self._url}: it is {state}; "
            "only a running execution can be completed or failed."
        )

    def _no_run(self, run_id: str) -> NoReturn:
        raise NotFoundError(f"No run {run_id!r} in the metadata store at {self._url}.")

    def _no_execution(self, execution_id: int) -> NoReturn:
        raise NotFoundError(f"No execution with id {execution_id} in {self._url}.")


def _now() -> datetime:
    return datetime.now(UTC)


def _event_rows(ports: Mapping[str, int], kind: str) -> list[dict[str, Any]]:
    return [{"artifact_id": id_, "kind": kind, "name": port} for port, id_ in ports.items()]


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _reason(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _hint(url: URL) -> str:
    if url.get_backend_name() == "sqlite":
        return "Check that the file's directory is writable and the file is a SQLite database."
    return (
        "Check that the PostgreSQL server is running and reachable, and that the URL's host, "
        "port, user, password and database are right."
    )


def _mask(url: str) -> str:
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", url)


def _parse_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(
            f"Cannot parse the store URL {_mask(url)!r}.", hint=f"Use e.g. {_URL_EXAMPLES}."
        ) from exc
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    if backend == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise ConfigError(
            f"The store URL {_mask(url)!r} names an in-memory SQLite database, which "
            "cannot hold a store shared by processes.",
            hint="Give a file path, e.g. sqlite:///.shipyard/store.db",
        )
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"The store URL {_mask(url)!r} names a {backend!r} database; the SQL store "
            "supports SQLite and PostgreSQL.",
            hint=f"Use e.g. {_URL_EXAMPLES}.",
        )
    return parsed


def _create_engine(url: URL, masked: str) -> Engine:
    if url.get_backend_name() == "postgresql":
        args = {} if "connect_timeout" in url.query else {"connect_timeout": 10}
        try:
            return create_engine(url, connect_args=args, json_serializer=_dump_json)
        except ImportError as exc:
            raise PluginNotInstalled(
                f"The store at {masked} needs the {url.get_driver_name()!r} PostgreSQL driver, "
                f"which is not installed ({exc.name or exc}).",
                hint='Install it with: pip install "shipyard[postgres]"',
            ) from exc
    try:
        Path(url.database or "").parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"Cannot create the directory of the SQLite store {masked}: {exc}.",
            hint="Choose a path in a writable directory.",
        ) from exc
    engine = create_engine(url, json_serializer=_dump_json)
    event.listen(engine, "connect", _configure_sqlite_connection)
    event.listen(engine, "begin", _begin_sqlite_transaction)
    return engine


def _dump_json(value: Any) -> str:
    try:
        return json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            f"{exc}. Parameters and properties must be JSON-serialisable."
        ) from exc


def _configure_sqlite_connection(dbapi_connection: Any, _record: object) -> None:
    # Let SQLAlchemy, not pysqlite, emit BEGIN (see _begin_sqlite_transaction).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def _begin_sqlite_transaction(conn: Connection) -> None:
    # Writers take the write lock up front, so two writers never deadlock upgrading a read
    # lock; readers begin a deferred transaction and see one consistent snapshot.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")
