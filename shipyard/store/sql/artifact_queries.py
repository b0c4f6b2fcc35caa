"""The artifact and lineage half of `SqlStore`: artifacts, events, and marking deletions.

`SqlStore` inherits `ArtifactQueries`, which owns every query that reads artifacts and the
events linking them to executions, and the writes of garbage collection (marking artifacts
deleted). Runs and executions, and their state transitions, stay in `store`; connecting and
the transactions (`_read`, `_write`) too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

from shipyard.errors import NotFoundError
from shipyard.store.records import ArtifactRecord, Event
from shipyard.store.sql import statements as sql
from shipyard.store.sql.retention import USERS, take_gc_lock

if TYPE_CHECKING:
    from collections.abc import Iterable
    from contextlib import AbstractContextManager

    from sqlalchemy.engine import Connection

__all__ = ["ArtifactQueries"]


class ArtifactQueries:
    """The `MetadataStore` methods on artifacts and lineage, for `SqlStore`.

    Attributes:
        _url: The store's URL, password masked, for messages.
    """

    _url: str

    if TYPE_CHECKING:

        def _read(self) -> AbstractContextManager[Connection]: ...

        def _write(self) -> AbstractContextManager[Connection]: ...

        def _no_execution(self, execution_id: int) -> NoReturn: ...

        def _run_context(self, conn: Connection, run_id: str) -> tuple[int, str]: ...

    def get_artifact(self, artifact_id: int) -> ArtifactRecord:
        """Return one artifact."""
        with self._read() as conn:
            row = conn.execute(sql.ARTIFACT, {"artifact_id": artifact_id}).one_or_none()
        if row is None:
            raise NotFoundError(f"No artifact with id {artifact_id} in {self._url}.")
        return ArtifactRecord(*row)

    def list_artifacts(
        self,
        *,
        run_id: str | None = None,
        pipeline: str | None = None,
        type_name: str | None = None,
        state: str | None = None,
    ) -> list[ArtifactRecord]:
        """Return artifacts, oldest first, filtered by run, pipeline, type and state."""
        query = sql.select_artifacts(
            run_id=run_id, pipeline=pipeline, type_name=type_name, state=state
        )
        with self._read() as conn:
            rows = conn.execute(query).all()
            if not rows and run_id is not None:
                self._run_context(conn, run_id)
        return [ArtifactRecord(*row) for row in rows]

    def events_of_execution(self, execution_id: int) -> list[Event]:
        """Return the input and output events of an execution."""
        with self._read() as conn:
            rows = conn.execute(sql.EVENTS_OF_EXECUTION, {"execution_id": execution_id}).all()
            if (
                not rows
                and conn.scalar(sql.EXECUTION_STATE, {"execution_id": execution_id}) is None
            ):
                self._no_execution(execution_id)
        return [Event(*row) for row in rows]

    def events_of_artifact(self, artifact_id: int) -> list[Event]:
        """Return every event naming an artifact (its producer and its consumers)."""
        with self._read() as conn:
            rows = conn.execute(sql.EVENTS_OF_ARTIFACT, {"artifact_id": artifact_id}).all()
            if not rows:
                self._require_artifacts(conn, [artifact_id])
        return [Event(*row) for row in rows]

    def artifacts_used_by_runs(self, run_ids: Iterable[str]) -> set[int]:
        """Return the ids of artifacts that any execution of these runs read or wrote."""
        wanted = list(dict.fromkeys(run_ids))
        used: set[int] = set()
        with self._read() as conn:
            for chunk in sql.chunk(wanted):
                found = conn.scalars(sql.EXISTING_RUNS, {"run_ids": chunk}).all()
                if missing := sorted(set(chunk) - set(found)):
                    raise NotFoundError(f"No run(s) {', '.join(missing)} in {self._url}.")
                used.update(conn.scalars(sql.USED_ARTIFACTS, {"run_ids": chunk}))
        return used

    def mark_artifacts_deleted(self, artifact_ids: Iterable[int]) -> None:
        """Mark artifacts deleted; their records stay for lineage."""
        ids = list(dict.fromkeys(artifact_ids))
        with self._write() as conn:
            self._require_artifacts(conn, ids)
            for chunk in sql.chunk(ids):
                conn.execute(sql.DELETE_ARTIFACTS, {"ids": chunk})

    def mark_unused_artifacts_deleted(
        self, artifact_ids: Iterable[int], *, old_runs: Iterable[str]
    ) -> set[int]:
        """Mark deleted the artifacts that no run outside `old_runs` reads or writes."""
        ids = list(dict.fromkeys(artifact_ids))
        allowed = set(old_runs)
        with self._write() as conn:
            take_gc_lock(conn)
            self._require_artifacts(conn, ids)
            used: set[int] = set()
            for chunk in sql.chunk(ids):
                rows = conn.execute(USERS, {"ids": chunk}).all()
                used.update(artifact_id for artifact_id, run in rows if run not in allowed)
            doomed = [id_ for id_ in ids if id_ not in used]
            for chunk in sql.chunk(doomed):
                conn.execute(sql.DELETE_ARTIFACTS, {"ids": chunk})
        return set(doomed)

    def _require_artifacts(self, conn: Connection, artifact_ids: Iterable[int]) -> None:
        wanted = set(artifact_ids)
        for chunk in sql.chunk(list(wanted)):
            wanted -= set(conn.scalars(sql.EXISTING_ARTIFACTS, {"ids": chunk}))
        if wanted:
            listed = ", ".join(map(str, sorted(wanted)))
            raise NotFoundError(f"No artifact(s) with id {listed} in {self._url}.")
