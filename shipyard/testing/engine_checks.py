"""`check_engine`: the conformance suite every `Engine` backend must pass.

Every task crosses as JSON (`TaskSpec.from_json(task.to_json())`), so an engine passes only if
it carries tasks as data: nothing of this process (no live component, no shared object) is
available to the task. The components it runs are defined at the top of this module, so any
worker that has Shipyard installed imports them.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.artifacts import Metrics
from shipyard.dsl import Out, component
from shipyard.dsl.context import current_task
from shipyard.engines import ArtifactRef, ComponentRef, Engine, TaskResult, TaskSpec
from shipyard.errors import ComponentFailed, RunStopped

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from shipyard.dsl import Component
    from shipyard.dsl.context import LogEntry, Progress

_TIMEOUT_S = 60.0


@component
def _write(out: Out[Metrics], *, value: float) -> None:
    task = current_task()
    out.save({"value": value})
    out.properties["engine"] = task.engine
    if task.checkpoint_dir is not None:
        (task.checkpoint_dir / "seen").write_text(task.node)


@component
def _add_one(metrics: Metrics, out: Out[Metrics]) -> None:
    out.save({"value": metrics.load()["value"] + 1})


@component
def _meet(out: Out[Metrics], *, directory: str, count: int) -> None:
    """Arrive, then wait until `count` tasks have arrived: they run at once, or time out."""
    (Path(directory) / current_task().node).touch()
    deadline = time.monotonic() + 30
    while len(list(Path(directory).iterdir())) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {len(list(Path(directory).iterdir()))} of {count} ran")
        time.sleep(0.01)
    out.save({"value": 1.0})


@component
def _raise(out: Out[Metrics], *, message: str) -> None:
    out.save({"value": 1.0})
    raise RuntimeError(message)


@component
def _stop_the_run(out: Out[Metrics]) -> None:
    out.save({"value": 2.0})
    raise RunStopped("saved, then stopped")


@component
def _report(out: Out[Metrics], *, steps: int) -> None:
    for step in range(1, steps + 1):
        current_task().progress(step, steps, unit="epoch", loss=1.0 / step)
    out.save({"value": float(steps)})


@component
def _log(out: Out[Metrics], *, message: str) -> None:
    logging.getLogger("shipyard.check").warning("%s from %s", message, current_task().node)
    out.save({"value": 0.0})


@component
def _wait_for_stop(out: Out[Metrics]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        current_task().check_interrupted()
        time.sleep(0.01)
    out.save({"value": 0.0})


def check_engine(engine: Engine) -> None:
    """Check that `engine` carries tasks as data, runs them, and relays what crosses back.

    It checks: outputs published at their URIs with fingerprints and properties; inputs
    read; `max_parallel` tasks running at once; errors in user code as `ComponentFailed`
    naming the exception type, with nothing published; `RunStopped` with its outputs
    published; progress reports, log records and stop requests relayed; the checkpoint
    directory and the engine's name given to the component. It closes the engine.

    Raises:
        AssertionError: The engine breaks the contract; the message says how.

    Example:
        >>> check_engine(ThreadEngine(max_workers=2))
    """
    assert isinstance(engine.name, str) and engine.name, "Engine.name must be a non-empty str"
    assert engine.max_parallel >= 1, "Engine.max_parallel must be >= 1"
    assert isinstance(engine.in_process, bool), "Engine.in_process must be a bool"
    with tempfile.TemporaryDirectory() as tmp:
        tasks = _Tasks(Path(tmp))
        try:
            written = _check_outputs(engine, tasks)
            _check_inputs(engine, tasks, written)
            _check_parallelism(engine, tasks)
            _check_failures(engine, tasks)
            _check_channel(engine, tasks)
        finally:
            engine.close()


class _Tasks:
    """Makes tasks whose outputs are published under one temporary artifact root."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.scratch = root / "scratch"
        self.scratch.mkdir()
        self.count = 0

    def make(
        self,
        fn: Component[Any],
        parameters: Mapping[str, object] | None = None,
        inputs: Mapping[str, ArtifactRef] | None = None,
        checkpoint_dir: Path | None = None,
    ) -> TaskSpec:
        self.count += 1
        node = f"n{self.count}"
        task = TaskSpec(
            node=node,
            component=ComponentRef.of(fn),
            inputs=dict(inputs or {}),
            outputs={"out": ("Metrics", f"{self.root}/artifacts/check/run/{node}/out")},
            parameters=dict(parameters or {}),
            run_id="run",
            artifact_root=str(self.root / "artifacts"),
            scratch_dir=str(self.scratch),
            checkpoint_dir=None if checkpoint_dir is None else str(checkpoint_dir),
        )
        return TaskSpec.from_json(task.to_json())  # as data only: no live component


def _result(
    engine: Engine,
    task: TaskSpec,
    on_progress: Callable[[Progress], None] | None = None,
    stop_requested: Callable[[], bool] | None = None,
    on_log: Callable[[LogEntry], None] | None = None,
) -> TaskResult:
    future = engine.submit(
        task, on_progress=on_progress, stop_requested=stop_requested, on_log=on_log
    )
    result = future.result(timeout=_TIMEOUT_S)
    assert isinstance(result, TaskResult), "the future must hold a TaskResult"
    assert result.node == task.node, "TaskResult.node must name the task's node"
    assert result.duration_s >= 0, "TaskResult.duration_s must be >= 0"
    return result


def _check_outputs(engine: Engine, tasks: _Tasks) -> ArtifactRef:
    checkpoints = tasks.root / "checkpoints"
    checkpoints.mkdir()
    submitted = [
        tasks.make(_write, {"value": float(i)}, checkpoint_dir=checkpoints if i == 0 else None)
        for i in range(max(2, engine.max_parallel))
    ]
    futures = [engine.submit(task) for task in submitted]
    for index, (task, future) in enumerate(zip(submitted, futures, strict=True)):
        result = future.result(timeout=_TIMEOUT_S)
        assert result.ok, f"task {task.node} failed: {result.error}"
        assert set(result.outputs) == {"out"}, "TaskResult.outputs must hold every output port"
        written = result.outputs["out"]
        assert written.uri == task.outputs["out"][1], "outputs must be published at their URI"
        assert Metrics(written.uri).load() == {"value": float(index)}, (
            "the component's output must be published at its URI"
        )
        assert written.fingerprint, "outputs must carry a content fingerprint"
        assert written.properties.get("engine") == engine.name, (
            "TaskContext.engine must be the engine's name; properties must come back"
        )
    assert (checkpoints / "seen").read_text() == submitted[0].node, (
        "the component must get the task's checkpoint_dir"
    )
    assert not list((tasks.scratch / "staging" / "run").glob("*")), (
        "published outputs must leave no staging directory behind"
    )
    return futures[-1].result().outputs["out"]


def _check_inputs(engine: Engine, tasks: _Tasks, written: ArtifactRef) -> None:
    result = _result(engine, tasks.make(_add_one, inputs={"metrics": written}))
    assert result.ok, f"a task reading an input failed: {result.error}"
    value = Metrics(result.outputs["out"].uri).load()["value"]
    assert value == Metrics(written.uri).load()["value"] + 1, "inputs must be read at their URI"


def _check_parallelism(engine: Engine, tasks: _Tasks) -> None:
    """`max_parallel` tasks that wait for each other must all finish: they ran at once."""
    meeting = tasks.root / "meeting"
    meeting.mkdir()
    parameters = {"directory": str(meeting), "count": engine.max_parallel}
    futures = [engine.submit(tasks.make(_meet, parameters)) for _ in range(engine.max_parallel)]
    for future in futures:
        result = future.result(timeout=_TIMEOUT_S)
        assert result.ok, (
            f"tasks did not run {engine.max_parallel} at once as max_parallel says: {result.error}"
        )


def _check_failures(engine: Engine, tasks: _Tasks) -> None:
    task = tasks.make(_raise, {"message": "expected"})
    result = _result(engine, task)
    assert not result.ok, "an exception in user code must come back as TaskResult.error"
    assert isinstance(result.error, ComponentFailed), "errors in user code are ComponentFailed"
    assert result.error.exception_type == "RuntimeError", "exception_type must name the type"
    assert "expected" in result.error.user_traceback, "the user's traceback must come back"
    assert not result.outputs and not Path(task.outputs["out"][1]).exists(), (
        "a failed task must publish nothing"
    )
    task = tasks.make(_stop_the_run)
    result = _result(engine, task)
    assert result.stopped and isinstance(result.error, ComponentFailed), (
        "a component raising RunStopped comes back stopped, with the error"
    )
    assert Metrics(result.outputs["out"].uri).load() == {"value": 2.0}, (
        "the outputs of a component that raised RunStopped must be published"
    )


def _check_channel(engine: Engine, tasks: _Tasks) -> None:
    reports: list[Progress] = []
    result = _result(engine, tasks.make(_report, {"steps": 3}), on_progress=reports.append)
    assert result.ok, f"a task reporting progress failed: {result.error}"
    expected = [(step, 3, "epoch") for step in (1, 2, 3)]
    assert [(p.done, p.total, p.unit) for p in reports] == expected, (
        f"progress reports must reach on_progress in order, got {reports}"
    )
    assert reports[-1].values == {"loss": 1.0 / 3}, "progress values must come back"
    entries: list[LogEntry] = []
    task = tasks.make(_log, {"message": "hello"})
    result = _result(engine, task, on_log=entries.append)
    assert result.ok, f"a task logging a warning failed: {result.error}"
    assert [(e.level, e.logger, e.message) for e in entries] == [
        ("WARNING", "shipyard.check", f"hello from {task.node}")
    ], f"the component's log records must reach on_log, got {entries}"
    stop = threading.Event()
    timer = threading.Timer(0.3, stop.set)
    timer.start()
    started = time.monotonic()
    result = _result(engine, tasks.make(_wait_for_stop), stop_requested=stop.is_set)
    timer.cancel()
    assert result.interrupted and not result.ok, (
        "a task that stopped on the run's request must come back interrupted"
    )
    assert time.monotonic() - started < 10, "a stop request must reach the task within seconds"
