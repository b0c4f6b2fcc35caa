"""Execute one task where it runs: read the inputs, call the component, publish the outputs.

Everything a task touches happens here, next to the data: inputs are localized (downloaded
from a remote artifact root), each output is staged in a fresh directory, the user's function
runs inside the error boundary, and the outputs are fingerprinted and published to their URIs.
The runner only registers what comes back; registration is the commit point, so outputs
published by a task whose result never reached the store are garbage that `shipyard gc` deletes.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.dsl.context import LogEntry, TaskContext, current_task, running_task
from shipyard.dsl.parameters import call_value
from shipyard.engines.result import TaskError, TaskResult
from shipyard.engines.spec import ArtifactRef
from shipyard.errors import (
    ComponentFailed,
    ExecutionInterrupted,
    PlatformError,
    RunStopped,
    StorageError,
)
from shipyard.extras import missing_extra
from shipyard.io import ArtifactStorage, fingerprint_path
from shipyard.io.faults import is_disk_fault, storage_error

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    from shipyard.artifacts import Artifact
    from shipyard.dsl import Component
    from shipyard.dsl.context import Progress
    from shipyard.engines.spec import TaskSpec


def execute_task(
    task: TaskSpec,
    *,
    engine: str,
    on_progress: Callable[[Progress], None] | None = None,
    stop_requested: Callable[[], bool] | None = None,
    on_log: Callable[[LogEntry], None] | None = None,
    publish: bool = True,
) -> TaskResult:
    """Run `task` in this process and publish its outputs; never raises for a task's failure.

    Args:
        task: The task.
        engine: The name of the engine running it (`TaskContext.engine`).
        on_progress: Receives the component's progress reports.
        stop_requested: Tells whether the run was asked to stop.
        on_log: Receives the records the component logs (`logging`, at the levels the
            loggers are configured for) from the thread running it.
        publish: False for a training rank other than 0 (`shipyard.runners.ranks`): the
            outputs it staged are discarded, since rank 0 publishes the same ones.

    A `RunStopped` error comes back with the outputs, which its component saved in full and
    which are published. A component that raised `ExecutionInterrupted` (or any error once the
    run was asked to stop) comes back `interrupted`; nothing of it is published.
    """
    started = time.perf_counter()
    storage = ArtifactStorage(task.artifact_root, scratch_dir=Path(task.scratch_dir))
    context = TaskContext(
        task.node,
        None if task.checkpoint_dir is None else Path(task.checkpoint_dir),
        on_progress,
        stop_requested,
        engine,
    )
    component: Component[Any] | None = None
    outputs: dict[str, Artifact] = {}
    stopped: RunStopped | None = None
    try:
        component = task.component.resolve()
        kwargs = _inputs(task, storage)
        for port, (type_name, uri) in task.outputs.items():
            outputs[port] = ArtifactRef(type_name, uri).open(storage.new_staging(task.run_id))
        for name, value in task.parameters.items():
            kwargs[name] = call_value(component.parameters[name].annotation, value)
        try:
            with running_task(context), _forwarding_logs(context, on_log):
                component.fn(**kwargs, **outputs)
        except RunStopped as exc:  # the outputs are complete: they are published with the error
            stopped = exc
        if not publish:
            for artifact in outputs.values():
                storage.discard(artifact.path)
            return TaskResult(task.node, time.perf_counter() - started)
        published = _publish(task.node, storage, outputs)
    except Exception as exc:
        for artifact in outputs.values():
            storage.discard(artifact.path)
        return TaskResult(
            task.node,
            time.perf_counter() - started,
            error=_task_error(task, component, exc, staging_dir=storage.staging_dir),
            interrupted=isinstance(exc, ExecutionInterrupted) or context.interrupted,
        )
    duration_s = time.perf_counter() - started
    if stopped is not None:
        assert component is not None
        error = component_failed(task.node, component, stopped)
        return TaskResult(task.node, duration_s, published, error=error, stopped=True)
    return TaskResult(task.node, duration_s, published)


class _LogForwarder(logging.Handler):
    """Forwards the records of one task's thread (its context is current) to `on_log`."""

    def __init__(self, context: TaskContext, on_log: Callable[[LogEntry], None]) -> None:
        super().__init__()
        self.context = context
        self.on_log = on_log

    def emit(self, record: logging.LogRecord) -> None:
        if current_task() is not self.context:
            return
        try:
            entry = LogEntry(record.created, record.levelname, record.name, self.format(record))
            self.on_log(entry)
        except Exception:
            self.handleError(record)


@contextlib.contextmanager
def _forwarding_logs(
    context: TaskContext, on_log: Callable[[LogEntry], None] | None
) -> Iterator[None]:
    """While the component runs, its log records go to `on_log` (the runner shows them)."""
    if on_log is None:
        yield
        return
    forwarder = _LogForwarder(context, on_log)
    root = logging.getLogger()
    root.addHandler(forwarder)
    try:
        yield
    finally:
        root.removeHandler(forwarder)


def _inputs(task: TaskSpec, storage: ArtifactStorage) -> dict[str, Any]:
    """Open each input artifact, downloading it first from a remote artifact root."""
    inputs: dict[str, Any] = {}
    for port, ref in task.inputs.items():
        try:
            path = storage.localize(ref.uri)
        except OSError as exc:
            raise storage_error(exc, action=f"reading input {port!r}", path=ref.uri) from exc
        inputs[port] = ref.open(path)
    return inputs


def _publish(
    node: str, storage: ArtifactStorage, outputs: Mapping[str, Artifact]
) -> dict[str, ArtifactRef]:
    """Fingerprint and publish the outputs; their properties must be JSON.

    Raises:
        ComponentFailed: An output's properties are not JSON-serialisable.
        StorageError: An output cannot be published.
    """
    for port, artifact in outputs.items():
        try:
            json.dumps(artifact.properties, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ComponentFailed(
                f"node {node!r}: the properties of output {port!r} are not JSON-serialisable "
                f"({exc}); set only str, int, float, bool, None, lists and dicts.",
                node=node,
                user_traceback=f"properties of output {port!r} are not JSON-serialisable: {exc}\n",
                exception_type=type(exc).__name__,
            ) from exc
    published: dict[str, ArtifactRef] = {}
    for port, artifact in outputs.items():
        artifact.fingerprint = fingerprint_path(artifact.path)
        storage.publish(artifact.path, artifact.uri)
        published[port] = ArtifactRef.of(artifact)
    return published


def _task_error(
    task: TaskSpec, component: Component[Any] | None, exc: Exception, *, staging_dir: Path
) -> TaskError:
    """The error a failed task reports: the platform's fault, or the component's.

    A component that met a full disk or a read-only mount while writing its outputs raised,
    but the fault is the platform's: a `StorageError` naming the path and the fix, with the
    component's traceback as its cause.
    """
    if isinstance(exc, PlatformError | ComponentFailed):
        return exc
    node = task.node
    if component is None:  # it could not be imported where the task runs
        failed = ComponentFailed(
            f"node {node!r}: {exc}",
            node=node,
            user_traceback="".join(traceback.format_exception(type(exc), exc, None)),
            exception_type=type(exc).__name__,
        )
        failed.__cause__ = exc
        return failed
    failed = component_failed(node, component, exc)
    if not isinstance(exc, OSError) or not is_disk_fault(exc):
        return failed
    fault: StorageError = storage_error(
        exc, action=f"while node {node!r} wrote its outputs", path=str(staging_dir)
    )
    fault.__cause__ = failed
    return fault


def component_failed(node: str, component: Component[Any], exc: BaseException) -> ComponentFailed:
    """Wrap an exception from user code, keeping only the user's frames of its traceback."""
    tb = exc.__traceback__
    user_code = component.fn.__code__
    while tb is not None and tb.tb_frame.f_code is not user_code:
        tb = tb.tb_next
    lines = traceback.format_exception(type(exc), exc, tb or exc.__traceback__)
    name = component.name
    if isinstance(exc, ImportError):
        missing = missing_extra(exc, needed_by=f"node {node!r} ({name})")
        if missing is not None:
            lines.append(f"{missing}\n")
    error = ComponentFailed(
        f"node {node!r} (component {name}) raised {type(exc).__name__}: {exc}",
        node=node,
        user_traceback="".join(lines),
        exception_type=type(exc).__name__,
    )
    error.__cause__ = exc
    return error
