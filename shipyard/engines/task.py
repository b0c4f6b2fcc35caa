"""Execute one task: call the user's function inside the error boundary, fingerprint outputs."""

from __future__ import annotations

import time
import traceback
from typing import Any

from shipyard.dsl.context import TaskContext, running_task
from shipyard.dsl.parameters import call_value
from shipyard.engines.protocol import TaskResult, TaskSpec
from shipyard.errors import ComponentFailed, ExecutionInterrupted, RunStopped
from shipyard.extras import missing_extra
from shipyard.io import fingerprint_path


def execute_task(task: TaskSpec) -> TaskResult:
    """Run `task` where this function is called; never raises for errors in user code.

    A `RunStopped` error comes back with the outputs, which its component saved in full. A
    component that raised `ExecutionInterrupted` (or any error once the run was asked to stop)
    comes back `interrupted`.
    """
    started = time.perf_counter()
    component = task.component
    kwargs: dict[str, Any] = dict(task.inputs) | dict(task.outputs)
    for name, value in task.parameters.items():
        kwargs[name] = call_value(component.parameters[name].annotation, value)
    context = TaskContext(task.node, task.checkpoint_dir, task.on_progress, task.stop_requested)
    try:
        with running_task(context):
            component.fn(**kwargs)
        for artifact in task.outputs.values():
            artifact.fingerprint = fingerprint_path(artifact.path)
    except RunStopped as exc:
        # The outputs are complete: they go back with the error, to be published.
        for artifact in task.outputs.values():
            artifact.fingerprint = fingerprint_path(artifact.path)
        return TaskResult(
            task.node,
            time.perf_counter() - started,
            outputs=task.outputs,
            error=component_failed(task, exc),
        )
    except Exception as exc:
        return TaskResult(
            task.node,
            time.perf_counter() - started,
            error=component_failed(task, exc),
            interrupted=isinstance(exc, ExecutionInterrupted) or context.interrupted,
        )
    return TaskResult(task.node, time.perf_counter() - started, outputs=task.outputs)


def component_failed(task: TaskSpec, exc: BaseException) -> ComponentFailed:
    """Wrap an exception from user code, keeping only the user's frames of its traceback."""
    user_code = task.component.fn.__code__
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code is not user_code:
        tb = tb.tb_next
    lines = traceback.format_exception(type(exc), exc, tb or exc.__traceback__)
    if isinstance(exc, ImportError):
        missing = missing_extra(exc, needed_by=f"node {task.node!r} ({task.component.name})")
        if missing is not None:
            lines.append(f"{missing}\n")
    error = ComponentFailed(
        f"node {task.node!r} (component {task.component.name}) raised {type(exc).__name__}: {exc}",
        node=task.node,
        user_traceback="".join(lines),
    )
    error.__cause__ = exc
    return error
