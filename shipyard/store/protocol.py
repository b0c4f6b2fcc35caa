"""The `MetadataStore` protocol: what runners, the CLI and the UI may ask of a store."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Protocol, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from shipyard.store.records import (
        JSON,
        ArtifactRecord,
        Claim,
        Event,
        ExecutionRecord,
        ExecutionState,
        FailureState,
        NewArtifact,
        RunOutput,
        RunPage,
        RunQuery,
        RunRecord,
        RunState,
    )


@runtime_checkable
class MetadataStore(Protocol):
    """Records runs, executions, artifacts and the events linking them.

    Every method that writes does so in one transaction: after a crash, or when the call
    raises, the store holds either all of a call's effects or none. Methods given the id of
    a run, execution or artifact raise `shipyard.errors.NotFoundError` when it does not
    exist; those that list things about it (`list_executions`, `list_artifacts(run_id=...)`,
    `events_of_execution`, `events_of_artifact`, `artifacts_used_by_runs`) raise it too
    rather than return an empty list. Parameters and properties must be plain JSON: a value
    JSON cannot represent, NaN and infinities included, raises
    `shipyard.errors.InvalidParameterError`. Times are timezone-aware UTC.

    `shipyard.testing.check_store` is the conformance suite a backend runs against it.
    """

    name: ClassVar[str]

    @property
    def url(self) -> str:
        """The store's URL, with any password masked."""
        ...

    # Runs ---------------------------------------------------------------------------------
    def create_run(
        self, pipeline: str, *, properties: JSON | None = None, run_id: str | None = None
    ) -> RunRecord:
        """Register a new running run of `pipeline` with a fresh unique id.

        The id is the run's UTC start time and a random suffix, `2026-01-05T12-03-07-ab12`,
        unless `run_id` gives it (a Kubeflow pipeline job's id, which every task knows).

        Raises:
            InvalidParameterError: `properties` is not JSON-serialisable, or a run `run_id`
                exists already.
        """
        ...

    def finish_run(
        self, run_id: str, state: RunState, *, metrics: Mapping[str, float] | None = None
    ) -> RunRecord:
        """Set a run's final state and end time, and record its metrics.

        Args:
            run_id: The run's full id.
            state: A final state: "complete", "failed", "interrupted" (a Ctrl-C or SIGTERM
                stopped it; running it again resumes) or "abandoned".
            metrics: The run's metrics (`shipyard.store.run_metrics.first_metrics`), which
                `find_runs` sorts by; they replace any recorded before.

        Returns:
            The finished run.

        Raises:
            InvalidParameterError: `state` is "running" or not a run state, or a metric is
                not a finite number or its name is longer than 255 characters.
            NotFoundError: There is no run `run_id`.
        """
        ...

    def get_run(self, run_id: str) -> RunRecord:
        """Return a run by its id, or by a prefix that matches exactly one run.

        Raises:
            NotFoundError: No run matches, `run_id` is empty, or the prefix matches several
                runs (the message lists some).
        """
        ...

    def list_runs(
        self, *, pipeline: str | None = None, limit: int | None = None
    ) -> list[RunRecord]:
        """Return runs, newest first.

        Args:
            pipeline: Only runs of this pipeline; an unknown pipeline has no runs.
            limit: At most this many runs; None for all.

        Raises:
            InvalidParameterError: `limit` is negative.
        """
        ...

    def find_runs(self, query: RunQuery) -> RunPage:
        """Return the runs `query` selects, in its order, and how many match in all.

        Filtering, sorting and paging happen in the store, so a listing of thousands of runs
        reads one page of them.

        Raises:
            InvalidParameterError: The query has a negative offset or limit, an unknown
                state or order.
        """
        ...

    def outputs_of_runs(
        self, run_ids: Iterable[str], *, type_names: Iterable[str]
    ) -> list[RunOutput]:
        """Return the output artifacts of these runs' executions, cached ones included,
        whose type is one of `type_names`, in the order the executions were registered.

        Unknown run ids have no outputs.
        """
        ...

    def abandon_run(self, run_id: str) -> None:
        """Mark a run whose process died, and its running executions, as abandoned.

        A run that has already finished keeps its state and end time, and executions that
        are not running keep theirs.

        Raises:
            NotFoundError: There is no run `run_id`.
        """
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
        """Register a running execution and its input events (port name -> artifact id).

        Raises:
            InvalidParameterError: `parameters` is not JSON-serialisable.
            NotFoundError: There is no run `run_id`, or an input names no artifact.
            ArtifactDeletedError: An input was deleted (by `mark_unused_artifacts_deleted`).
        """
        ...

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
        """Start a running execution unless another execution already answers for its key.

        Runs that reach the same cache key at once call this: exactly one of them starts
        the execution (and owns its checkpoint directory); the others are told which
        execution to wait for, or to reuse. Looking for a holder and registering the new
        execution happen in one transaction, serialised with every other claim of the key,
        so two claimers never both start. `start_execution` registers without a claim.

        Args:
            run_id: The run the new execution belongs to.
            node: The node's name.
            component: The component's name.
            parameters: The node's parameters (plain JSON).
            cache_key: The key claimed.
            inputs: Input events of the new execution (port name -> artifact id).
            reuse: Whether a complete execution with the key whose outputs are all live
                (what `find_cached` would return) answers for it; False for an execution
                that must run anyway (`--from`, `--no-cache`) and waits only for a running one.

        Returns:
            A `Claim`: "started" with the new running execution when nothing answered for
            the key; else "cached" with the complete execution (only with `reuse`), or
            "held" with the oldest running execution with the key, of any run (this one
            included); then nothing is registered.

        Raises:
            InvalidParameterError: `parameters` is not JSON-serialisable.
            NotFoundError: There is no run `run_id`, or an input names no artifact.
        """
        ...

    def complete_execution(
        self,
        execution_id: int,
        outputs: Mapping[str, NewArtifact],
        *,
        error: str | None = None,
    ) -> dict[str, ArtifactRecord]:
        """Register the published outputs as live artifacts and mark the execution complete.

        The artifacts are attributed to the execution's run and linked to it by output
        events under their port names. With `error`, the execution is marked failed
        instead: it wrote its outputs, then stopped the run (validation that found
        anomalies); its outputs are recorded but never reused from the cache.

        Returns:
            The registered artifacts by port name.

        Raises:
            NotFoundError: There is no execution `execution_id`.
            StoreError: The execution is not running (it is complete, failed, cached,
                skipped, interrupted or abandoned); nothing is registered.
            InvalidParameterError: An output's properties are not JSON-serialisable.
        """
        ...

    def fail_execution(
        self, execution_id: int, error: str, *, state: FailureState = "failed"
    ) -> None:
        """Mark an execution failed, or interrupted, with an error text.

        Neither is ever a hit of `find_cached`: running the node again executes it, and a
        training resumes from the checkpoint the execution left.

        Args:
            execution_id: A running execution.
            error: Why it ended: the user's traceback, or how it was interrupted.
            state: "failed" (its code failed) or "interrupted" (the run stopped it: Ctrl-C,
                SIGTERM, or the runner ending the run).

        Raises:
            InvalidParameterError: `state` is neither "failed" nor "interrupted".
            NotFoundError: There is no execution `execution_id`.
            StoreError: The execution is not running; it keeps its state.
        """
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
        """Register an already-finished execution ("cached" or "skipped") with its events.

        Its start and end times are both now. A cached execution names the execution it
        reused in `cached_from` and that execution's artifacts as its outputs; it never
        becomes a hit of `find_cached` itself.

        Raises:
            InvalidParameterError: `state` is "running" or not an execution state, or
                `parameters` is not JSON-serialisable.
            NotFoundError: There is no run `run_id`, an input or output names no artifact,
                or `cached_from` names no execution.
            ArtifactDeletedError: An input or output was deleted (by
                `mark_unused_artifacts_deleted`); nothing is registered.
        """
        ...

    def find_cached(
        self, cache_key: str
    ) -> tuple[ExecutionRecord, dict[str, ArtifactRecord]] | None:
        """Return the newest complete execution with `cache_key` whose outputs are all live.

        "Newest" is the execution that completed last, whenever it started. Only complete
        executions are hits: running, failed, cached, skipped, interrupted and abandoned ones
        never are.

        Returns:
            The execution and its output artifacts by port name, or None if there is none.
        """
        ...

    def get_execution(self, execution_id: int) -> ExecutionRecord:
        """Return one execution.

        Raises:
            NotFoundError: There is no execution `execution_id`.
        """
        ...

    def list_executions(self, run_id: str) -> list[ExecutionRecord]:
        """Return a run's executions in the order they were registered.

        Raises:
            NotFoundError: There is no run `run_id`; a run without executions gives [].
        """
        ...

    # Artifacts and lineage ----------------------------------------------------------------
    def get_artifact(self, artifact_id: int) -> ArtifactRecord:
        """Return one artifact.

        Raises:
            NotFoundError: There is no artifact `artifact_id`.
        """
        ...

    def list_artifacts(
        self,
        *,
        run_id: str | None = None,
        pipeline: str | None = None,
        type_name: str | None = None,
        state: str | None = None,
    ) -> list[ArtifactRecord]:
        """Return artifacts, oldest first (in registration order), filtered.

        Args:
            run_id: Only artifacts this run's executions produced, not those it reused.
            pipeline: Only artifacts the runs of this pipeline produced; an unknown
                pipeline has none.
            type_name: Only artifacts of this type (`Model`, `Examples`, ...).
            state: Only artifacts in this state ("live" or "deleted").

        Raises:
            NotFoundError: There is no run `run_id`.
        """
        ...

    def events_of_execution(self, execution_id: int) -> list[Event]:
        """Return the input and output events of an execution.

        Raises:
            NotFoundError: There is no execution `execution_id`.
        """
        ...

    def events_of_artifact(self, artifact_id: int) -> list[Event]:
        """Return every event naming an artifact (its producer and its consumers).

        A deleted artifact keeps its events.

        Raises:
            NotFoundError: There is no artifact `artifact_id`.
        """
        ...

    def artifacts_used_by_runs(self, run_ids: Iterable[str]) -> set[int]:
        """Return the ids of artifacts that any execution of these runs read or wrote.

        Raises:
            NotFoundError: One of the runs does not exist.
        """
        ...

    def mark_artifacts_deleted(self, artifact_ids: Iterable[int]) -> None:
        """Mark artifacts deleted; their records stay for lineage.

        Marking a deleted artifact again does nothing.

        Raises:
            NotFoundError: One of the ids names no artifact; then none is marked.
        """
        ...

    def mark_unused_artifacts_deleted(
        self, artifact_ids: Iterable[int], *, old_runs: Iterable[str]
    ) -> set[int]:
        """Mark deleted the given artifacts that no run outside `old_runs` reads or writes.

        This is `shipyard gc`'s commit point. It runs in one transaction that excludes
        `start_execution` and `record_execution` (a store-wide lock), so a run that recorded
        a use of an artifact before keeps it, and a run that tries to use it after gets
        `ArtifactDeletedError`: no run can end up pointing at a deleted artifact.

        Args:
            artifact_ids: The candidates, chosen from the records of `old_runs`.
            old_runs: Finished runs whose use of an artifact does not keep it.

        Returns:
            The ids marked deleted; a candidate some other run uses (one that is running or
            started after the candidates were chosen) is left live.

        Raises:
            NotFoundError: One of the ids names no artifact; then none is marked.
        """
        ...

    def close(self) -> None:
        """Release connections."""
        ...
