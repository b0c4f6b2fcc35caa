"""The `MetadataStore` protocol: what runners, the CLI and the UI may ask of a store."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Protocol, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from shipyard.store.records import (
        JSON,
        ArtifactRecord,
        Event,
        ExecutionRecord,
        ExecutionState,
        NewArtifact,
        RunRecord,
        RunState,
    )


@runtime_checkable
class MetadataStore(Protocol):
    """Records runs, executions, artifacts and the events linking them.

    Every method that writes does so in one transaction: after a crash the store holds either
    all of a call's effects or none. Methods that look something up by id raise
    `shipyard.errors.NotFoundError` when it does not exist.
    """

    name: ClassVar[str]

    @property
    def url(self) -> str:
        """The store's URL, with any password masked."""
        ...

    # Runs ---------------------------------------------------------------------------------
    def create_run(self, pipeline: str, *, properties: JSON | None = None) -> RunRecord:
        """Register a new running run of `pipeline` with a fresh unique id."""
        ...

    def finish_run(self, run_id: str, state: RunState) -> RunRecord:
        """Set a run's final state and end time."""
        ...

    def get_run(self, run_id: str) -> RunRecord:
        """Return a run by its id, or by a prefix that matches exactly one run."""
        ...

    def list_runs(
        self, *, pipeline: str | None = None, limit: int | None = None
    ) -> list[RunRecord]:
        """Return runs, newest first."""
        ...

    def abandon_run(self, run_id: str) -> None:
        """Mark a run whose process died, and its running executions, as abandoned."""
        ...

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
        ...

    def complete_execution(
        self, execution_id: int, outputs: Mapping[str, NewArtifact]
    ) -> dict[str, ArtifactRecord]:
        """Register the published outputs as live artifacts and mark the execution complete."""
        ...

    def fail_execution(self, execution_id: int, error: str) -> None:
        """Mark an execution failed with an error text."""
        ...

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
        ...

    def find_cached(
        self, cache_key: str
    ) -> tuple[ExecutionRecord, dict[str, ArtifactRecord]] | None:
        """Return the newest complete execution with `cache_key` whose outputs are all live."""
        ...

    def get_execution(self, execution_id: int) -> ExecutionRecord:
        """Return one execution."""
        ...

    def list_executions(self, run_id: str) -> list[ExecutionRecord]:
        """Return a run's executions in the order they were registered."""
        ...

    # Artifacts and lineage ----------------------------------------------------------------
    def get_artifact(self, artifact_id: int) -> ArtifactRecord:
        """Return one artifact."""
        ...

    def list_artifacts(
        self, *, run_id: str | None = None, state: str | None = None
    ) -> list[ArtifactRecord]:
        """Return artifacts, optionally those produced in a run or in a given state."""
        ...

    def events_of_execution(self, execution_id: int) -> list[Event]:
        """Return the input and output events of an execution."""
        ...

    def events_of_artifact(self, artifact_id: int) -> list[Event]:
        """Return every event naming an artifact (its producer and its consumers)."""
        ...

    def artifacts_used_by_runs(self, run_ids: Iterable[str]) -> set[int]:
        """Return the ids of artifacts that any execution of these runs read or wrote."""
        ...

    def mark_artifacts_deleted(self, artifact_ids: Iterable[int]) -> None:
        """Mark artifacts deleted; their records stay for lineage."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
