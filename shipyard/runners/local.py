"""`LocalRunner`: orders nodes, reuses cached results, runs the rest, publishes atomically.

The runner is the only writer to the metadata store during a run. A node's outputs are staged,
published once its component returns, and registered in one store transaction: a crash at
any point leaves no half-written artifact registered, and the next run resumes from the cache.
The run in progress is a `shipyard.runners.execution.RunExecution`. A first Ctrl-C stops the
run within seconds: running nodes are told to stop (training saves a checkpoint), recorded as
interrupted, and `KeyboardInterrupt` is raised once the run is recorded
(`shipyard.runners.interrupts`).
"""

from __future__ import annotations

import getpass
import os
import socket
import time
from typing import TYPE_CHECKING, Any

from shipyard._startup import resume_collection
from shipyard.engines import ComponentRef
from shipyard.errors import DefinitionError, InvalidParameterError
from shipyard.io.fingerprints import FINGERPRINTS_FILENAME, FingerprintCache
from shipyard.runners.execution import RunExecution
from shipyard.runners.interrupts import StopRequest, stop_signals
from shipyard.runners.liveness import abandon_dead_runs, process_started
from shipyard.runners.outcome import end_run
from shipyard.runners.results import DONE_STATES, Run

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from shipyard.dsl import Pipeline
    from shipyard.engines import Engine
    from shipyard.io import ArtifactStorage
    from shipyard.runners.hooks import RunHook
    from shipyard.store import MetadataStore
    from shipyard.store.records import RunState


class LocalRunner:
    """Runs pipelines on an engine, recording everything in a metadata store.

    Args:
        store: Where runs, executions, artifacts and lineage are recorded.
        storage: Where artifact files are staged and published.
        engine: Where components execute.
        hooks: Receivers of run events (e.g. the live terminal display).
    """

    def __init__(
        self,
        *,
        store: MetadataStore,
        storage: ArtifactStorage,
        engine: Engine,
        hooks: Sequence[RunHook] = (),
    ) -> None:
        self.store = store
        self.storage = storage
        self.engine = engine
        self.hooks = list(hooks)
        self.fingerprints = FingerprintCache(storage.scratch_dir / FINGERPRINTS_FILENAME)

    def run(
        self,
        pipeline: Pipeline,
        *,
        cache: bool = True,
        rerun: Sequence[str] = (),
        properties: Mapping[str, Any] | None = None,
    ) -> Run:
        """Run `pipeline` and return its result; failures are in the result, not raised.

        Args:
            pipeline: The pipeline to run.
            cache: Reuse the outputs of unchanged nodes.
            rerun: Node names to execute again even if cached, with everything downstream.
            properties: Extra facts recorded on the run (e.g. the pipeline file).

        Raises:
            InvalidParameterError: `rerun` names a node the pipeline does not have.
            DefinitionError: The engine runs nodes in other processes and a component
                cannot be imported there (defined inside a function).
            StorageError: The artifact root cannot be written (checked before any node runs).
            StoreError: The metadata store failed, or its file was deleted or replaced.
        """
        resume_collection()  # the command's start-up (if any) ends here: `shipyard._startup`
        names = {node.name for node in pipeline.nodes}
        unknown = [name for name in rerun if name not in names]
        if unknown:
            raise InvalidParameterError(
                f"--from names {', '.join(map(repr, unknown))}, not a node of pipeline "
                f"{pipeline.name!r}; its nodes are {', '.join(sorted(names))}."
            )
        _check_importable(pipeline, self.engine)
        abandon_dead_runs(self.store, self.storage, pipeline=pipeline.name)
        self.storage.check_writable()
        started = time.perf_counter()
        record = self.store.create_run(
            pipeline.name,
            properties={
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "pid_started": process_started(os.getpid()),
                "user": _user(),
                "file": str(pipeline.location.file),
                "nodes": [node.name for node in pipeline.nodes],
                "cache": cache,
                "parameters": pipeline.parameters,
                **(properties or {}),
            },
        )
        stop = StopRequest()
        execution = RunExecution(
            self, pipeline, record.id, cache, pipeline.downstream(rerun), stop=stop
        )
        self._emit("on_run_start", run_id=record.id, pipeline=pipeline)
        try:
            with stop_signals(stop):
                execution.drive()
        except BaseException as exc:
            execution.interrupt()
            stopped = isinstance(exc, KeyboardInterrupt)  # a second Ctrl-C, or one outside a node
            end_run(self.store, record.id, "interrupted" if stopped else "failed")
            if stopped:
                self._emit("on_run_end", run=self._result(execution, "interrupted", started))
            raise
        finally:
            self.storage.discard_run_staging(record.id)
        done = all(n.state in DONE_STATES for n in execution.nodes.values())
        interrupted = stop.is_set() and not done  # a Ctrl-C after the last node changes nothing
        state: RunState = "complete" if done else "interrupted" if interrupted else "failed"
        final = end_run(self.store, record.id, state)
        result = self._result(execution, final.state, started)
        self._emit("on_run_end", run=result)
        if interrupted:
            raise KeyboardInterrupt(f"run {record.id} interrupted by {stop.describe()}")
        return result

    def _result(self, execution: RunExecution, state: str, started: float) -> Run:
        return Run(
            id=execution.run_id,
            pipeline=execution.pipeline.name,
            state=state,
            duration_s=time.perf_counter() - started,
            nodes=execution.nodes,
            store_url=self.store.url,
            artifact_root=self.storage.root,
        )

    def _emit(self, event: str, **kwargs: Any) -> None:
        for hook in self.hooks:
            handler = getattr(hook, event, None)
            if handler is not None:
                handler(**kwargs)


def _check_importable(pipeline: Pipeline, engine: Engine) -> None:
    """Before anything runs: an engine of other processes must be able to import each component."""
    if engine.in_process:
        return
    problems = [
        f"node {node.name!r}: {problem}"
        for node in pipeline.nodes
        if (problem := ComponentRef.of(node.component).importable) is not None
    ]
    if problems:
        raise DefinitionError(
            f"The {engine.name} engine runs each node in another process, which imports its "
            f"component: {'; '.join(problems)}. Or run with --engine threads.",
            problems=problems,
        )


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
