"""A first Ctrl-C inside a run (a real SIGINT to this process), on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import TYPE_CHECKING

import pytest

import shipyard
from shipyard import Out, Pipeline, component
from shipyard.artifacts import Metrics
from shipyard.dsl.context import current_task
from shipyard.runners import Project
from tests.runners.components import double, source

if TYPE_CHECKING:
    from pathlib import Path

RELEASE = threading.Event()


@component
def patient(inp: Metrics, out: Out[Metrics]) -> None:
    """Presses Ctrl-C itself, then works in steps, checking for the stop between them."""
    os.kill(os.getpid(), signal.SIGINT)
    for _ in range(600):
        current_task().check_interrupted()
        time.sleep(0.05)
    out.save({"v": inp.load()["v"]})


@component
def stubborn(inp: Metrics, out: Out[Metrics]) -> None:
    """Presses Ctrl-C itself, then never looks at the stop flag."""
    os.kill(os.getpid(), signal.SIGINT)
    RELEASE.wait(timeout=60)
    out.save({"v": inp.load()["v"]})


def run(store_url: str, node: object) -> tuple[float, BaseException | None]:
    pipeline = Pipeline("stop", nodes=[double(inp=node.outputs.out)])  # type: ignore[attr-defined]
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt) as raised:
        shipyard.run(pipeline, store=store_url, progress=False)
    return time.monotonic() - started, raised.value


def executions(store_url: str) -> dict[str, tuple[str, str]]:
    with Project.open(store=store_url) as project:
        [record] = project.store.list_runs()
        assert record.state == "interrupted"
        return {e.node: (e.state, e.error or "") for e in project.store.list_executions(record.id)}


def test_a_first_ctrl_c_stops_the_running_node_and_starts_no_other(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    handler = signal.getsignal(signal.SIGINT)  # SIG_IGN when the suite runs in the background
    seconds, error = run(store_url, patient(inp=source().outputs.out))
    assert seconds < 5
    assert "interrupted by Ctrl-C (SIGINT)" in str(error)
    recorded = executions(store_url)
    assert set(recorded) == {"source", "patient"}  # `double` never started
    assert recorded["source"][0] == "complete"
    state, reason = recorded["patient"]
    assert state == "interrupted"
    assert reason.startswith("interrupted by Ctrl-C (SIGINT) after")
    assert "(it stopped)" in reason
    assert signal.getsignal(signal.SIGINT) is handler  # the handler is restored


def test_a_node_ignoring_the_stop_is_left_behind_after_the_grace_period(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("shipyard.runners.execution.STOP_GRACE_S", 0.5)
    RELEASE.clear()
    try:
        seconds, _ = run(store_url, stubborn(inp=source().outputs.out))
    finally:
        RELEASE.set()  # let the abandoned thread end
    assert seconds < 5
    state, reason = executions(store_url)["stubborn"]
    assert state == "interrupted"
    assert "still running 0.5 s later and was left behind" in reason


PRESSED: list[bool] = []


@component
def once(inp: Metrics, out: Out[Metrics]) -> None:
    """Presses Ctrl-C the first time it runs and stops; completes every later time."""
    if not PRESSED:
        PRESSED.append(True)
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(600):
            current_task().check_interrupted()
            time.sleep(0.05)
    out.save({"v": inp.load()["v"] + 1})


def test_running_again_executes_the_interrupted_node_and_reuses_the_rest(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    PRESSED.clear()
    pipeline = Pipeline("stop", nodes=[once(inp=source().outputs.out)])
    with pytest.raises(KeyboardInterrupt):
        shipyard.run(pipeline, store=store_url, progress=False)
    resumed = shipyard.run(pipeline, store=store_url, progress=False)
    assert resumed.state == "complete"
    with Project.open(store=store_url) as project:
        store = project.store
        second, first = store.list_runs()
        assert (first.state, second.state) == ("interrupted", "complete")
        before = {e.node: e for e in store.list_executions(first.id)}
        after = {e.node: e for e in store.list_executions(second.id)}
    assert before["once"].state == "interrupted"
    assert after["source"].state == "cached"
    assert after["source"].cached_from == before["source"].id
    assert after["once"].state == "complete"  # executed again, not reused
    assert after["once"].cache_key == before["once"].cache_key
