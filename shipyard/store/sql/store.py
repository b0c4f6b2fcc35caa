"""`SqlStore`: the `MetadataStore` on SQLite or PostgreSQL through SQLAlchemy Core.

This module holds runs, executions and their state transitions; the artifact and lineage
methods are in `artifact_queries`, run listings by a query in `run_queries`, the trigger
firings and leases in `firing_queries`. The queries live in `statements`, connecting (URLs,
drivers, SQLite settings) in `connection`, and the engines that stores on one database share
in `pool`.
"""

from __future__ import annotations

import secrets
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Final, NoReturn

from sqlalchemy.exc import IntegrityError

from shipyard.errors import InvalidParameterError, NotFoundError, StoreError
from shipyard.store.records import (
    ArtifactRecord,
    Claim,
    ExecutionRecord,
    RunRecord,
)
from shipyard.store.run_metrics import MAX_METRIC_NAME, first_metrics
from shipyard.store.sql import claims
from shipyard.store.sql import statements as sql
from shipyard.store.sql.artifact_queries import ArtifactQueries
from shipyard.store.sql.connection import (
    parse_url,
    pool_key,
    suggest_connection_fix,
    translate_errors,
)
from shipyard.store.sql.firing_queries import FiringQueries
from shipyard.store.sql.identity import StoreFile
from shipyard.store.sql.pool import acquire
from shipyard.store.sql.retention import require_live, take_gc_lock
from shipyard.store.sql.run_queries import RunQueries
from shipyard.store.sql.tables import EXECUTION_STATES, RUN_STATES

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from sqlalchemy.engine import Connection

    from shipyard.store.records import (
        JSON,
        ExecutionState,
        FailureState,
        NewArtifact,
        RunState,
    )

__all__ = ["SqlStore"]

_RUN_ID_ATTEMPTS: Final = 20


class SqlStore(RunQueries, ArtifactQueries, FiringQueries):
    """The metadata store in a SQLite file or a PostgreSQL database.

    Opening a store creates the SQLite file (and its directories) if needed and migrates the
    schema to the newest version. Once its SQLite file is deleted or replaced, every write
    fails with `StoreError` (see `identity`). Every writing method runs in one transaction;
    on SQLite, write transactions begin with `BEGIN IMMEDIATE` in WAL mode, so several
    processes can share one file. The store is safe to use from several threads.

    Stores opened on the same database in one process share one SQLAlchemy engine (see
    `shipyard.store.sql.pool`): its connections while any of them is open, and its compiled
    statements for as long as the process runs. Closing the last of them closes every
    connection to the database.

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
        parsed = parse_url(url)
        self._url = parsed.render_as_string(hide_password=True)
        self._hint = suggest_connection_fix(parsed)
        self._lease = acquire(parsed, self._url)
        self._engine = self._lease.shared.engine
        self._writer = self._lease.shared.writer
        try:
            self._file = StoreFile.of(pool_key(parsed), self._url)
        except BaseException:
            self._lease.release()
            raise

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._url!r})"

    @property
    def url(self) -> str:
        """The store's URL, with any password masked."""
        return self._url

    def close(self) -> None:
        """Release the store's connections; closing it again does nothing.

        The connections are closed once no other store on the same database is open.
        """
        self._lease.release()

    # Runs ---------------------------------------------------------------------------------
    def create_run(
        self, pipeline: str, *, properties: JSON | None = None, run_id: str | None = None
    ) -> RunRecord:
        """Register a new running run of `pipeline` with a fresh unique id (or `run_id`)."""
        props = dict(properties or {})
        given = run_id
        for _ in range(_RUN_ID_ATTEMPTS):
            now = _now()
            run_id = given or f"{now:%Y-%m-%dT%H-%M-%S}-{secrets.token_hex(2)}"
            try:
                with self._write() as conn:
                    pipeline_pk = conn.scalar(sql.PIPELINE_CONTEXT, {"pipeline": pipeline})
                    if pipeline_pk is None:
                        pipeline_pk = conn.execute(
                            sql.INSERT_CONTEXT,
                            {
                                "type": "pipeline",
                                "name": pipeline,
                                "properties": {},
                                "started_at": now,
                            },
                        ).scalar_one()
                    conn.execute(
                        sql.INSERT_CONTEXT,
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
                    if given is not None and self._run_exists(given):
                        raise InvalidParameterError(
                            f"A run {given!r} exists already in {self._url}; give a new run id."
                        ) from exc
                    continue  # the id (or the pipeline's context) was taken meanwhile: retry
                raise
            return RunRecord(run_id, pipeline, "running", now, None, props)
        raise StoreError(f"Found no free run id in {self._url} after {_RUN_ID_ATTEMPTS} tries.")

    def finish_run(
        self, run_id: str, state: RunState, *, metrics: Mapping[str, float] | None = None
    ) -> RunRecord:
        """Set a run's final state and end time, and record its metrics (`first_metrics`)."""
        if state == "running" or state not in RUN_STATES:
            raise InvalidParameterError(
                "The 'state' parameter of finish_run must be 'complete', 'failed', "
                f"'interrupted' or 'abandoned'. Got {state!r} instead."
            )
        recorded = _checked_metrics(metrics or {})
        with self._write() as conn:
            params = {"run_id": run_id, "new_state": state, "now": _now()}
            if conn.execute(sql.FINISH_RUN, params).rowcount == 0:
                self._no_run(run_id)
            row = conn.execute(sql.RUN, {"run_id": run_id}).one()
            sql.replace_run_metrics(conn, run_id, recorded)
        return RunRecord(**row._mapping)

    def get_run(self, run_id: str) -> RunRecord:
        """Return a run by its id, or by a prefix that matches exactly one run."""
        if not run_id:
            raise NotFoundError(f"No run id given to look up in {self._url}.")
        with self._read() as conn:
            rows = conn.execute(sql.RUNS_BY_PREFIX, {"prefix": run_id, "length": len(run_id)}).all()
        exact = [row for row in rows if row.id == run_id]
        if exact or len(rows) == 1:
            return RunRecord(**(exact or rows)[0]._mapping)
        if not rows:
            self._no_run(run_id)
        candidates = ", ".join(row.id for row in rows[: sql.MAX_CANDIDATES])
        more = " and more" if len(rows) > sql.MAX_CANDIDATES else ""
        raise NotFoundError(
            f"Run id prefix {run_id!r} is ambiguous in {self._url}: it matches {candidates}{more}.",
            hint="Give more characters of the run id.",
        )

    def _run_exists(self, run_id: str) -> bool:
        try:
            return self.get_run(run_id).id == run_id
        except NotFoundError:
            return False

    def list_runs(
        self, *, pipeline: str | None = None, limit: int | None = None
    ) -> list[RunRecord]:
        """Return runs, newest first."""
        if limit is not None and limit < 0:
            raise InvalidParameterError(
                f"The 'limit' parameter of list_runs must be an int >= 0. Got {limit} instead."
            )
        query = sql.select_runs(pipeline=pipeline, limit=limit)
        with self._read() as conn:
            return [RunRecord(**row._mapping) for row in conn.execute(query)]

    def abandon_run(self, run_id: str) -> None:
        """Mark a run whose process died, and its running executions, as abandoned."""
        with self._write() as conn:
            params = {"run_pk": self._run_context(conn, run_id)[0], "now": _now()}
            conn.execute(sql.ABANDON_RUN, params)
            conn.execute(sql.ABANDON_EXECUTIONS, params)

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
        row = claims.running_row(node, component, parameters, cache_key, _now())
        inserted = self._insert_execution(run_id, row, _event_rows(inputs, "input"))
        return claims.outcome(run_id, row, inserted).execution

    def claim_execution(
        self,
        run_id: str,
        *,
        node: str,
        component: str,
        parameters: JSON,
        cache_key: str,
        inputs: Mapping[str, int],
        reuse: bool = True,
    ) -> Claim:
        """Start a running execution unless another execution already answers for the key."""
        row = claims.running_row(node, component, parameters, cache_key, _now())
        events_ = _event_rows(inputs, "input")
        return claims.outcome(run_id, row, self._insert_execution(run_id, row, events_, reuse))

    def complete_execution(
        self,
        execution_id: int,
        outputs: Mapping[str, NewArtifact],
        *,
        error: str | None = None,
    ) -> dict[str, ArtifactRecord]:
        """Register the published outputs as live artifacts; mark the execution complete, or
        failed with `error` when it stopped the run after writing them."""
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
            state = "complete" if error is None else "failed"
            params = {"execution_id": execution_id, "new_state": state, "now": now}
            run_pk = conn.execute(sql.FINISH_EXECUTION, {**params, "error": error}).scalar()
            if run_pk is None:
                self._not_running(conn, execution_id, "complete" if error is None else "fail")
            if not rows:
                return {}
            ids = conn.execute(sql.INSERT_ARTIFACTS, rows).scalars().all()
            conn.execute(
                sql.INSERT_EVENTS,
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
                sql.INSERT_ATTRIBUTIONS, [{"context_id": run_pk, "artifact_id": id_} for id_ in ids]
            )
        return {
            port: ArtifactRecord(id=id_, **row)
            for port, row, id_ in zip(outputs, rows, ids, strict=True)
        }

    def fail_execution(
        self, execution_id: int, error: str, *, state: FailureState = "failed"
    ) -> None:
        """Mark an execution failed (or interrupted) with an error text."""
        if state not in ("failed", "interrupted"):
            raise InvalidParameterError(
                "The 'state' parameter of fail_execution must be 'failed' or 'interrupted'. "
                f"Got {state!r} instead."
            )
        with self._write() as conn:
            params = {"execution_id": execution_id, "new_state": state, "now": _now()}
            if conn.execute(sql.FINISH_EXECUTION, {**params, "error": error}).scalar() is None:
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
        inserted = self._insert_execution(run_id, row, events_, cached_from=cached_from)
        assert isinstance(inserted, tuple)
        pipeline, execution_id = inserted
        return ExecutionRecord(id=execution_id, run_id=run_id, pipeline=pipeline, **row)

    def find_cached(
        self, cache_key: str
    ) -> tuple[ExecutionRecord, dict[str, ArtifactRecord]] | None:
        """Return the newest complete execution with `cache_key` whose outputs are all live."""
        with self._read() as conn:
            row = conn.execute(sql.CACHED, {"cache_key": cache_key}).one_or_none()
            if row is None:
                return None
            outputs = conn.execute(sql.OUTPUTS, {"execution_id": row.id}).all()
        return ExecutionRecord(**row._mapping), {
            port: ArtifactRecord(*artifact) for port, *artifact in outputs
        }

    def get_execution(self, execution_id: int) -> ExecutionRecord:
        """Return one execution."""
        with self._read() as conn:
            row = conn.execute(sql.EXECUTION, {"execution_id": execution_id}).one_or_none()
        if row is None:
            self._no_execution(execution_id)
        return ExecutionRecord(**row._mapping)

    def list_executions(self, run_id: str) -> list[ExecutionRecord]:
        """Return a run's executions in the order they were registered."""
        with self._read() as conn:
            rows = conn.execute(sql.EXECUTIONS_OF_RUN, {"run_id": run_id}).all()
            if not rows:
                self._run_context(conn, run_id)
        return [ExecutionRecord(**row._mapping) for row in rows]

    # Internals ----------------------------------------------------------------------------
    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with translate_errors(self._url, self._hint), self._engine.connect() as conn:
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        if self._file is not None:
            self._file.check(self._url)
        with translate_errors(self._url, self._hint), self._writer.begin() as conn:
            yield conn
        if self._file is not None:  # a write that went to a deleted file must not pass
            self._file.check(self._url, after="This write")

    def _insert_execution(
        self,
        run_id: str,
        row: dict[str, Any],
        event_rows: list[dict[str, Any]],
        claim: bool | None = None,
        *,
        cached_from: int | None = None,
    ) -> tuple[str, int] | Claim:
        """Insert an execution, its association and events; return its pipeline and id.

        With `claim` (True: reuse a complete execution), the row is inserted only if no
        execution answers for its cache key; else that execution's claim is returned.

        Unknown artifact ids (or `cached_from`) fail the foreign keys rather than being
        looked up first, which saves a query per call; the error is then explained.
        """
        try:
            with self._write() as conn:
                take_gc_lock(conn)
                require_live(conn, [e["artifact_id"] for e in event_rows], self._url)
                run_pk, pipeline = self._run_context(conn, run_id)
                if claim is not None:
                    holder = claims.find_holder(conn, row["cache_key"], reuse=claim)
                    if holder is not None:
                        return holder
                execution_id: int = conn.execute(
                    sql.INSERT_EXECUTION, {**row, "run_id": run_pk}
                ).scalar_one()
                conn.execute(
                    sql.INSERT_ASSOCIATION, {"context_id": run_pk, "execution_id": execution_id}
                )
                if event_rows:
                    for event_row in event_rows:
                        event_row["execution_id"] = execution_id
                    conn.execute(sql.INSERT_EVENTS, event_rows)
        except StoreError as exc:
            if isinstance(exc.__cause__, IntegrityError):
                with self._read() as conn:
                    self._require_artifacts(conn, [e["artifact_id"] for e in event_rows])
                    if cached_from is not None:
                        if conn.scalar(sql.EXECUTION_STATE, {"execution_id": cached_from}) is None:
                            self._no_execution(cached_from)
            raise
        return pipeline, execution_id

    def _run_context(self, conn: Connection, run_id: str) -> tuple[int, str]:
        row = conn.execute(sql.RUN_CONTEXT, {"run_id": run_id}).one_or_none()
        if row is None:
            self._no_run(run_id)
        return row[0], row[1]

    def _not_running(self, conn: Connection, execution_id: int, verb: str) -> NoReturn:
        state = conn.scalar(sql.EXECUTION_STATE, {"execution_id": execution_id})
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


def _checked_metrics(metrics: Mapping[str, float]) -> dict[str, float]:
    """`metrics` as floats, or an error naming each one a store cannot keep."""
    kept = first_metrics([dict(metrics)])
    if rejected := [name for name in metrics if name not in kept]:
        raise InvalidParameterError(
            "The 'metrics' parameter of finish_run must map names of at most "
            f"{MAX_METRIC_NAME} characters to finite numbers. Got {rejected!r} "
            f"({', '.join(repr(metrics[name]) for name in rejected)}) instead."
        )
    return kept


def _event_rows(ports: Mapping[str, int], kind: str) -> list[dict[str, Any]]:
    return [{"artifact_id": id_, "kind": kind, "name": port} for port, id_ in ports.items()]
