"""One run in progress: which nodes start, which come from the cache, how each ends.

`RunExecution` is driven by `LocalRunner.run` (`shipyard.runners.local`). It starts ready
nodes on the engine (or reuses a cached execution with the same key, or waits while another
run holds that key), publishes and registers each finished node's outputs in one store
transaction, and records failures and interruptions. A component that raises `RunStopped`
has saved its outputs in full: they are published and recorded as the failed execution's
outputs, and everything downstream is skipped.
"""

from __future__ import annotations

import functools
import logging
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shipyard.artifacts import Artifact, artifact_type
from shipyard.engines import ArtifactRef, ComponentRef, Preloader, TaskResult, TaskSpec
from shipyard.errors import ArtifactDeletedError, StoreError
from shipyard.runners.cache import cache_key
from shipyard.runners.claims import CLAIM_POLL_S, Claims
from shipyard.runners.faults import error_text
from shipyard.runners.interrupts import POLL_S, STOP_GRACE_S, StopRequest
from shipyard.runners.node_logs import NodeLogWriter
from shipyard.runners.preloads import slow_imports
from shipyard.runners.resolve import resolve_latest
from shipyard.runners.results import DONE_STATES, NodeRun, NodeState
from shipyard.store import NewArtifact

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from shipyard.dsl import Node, Pipeline
    from shipyard.dsl.context import LogEntry, Progress
    from shipyard.io import ArtifactStorage
    from shipyard.runners.local import LocalRunner
    from shipyard.store import ArtifactRecord


logger = logging.getLogger("shipyard.runners")
_START_ATTEMPTS = 3  # lookups of a node's inputs when `shipyard gc` deletes them meanwhile


@dataclass
class RunningNode:
    """A node whose task the engine is running."""

    node: Node
    execution_id: int
    started: float
    checkpoint_key: str | None  # the cache key whose checkpoint directory it owns


class RunExecution:
    """One run in progress: starts ready nodes, reuses cached ones, records each outcome.

    `LocalRunner.run` makes one per run and drives it; the runner's hooks hear every change.
    """

    def __init__(
        self,
        runner: LocalRunner,
        pipeline: Pipeline,
        run_id: str,
        cache: bool,
        forced: set[str],
        *,
        stop: StopRequest,
        whole_run: bool = True,
    ) -> None:
        """`whole_run`: this execution holds every node of the run, so its staging
        directories are all its own to delete when it is interrupted; False for one node's
        task (`run_node`), whose siblings may stage beside it on the same machine."""
        self.runner = runner
        self.whole_run = whole_run
        self.store = runner.store
        self.storage = runner.storage
        self.pipeline = pipeline
        self.run_id = run_id
        self.cache = cache
        self.forced = forced
        self.stop = stop
        self.nodes = {n.name: NodeRun(n.name, n.component.name) for n in pipeline.nodes}
        self.running: dict[Future[TaskResult], RunningNode] = {}
        self.claims = Claims(self.store, self.storage, run_id)
        self.logs = NodeLogWriter(self.storage, pipeline.name, run_id)
        self.prepared: dict[str, tuple[dict[str, Artifact], str]] = {}
        self.driven: set[str] = set()
        # nodes whose components declare slow imports, until the engine was asked to preload
        self.preloading = (
            [n for n in pipeline.nodes if n.component.preload]
            if isinstance(runner.engine, Preloader)
            else []
        )

    def drive(self, nodes: Sequence[Node] | None = None) -> None:
        """Run `nodes` (default: the whole pipeline) once their upstream nodes are done.

        Upstream nodes outside `nodes` count as they stand in `self.nodes` (`run_node`
        fills those from the store for a run whose nodes execute one per process).
        """
        pending = list(self.pipeline.nodes if nodes is None else nodes)
        self.driven.update(node.name for node in pending)
        while (pending or self.running) and not self.stop.is_set():
            pending = self._start_ready(pending)
            poll_s = CLAIM_POLL_S if self.claims.waiting else None
            if self.running:
                done, _ = wait(list(self.running), timeout=POLL_S, return_when=FIRST_COMPLETED)
                for future in done:
                    self._settle(self.running.pop(future), future.result())
            elif poll_s is not None:  # only nodes waiting for other runs' executions
                time.sleep(min(poll_s, POLL_S))
        if self.stop.is_set():
            self._stop_running()

    def _stop_running(self) -> None:
        """After a first Ctrl-C: wait a bounded time for running nodes, record the rest."""
        self.runner._emit(
            "on_run_stopping",
            reason=self.stop.describe(),
            grace_s=STOP_GRACE_S,
            nodes=[running.node.name for running in self.running.values()],
        )
        deadline = time.monotonic() + STOP_GRACE_S
        while self.running and (left := deadline - time.monotonic()) > 0:
            done, _ = wait(list(self.running), timeout=left, return_when=FIRST_COMPLETED)
            for future in done:
                self._settle(self.running.pop(future), future.result())
        how = "left behind" if self.runner.engine.in_process else "stopped"
        self.interrupt(f"it was still running {STOP_GRACE_S:g} s later and was {how}")

    def _settle(self, running: RunningNode, result: TaskResult) -> None:
        """Record a returned task: stopped by the interrupt, or finished (even meanwhile)."""
        if result.interrupted:
            self._record_interrupted(running, "it stopped")
        else:
            self._finish(running, result)

    def interrupt(self, how: str = "the run ended") -> None:
        """Record running executions as interrupted after Ctrl-C or an internal error.

        The engine stops what it can at once (worker processes are killed; threads run on).
        """
        if self.running:
            self.runner.engine.terminate()
        for future, running in list(self.running.items()):
            future.cancel()
            self._record_interrupted(running, how)
        self.running.clear()
        if self.whole_run:
            self.storage.discard_run_staging(self.run_id)

    def _record_interrupted(self, running: RunningNode, how: str) -> None:
        outcome = self.nodes[running.node.name]
        outcome.duration_s = time.perf_counter() - running.started
        self.store.fail_execution(
            running.execution_id,
            f"interrupted by {self.stop.describe() if self.stop.is_set() else 'the runner'} "
            f"after {outcome.duration_s:.1f} s ({how}); run the pipeline again to resume "
            "(training resumes from its checkpoint).",
            state="interrupted",
        )
        self._set_state(running.node, "interrupted")

    def _start_ready(self, pending: list[Node]) -> list[Node]:
        progressed = True
        while progressed:
            progressed = False
            for node in list(pending):
                upstream = [self.nodes[up.name].state for up in node.upstream]
                if any(state in ("failed", "skipped") for state in upstream):
                    pending.remove(node)
                    self._skip(node)
                    progressed = True
                elif all(state in DONE_STATES for state in upstream):
                    if len(self.running) >= self.runner.engine.max_parallel:
                        return pending
                    if self._start(node):
                        pending.remove(node)
                        progressed = True
        return pending

    def _start(self, node: Node) -> bool:
        """Reuse or start a ready node; False while it waits for another execution of its key.

        When `shipyard gc` deleted an input meanwhile, the inputs are looked up again.
        """
        for _ in range(_START_ATTEMPTS - 1):
            try:
                return self._try_start(node)
            except ArtifactDeletedError:  # `shipyard gc` deleted an input: look up again
                logger.info("an input of %s was deleted meanwhile; looking up again", node.name)
                self.prepared.pop(node.name, None)
        return self._try_start(node)

    def _prepare(self, node: Node) -> tuple[dict[str, Artifact], str]:
        """Look up a ready node's inputs (resolved ones included) and its cache key, once."""
        if node.name in self.prepared:
            return self.prepared[node.name]
        inputs = {
            port: self.nodes[ref.node.name].outputs[ref.port] for port, ref in node.inputs.items()
        }
        wired = {artifact.fingerprint for artifact in inputs.values() if artifact.fingerprint}
        for port, spec in node.resolved_inputs.items():
            found = resolve_latest(
                self.store, self.storage, self.pipeline.name, spec, exclude=wired
            )
            if found is not None:
                inputs[port] = self._artifact(found)
        self.prepared[node.name] = (
            inputs,
            cache_key(node, inputs, fingerprints=self.runner.fingerprints),
        )
        return self.prepared[node.name]

    def _try_start(self, node: Node) -> bool:
        started = time.perf_counter()
        inputs, key = self._prepare(node)
        input_ids = {port: _artifact_id(artifact) for port, artifact in inputs.items()}
        reuse = self.cache and node.cache and node.name not in self.forced
        hit = self.store.find_cached(key) if reuse else None
        if hit is not None:
            if self._reusable(node, hit[1]):
                producer, records = hit
                record = self.store.record_execution(
                    self.run_id,
                    **_identity(node, key),
                    state="cached",
                    inputs=input_ids,
                    outputs={port: rec.id for port, rec in records.items()},
                    cached_from=producer.id,
                )
                result = self.nodes[node.name]
                result.execution_id = record.id
                result.cached_from = producer.id
                result.outputs = {port: self._artifact(rec) for port, rec in records.items()}
                result.duration_s = time.perf_counter() - started
                self._set_state(node, "cached")
                return True
        claim = self.claims.claim(
            node.name, _identity(node, key), input_ids, reuse=reuse and hit is None
        )
        if claim is None:  # another execution with this key runs: wait for its outcome
            if self.nodes[node.name].state != "waiting":
                self._set_state(node, "waiting")
            return False
        if claim.outcome == "cached":  # it completed meanwhile: reuse it
            return self._try_start(node)
        checkpoint_key = key if claim.outcome == "started" else None
        record = claim.execution
        if claim.outcome == "held":  # an identical node of this run holds the key
            record = self.store.start_execution(
                self.run_id, **_identity(node, key), inputs=input_ids
            )
        self.nodes[node.name].execution_id = record.id
        checkpoint_dir = None if checkpoint_key is None else self.storage.checkpoint_dir(key)
        task = TaskSpec(
            node=node.name,
            component=ComponentRef.of(node.component),
            inputs={port: ArtifactRef.of(artifact) for port, artifact in inputs.items()},
            outputs={
                port: (
                    spec.type.type_name,
                    self.storage.uri_for(self.pipeline.name, self.run_id, node.name, port),
                )
                for port, spec in node.component.outputs.items()
            },
            parameters=node.parameters,
            run_id=self.run_id,
            artifact_root=self.storage.root,
            scratch_dir=str(self.storage.scratch_dir),
            checkpoint_dir=None if checkpoint_dir is None else str(checkpoint_dir),
            resources=node.resources,
            preload=node.component.preload,
        )
        self._preload_below(node)
        future = self.runner.engine.submit(
            task,
            on_progress=functools.partial(self._progress, self.nodes[node.name]),
            stop_requested=self.stop.is_set,
            on_log=functools.partial(self._log, self.nodes[node.name]),
        )
        self.running[future] = RunningNode(node, record.id, started, checkpoint_key)
        self._set_state(node, "running")
        return True

    def _preload_below(self, node: Node) -> None:
        """`node` executes: the engine imports, meanwhile, what the slow nodes below it need.

        Only a node that executes (not one from the cache) starts it, so a cached rerun
        never does; once a run, for the nodes below it that this execution drives.
        """
        if not self.preloading:
            return
        below = self.pipeline.downstream([node.name]) - {node.name}
        waiting = [
            n
            for n in self.preloading
            if n.name in below and n.name in self.driven and self.nodes[n.name].state == "pending"
        ]
        if not waiting:
            return
        self.preloading = []
        assert isinstance(self.runner.engine, Preloader)
        self.runner.engine.preload(slow_imports(waiting))

    def _finish(self, running: RunningNode, result: TaskResult) -> None:
        """Register a finished task's published outputs, or record why it failed.

        A task whose component raised `RunStopped` published its outputs: they are
        registered as the failed execution's outputs.
        """
        node = running.node
        outcome = self.nodes[node.name]
        outcome.duration_s = time.perf_counter() - running.started
        error = result.error
        if result.ok or result.stopped:
            try:
                outcome.outputs = self._register(
                    node,
                    running.execution_id,
                    result.outputs,
                    error=None if error is None else error_text(error),
                )
            except StoreError:
                raise
            except Exception as exc:  # nothing registered: what was published is not kept
                for ref in result.outputs.values():
                    self.storage.remove(ref.uri)
                error = StoreError(
                    f"registering the outputs of node {node.name!r} failed: "
                    f"{type(exc).__name__}: {exc}",
                    hint="Run the pipeline again; the nodes that completed come from the cache.",
                )
                self.store.fail_execution(running.execution_id, error_text(error))
        elif error is not None:
            self.store.fail_execution(running.execution_id, error_text(error))
        if error is not None:
            outcome.error = error
            self._set_state(node, "failed")
            return
        if running.checkpoint_key is not None:
            self.storage.discard_checkpoints(running.checkpoint_key)
        self._set_state(node, "complete")

    def _progress(self, node: NodeRun, progress: Progress) -> None:
        """Relay a component's progress report (called from the engine's worker)."""
        try:
            self.runner._emit("on_node_progress", node=node, progress=progress)
        except Exception:  # a display's failure must not fail the component
            logger.exception("a run hook failed on a progress report of %s", node.name)

    def _log(self, node: NodeRun, entry: LogEntry) -> None:
        """Relay a component's log record to the hooks; without one that shows logs, warnings
        and errors go to standard error, as Python's own last-resort handler would."""
        try:
            self.logs.append(node.name, entry)
        except OSError:  # a full disk loses the log, not the component's work
            logger.exception("keeping a log record of %s failed", node.name)
        listeners = [hook for hook in self.runner.hooks if hasattr(hook, "on_node_log")]
        if not listeners:
            if logging.getLevelName(entry.level) >= logging.WARNING:
                print(f"{node.name}: {entry.message}", file=sys.stderr)
            return
        try:
            self.runner._emit("on_node_log", node=node, entry=entry)
        except Exception:  # a display's failure must not fail the component
            logger.exception("a run hook failed on a log record of %s", node.name)

    def _register(
        self,
        node: Node,
        execution_id: int,
        outputs: Mapping[str, ArtifactRef],
        *,
        error: str | None = None,
    ) -> dict[str, Artifact]:
        """Register the published outputs; with `error`, the execution is marked failed."""
        artifacts: dict[str, Artifact] = {}
        new: dict[str, NewArtifact] = {}
        for port, ref in outputs.items():
            artifact = ref.open(self.storage.local_path(ref.uri))
            artifact.name = f"{self.pipeline.name}/{self.run_id}/{node.name}/{port}"
            artifacts[port] = artifact
            new[port] = NewArtifact(
                type_name=artifact.type_name,
                uri=artifact.uri,
                fingerprint=artifact.fingerprint or "",
                name=artifact.name,
                properties=artifact.properties,
            )
        records = self.store.complete_execution(execution_id, new, error=error)
        for port, artifact in artifacts.items():
            artifact.id = records[port].id
        return artifacts

    def _skip(self, node: Node) -> None:
        failed_up = [up.name for up in node.upstream if self.nodes[up.name].state != "complete"]
        record = self.store.record_execution(
            self.run_id,
            **_identity(node, ""),
            state="skipped",
            inputs={},
            outputs={},
            error=f"upstream node(s) {', '.join(failed_up)} did not complete",
        )
        self.nodes[node.name].execution_id = record.id
        self._set_state(node, "skipped")

    def _reusable(self, node: Node, records: Mapping[str, ArtifactRecord]) -> bool:
        return set(records) == set(node.component.outputs) and all(
            self.storage.exists(rec.uri) for rec in records.values()
        )

    def _artifact(self, record: ArtifactRecord) -> Artifact:
        return artifact_from_record(record, self.storage)

    def _set_state(self, node: Node, state: NodeState) -> None:
        outcome = self.nodes[node.name]
        outcome.state = state
        if state not in ("pending", "waiting", "running"):
            try:
                self.logs.finish(node.name)
            except OSError:
                logger.exception("keeping the log of %s failed", node.name)
        self.runner._emit("on_node_state", node=outcome)


def artifact_from_record(record: ArtifactRecord, storage: ArtifactStorage) -> Artifact:
    """Rebuild a typed artifact object from its store record."""
    return artifact_type(record.type_name)(
        storage.local_path(record.uri),
        uri=record.uri,
        id=record.id,
        name=record.name,
        properties=record.properties,
        fingerprint=record.fingerprint,
    )


def _identity(node: Node, key: str) -> dict[str, Any]:
    """The fields every execution record of a node carries."""
    return {
        "node": node.name,
        "component": node.component.name,
        "parameters": node.parameters,
        "cache_key": key,
    }


def _artifact_id(artifact: Artifact) -> int:
    assert artifact.id is not None, f"{artifact!r} was never registered"
    return artifact.id
