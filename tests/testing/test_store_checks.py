"""`check_store` passes on the SQL store and catches stores that break the protocol."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import pytest

from shipyard.errors import NotFoundError
from shipyard.store import Claim
from shipyard.store.sql import SqlStore
from shipyard.testing.store_checks import check_store

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from shipyard.store.records import JSON, ArtifactRecord, ExecutionRecord, RunRecord


def test_sql_store_conforms(store_url: str) -> None:
    check_store(lambda: SqlStore(store_url))


def test_sql_store_conforms_with_a_fresh_file_per_check(tmp_path: Path) -> None:
    paths = iter(range(100))
    check_store(lambda: SqlStore(f"sqlite:///{tmp_path}/store-{next(paths)}.db"))


# Stores that each break one promise of the protocol ---------------------------------------
class OldestFirst(SqlStore):
    def list_runs(
        self, *, pipeline: str | None = None, limit: int | None = None
    ) -> list[RunRecord]:
        return super().list_runs(pipeline=pipeline)[::-1][:limit]


class ExactIdsOnly(SqlStore):
    def get_run(self, run_id: str) -> RunRecord:
        run = super().get_run(run_id)
        if run.id != run_id:
            raise NotFoundError(run_id)
        return run


class NaiveTimes(SqlStore):
    def create_run(
        self, pipeline: str, *, properties: JSON | None = None, run_id: str | None = None
    ) -> RunRecord:
        run = super().create_run(pipeline, properties=properties, run_id=run_id)
        return type(run)(**{**run.__dict__, "started_at": run.started_at.replace(tzinfo=None)})


class CachesDeletedOutputs(SqlStore):
    def find_cached(
        self, cache_key: str
    ) -> tuple[ExecutionRecord, dict[str, ArtifactRecord]] | None:
        executions = [
            e for e in self._all_executions() if e.cache_key == cache_key and e.state == "complete"
        ]
        if not executions:
            return None
        newest = executions[-1]
        outputs = {
            e.name: self.get_artifact(e.artifact_id)
            for e in self.events_of_execution(newest.id)
            if e.kind == "output"
        }
        return newest, outputs

    def _all_executions(self) -> list[ExecutionRecord]:
        return [e for run in self.list_runs()[::-1] for e in self.list_executions(run.id)]


class KeyErrorForMissingArtifacts(SqlStore):
    def get_artifact(self, artifact_id: int) -> ArtifactRecord:
        try:
            return super().get_artifact(artifact_id)
        except NotFoundError as exc:
            raise KeyError(artifact_id) from exc


class DeletesPartially(SqlStore):
    def mark_artifacts_deleted(self, artifact_ids: Iterable[int]) -> None:
        for artifact_id in artifact_ids:
            super().mark_artifacts_deleted([artifact_id])


class Crashes(SqlStore):
    def list_executions(self, run_id: str) -> list[ExecutionRecord]:
        raise RuntimeError("disk on fire")


class ForgetsCachedFrom(SqlStore):
    def record_execution(self, run_id: str, **kwargs: object) -> ExecutionRecord:  # type: ignore[override]
        kwargs["cached_from"] = None
        return super().record_execution(run_id, **kwargs)  # type: ignore[arg-type]


class UtcLessCompletion(SqlStore):
    def get_execution(self, execution_id: int) -> ExecutionRecord:
        execution = super().get_execution(execution_id)
        ended = execution.ended_at
        fields = {**execution.__dict__, "ended_at": ended and datetime(*ended.timetuple()[:6])}
        return type(execution)(**fields)


class StartsEveryClaim(SqlStore):
    """Ignores running holders and complete hits: concurrent runs would all execute."""

    def claim_execution(self, run_id: str, *, reuse: bool = True, **identity: Any) -> Claim:
        return Claim("started", self.start_execution(run_id, **identity))


class InterruptedIsFailed(SqlStore):
    """Records an interrupted execution as failed, as the store did before migration 2."""

    def fail_execution(self, execution_id: int, error: str, *, state: str = "failed") -> None:  # type: ignore[override]
        super().fail_execution(execution_id, error)


class ClosingCounter(SqlStore):
    closed = False

    def close(self) -> None:
        self.closed = True
        super().close()


@pytest.mark.parametrize(
    ("store_class", "failing_check"),
    [
        (OldestFirst, "check_list_runs"),
        (ExactIdsOnly, "check_run_prefix_lookup"),
        (NaiveTimes, "check_run_lifecycle"),
        (CachesDeletedOutputs, "check_find_cached"),
        (DeletesPartially, "check_writes_are_atomic"),
        (ForgetsCachedFrom, "check_find_cached"),
        (UtcLessCompletion, "check_execution_lifecycle"),
        (KeyErrorForMissingArtifacts, "check_not_found"),
        (StartsEveryClaim, "check_claims"),
        (InterruptedIsFailed, "check_interrupted"),
    ],
)
def test_check_store_reports_the_broken_promise(
    tmp_path: Path, store_class: type[SqlStore], failing_check: str
) -> None:
    with pytest.raises(AssertionError, match=f"check_store: {failing_check} on ") as caught:
        check_store(lambda: store_class(f"sqlite:///{tmp_path / 'store.db'}"))
    assert "expected" in str(caught.value) or "must" in str(caught.value)


def test_check_store_notes_which_check_an_unexpected_error_came_from(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="disk on fire") as caught:
        check_store(lambda: Crashes(f"sqlite:///{tmp_path / 'store.db'}"))
    notes = caught.value.__notes__
    assert any("check_store: check_execution_lifecycle" in note for note in notes)


def test_check_store_closes_every_store_it_opens(tmp_path: Path) -> None:
    opened: list[ClosingCounter] = []

    def make() -> ClosingCounter:
        opened.append(ClosingCounter(f"sqlite:///{tmp_path / 'store.db'}"))
        return opened[-1]

    check_store(make)
    assert len(opened) > 5
    assert all(store.closed for store in opened)
