"""`run_node`: execute one node of a pipeline inside a run whose nodes run one per process.

A pipeline compiled for Kubeflow (`shipyard compile --target kubeflow`) has no runner
process: each of its tasks runs `shipyard execute-node --pipeline FILE --node NAME --run-id
ID`, which calls `run_node`. It does for one node what `LocalRunner.run` does for all, with
the same code (`RunExecution`): the first task creates the run `ID` and the others join it;
the upstream nodes' outputs are the ones this run recorded; a cached execution with the same
key is reused, one that another run holds is waited for, and otherwise the task executes and
its outputs are registered. A node that fails records the nodes downstream of it as skipped
(the orchestrator never starts them), and the task that leaves every node of the run done
finishes the run record.
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Any, ClassVar

from shipyard.engines.threads import ThreadEngine
from shipyard.errors import InvalidParameterError, NotFoundError
from shipyard.runners.execution import RunExecution, artifact_from_record
from shipyard.runners.interrupts import StopRequest, stop_signals
from shipyard.runners.local import LocalRunner, _user
from shipyard.runners.outcome import end_run
from shipyard.runners.results import DONE_STATES

if TYPE_CHECKING:
    from collections.abc import Sequence

    from shipyard.dsl import Node, Pipeline
    from shipyard.io import ArtifactStorage
    from shipyard.runners.hooks import RunHook
    from shipyard.runners.results import NodeRun
    from shipyard.store import ExecutionRecord, MetadataStore, RunRecord
    from shipyard.store.records import RunState

_ACTIVE = ("running", "waiting")


class OneNodeEngine(ThreadEngine):
    """Runs the one task of `run_node` on a thread of this process (the task's container)."""

    name: ClassVar[str] = "kubeflow"


def run_node(
    pipeline: Pipeline,
    node_name: str,
    *,
    run_id: str,
    store: MetadataStore,
    storage: ArtifactStorage,
    cache: bool = True,
    hooks: Sequence[RunHook] = (),
    engine: ThreadEngine | None = None,
) -> NodeRun:
    """Execute (or reuse from the cache) node `node_name` of `pipeline` in run `run_id`.

    Args:
        pipeline: The pipeline, built with the run's parameters.
        node_name: The node to execute.
        run_id: The run: created by the first of its nodes, joined by the others.
        store: The metadata store every node of the run shares.
        storage: The artifact storage every node of the run shares (an object store).
        cache: Reuse the outputs of an execution with the same cache key.
        hooks: Receivers of the node's events (`on_node_state`, `on_node_progress`).
        engine: Where the task executes (default: a thread of this process); rank 0 of a
            training group passes `ranks.RankZeroEngine`, which hands it to the others.

    Returns:
        The node's outcome; a failure is in it (`state`, `error`), not raised.

    Raises:
        NotFoundError: The pipeline has no node `node_name`.
        InvalidParameterError: Run `run_id` is of another pipeline, or an upstream node has
            not completed in it (the tasks ran out of the pipeline's order).
    """
    names = [node.name for node in pipeline.nodes]
    if node_name not in names:
        raise NotFoundError(
            f"--node {node_name!r}: pipeline {pipeline.name!r} has no such node; its nodes are "
            f"{', '.join(names)}."
        )
    node = pipeline[node_name]
    _join_run(store, pipeline, run_id, cache=cache)
    engine = engine or OneNodeEngine(max_workers=1)
    runner = LocalRunner(store=store, storage=storage, engine=engine, hooks=hooks)
    # Not the whole run: an interrupted task leaves its siblings' staging alone (its own
    # task discards what it staged).
    execution = RunExecution(
        runner, pipeline, run_id, cache, set(), stop=StopRequest(), whole_run=False
    )
    try:
        previous = _load_recorded(execution, node)
        if previous is not None:
            return previous
        with stop_signals(execution.stop):
            try:
                execution.drive([node])
            except BaseException:
                execution.interrupt()
                raise
    finally:
        engine.close()
    outcome = execution.nodes[node.name]
    if outcome.state not in DONE_STATES:
        for later in pipeline.nodes:  # in order: each sees its skipped upstream
            if later.name in pipeline.downstream([node.name]) - {node.name}:
                execution._skip(later)
    finish_if_done(store, pipeline, run_id)
    return outcome


def _join_run(store: MetadataStore, pipeline: Pipeline, run_id: str, *, cache: bool) -> RunRecord:
    """Return run `run_id` of `pipeline`, creating it if no node of it has yet."""
    try:
        found = store.get_run(run_id)
    except NotFoundError:
        found = None
    if found is None or found.id != run_id:
        properties: dict[str, Any] = {
            "host": socket.gethostname(),  # no pid: the run outlives each task's process
            "user": _user(),
            "engine": OneNodeEngine.name,
            "file": str(pipeline.location.file),
            "nodes": [node.name for node in pipeline.nodes],
            "cache": cache,
            "parameters": pipeline.parameters,
        }
        try:
            return store.create_run(pipeline.name, properties=properties, run_id=run_id)
        except InvalidParameterError:  # another task of the run created it meanwhile
            found = store.get_run(run_id)
    if found.pipeline != pipeline.name:
        raise InvalidParameterError(
            f"--run-id {run_id}: that run is of pipeline {found.pipeline!r}, not "
            f"{pipeline.name!r}; give each pipeline job its own run id."
        )
    return found


def _latest(store: MetadataStore, run_id: str) -> dict[str, ExecutionRecord]:
    """The newest execution of each node recorded in the run."""
    latest: dict[str, ExecutionRecord] = {}
    for record in sorted(store.list_executions(run_id), key=lambda r: r.id):
        latest[record.node] = record
    return latest


def _load_recorded(execution: RunExecution, node: Node) -> NodeRun | None:
    """Fill in the upstream nodes' outcomes from the store; a done `node` is returned as is.

    A task started again (a retry of the orchestrator) whose node completed returns that
    outcome; a node left running by a task that died is recorded interrupted first.
    """
    store = execution.store
    latest = _latest(store, execution.run_id)
    for name in [up.name for up in node.upstream] + [node.name]:
        record = latest.get(name)
        if record is None:
            if name == node.name:
                continue
            raise InvalidParameterError(
                f"--node {node.name!r}: upstream node {name!r} has no execution in run "
                f"{execution.run_id}; run each node after the nodes it reads from (the "
                f"compiled pipeline's dependentTasks)."
            )
        outcome = execution.nodes[name]
        if name == node.name:
            if record.state in DONE_STATES:
                _fill(execution, outcome, record)
                return outcome
            if record.state in _ACTIVE:
                store.fail_execution(
                    record.id,
                    "interrupted: its task was started again (a retry), so the process "
                    "executing it is gone.",
                    state="interrupted",
                )
            continue
        if record.state in _ACTIVE:
            raise InvalidParameterError(
                f"--node {node.name!r}: upstream node {name!r} is still {record.state} in run "
                f"{execution.run_id}; run each node after the nodes it reads from."
            )
        _fill(execution, outcome, record)
    return None


def _fill(execution: RunExecution, outcome: NodeRun, record: ExecutionRecord) -> None:
    store = execution.store
    outcome.state = record.state  # type: ignore[assignment]  # a final execution state
    outcome.execution_id = record.id
    outcome.cached_from = record.cached_from
    outcome.outputs = {
        event.name: artifact_from_record(store.get_artifact(event.artifact_id), execution.storage)
        for event in store.events_of_execution(record.id)
        if event.kind == "output"
    }


def finish_if_done(store: MetadataStore, pipeline: Pipeline, run_id: str) -> str | None:
    """Finish run `run_id` once every node of `pipeline` has a final execution in it.

    Returns:
        The run's final state, or None while a node has not ended (or the run had ended).
    """
    latest = _latest(store, run_id)
    states = [latest[n.name].state if n.name in latest else None for n in pipeline.nodes]
    if any(state is None or state in _ACTIVE for state in states):
        return None
    final: RunState = (
        "complete"
        if all(state in DONE_STATES for state in states)
        else "interrupted"
        if "interrupted" in states
        else "failed"
    )
    if store.get_run(run_id).state != "running":
        return None
    return end_run(store, run_id, final).state


def finish_run(pipeline: Pipeline, *, run_id: str, store: MetadataStore) -> RunState:
    """End run `run_id` once the orchestrator ran what it would (the exit handler's task).

    A pipeline job stops early (a failed task, a deleted pod, a stopped job) with nodes that
    never started and nodes whose pod died while they ran; no task of theirs will finish the
    run. Each node never started is recorded `skipped`, each left running or waiting
    `interrupted`, and the run ends in the state `finish_if_done` gives. A run already ended
    is left as it is; a run no task created is created, to record why nothing ran.

    Returns:
        The run's final state.

    Raises:
        InvalidParameterError: Run `run_id` is of another pipeline.
    """
    run = _join_run(store, pipeline, run_id, cache=True)
    if run.state != "running":
        return run.state
    latest = _latest(store, run_id)
    for node in pipeline.nodes:
        record = latest.get(node.name)
        if record is None:
            store.record_execution(
                run_id,
                node=node.name,
                component=node.component.name,
                parameters=node.parameters,
                cache_key="",
                state="skipped",
                inputs={},
                outputs={},
                error="never started: the pipeline job ended before it (an upstream task "
                "failed, or the job was stopped)",
            )
        elif record.state in _ACTIVE:
            store.fail_execution(
                record.id,
                f"interrupted: the pipeline job ended while it was {record.state} (its pod "
                f"was deleted or died); run the job again to resume.",
                state="interrupted",
            )
    finish_if_done(store, pipeline, run_id)
    return store.get_run(run_id).state
