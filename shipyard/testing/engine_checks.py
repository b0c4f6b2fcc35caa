"""`check_engine`: the conformance suite every `Engine` backend must pass."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

from shipyard.artifacts import Metrics
from shipyard.dsl import Out, component
from shipyard.engines import Engine, TaskSpec
from shipyard.errors import ComponentFailed

_BARRIER: dict[str, threading.Barrier] = {}


@component
def _write(out: Out[Metrics], *, value: float) -> None:
    out.save({"value": value})


@component
def _meet(out: Out[Metrics], *, barrier: str) -> None:
    _BARRIER[barrier].wait(timeout=30)


@component
def _raise(out: Out[Metrics], *, message: str) -> None:
    raise RuntimeError(message)


def check_engine(engine: Engine) -> None:
    """Check that `engine` runs tasks, reports user errors, and honours `max_parallel`.

    Raises:
        AssertionError: The engine breaks the contract; the message says how.

    Example:
        >>> check_engine(LocalEngine(max_workers=2))
    """
    assert isinstance(engine.name, str) and engine.name, "Engine.name must be a non-empty str"
    assert engine.max_parallel >= 1, "Engine.max_parallel must be >= 1"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        futures = []
        for index in range(max(2, engine.max_parallel)):
            staging = root / f"out{index}"
            staging.mkdir()
            output = Metrics(staging, uri=str(staging))
            task = TaskSpec(f"n{index}", _write, {}, {"out": output}, {"value": float(index)})
            futures.append((index, engine.submit(task)))
        for index, future in futures:
            result = future.result(timeout=60)
            assert result.ok, f"task n{index} failed: {result.error}"
            assert result.node == f"n{index}", "TaskResult.node must name the task's node"
            written = result.outputs["out"]
            assert Metrics(written.path).load() == {"value": float(index)}, (
                "the component's output must be readable at TaskResult.outputs[port].path"
            )
            assert written.fingerprint, "outputs must carry a content fingerprint"
            assert result.duration_s >= 0
        _check_parallelism(engine, root)
        staging = root / "failing"
        staging.mkdir()
        task = TaskSpec("bad", _raise, {}, {"out": Metrics(staging)}, {"message": "expected"})
        result = engine.submit(task).result(timeout=60)
        assert not result.ok, "an exception in user code must come back as TaskResult.error"
        assert isinstance(result.error, ComponentFailed), "errors must be ComponentFailed"
        assert isinstance(result.error.__cause__, RuntimeError), "__cause__ must be the user's"
        assert "expected" in result.error.user_traceback
    engine.close()


def _check_parallelism(engine: Engine, root: Path) -> None:
    """`max_parallel` tasks that wait for each other must all finish: they ran at once."""
    key = f"check-{id(engine)}"
    _BARRIER[key] = threading.Barrier(engine.max_parallel)
    futures = []
    for index in range(engine.max_parallel):
        staging = root / f"meet{index}"
        staging.mkdir()
        task = TaskSpec(f"m{index}", _meet, {}, {"out": Metrics(staging)}, {"barrier": key})
        futures.append(engine.submit(task))
    for future in futures:
        result = future.result(timeout=60)
        assert result.ok, (
            f"tasks did not run {engine.max_parallel} at once as max_parallel says: {result.error}"
        )
    del _BARRIER[key]
