"""Pipelines on the processes engine: the same results as threads, and what only it can do."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shipyard import Out, Pipeline, component
from shipyard.artifacts import Metrics
from shipyard.errors import ComponentFailed, DefinitionError, PlatformError
from shipyard.runners.node_logs import run_logs
from tests.conftest import Workspace
from tests.environment import child_environment
from tests.runners.components import add, double, fail, gate, source


def diamond() -> Pipeline:
    start = source(value=3.0)
    left = double(inp=start.outputs.out).with_options(name="left")
    right = double(inp=start.outputs.out).with_options(name="right")
    return Pipeline("diamond", nodes=[add(left=left.outputs.out, right=right.outputs.out)])


def test_processes_give_the_same_outputs_as_threads(workspace: Workspace) -> None:
    on_processes = workspace.run(diamond(), engine="processes")
    assert on_processes.ok, on_processes.failed
    assert on_processes["add"].outputs["out"].load() == {"v": 12.0}
    on_threads = workspace.run(diamond(), engine="threads", cache=False)
    for name, node in on_threads.nodes.items():
        assert node.outputs["out"].fingerprint == on_processes[name].outputs["out"].fingerprint
    cached = workspace.run(diamond(), engine="processes")
    assert {node.state for node in cached.nodes.values()} == {"cached"}


def test_errors_and_stopped_runs_cross_back(workspace: Workspace) -> None:
    failed = workspace.run(
        Pipeline("fails", nodes=[fail(inp=source().outputs.out, message="bad value")]),
        engine="processes",
    )
    error = failed["fail"].error
    assert isinstance(error, ComponentFailed) and error.exception_type == "ValueError"
    assert (
        "bad value" in error.user_traceback and "raise ValueError(message)" in error.user_traceback
    )
    stopped = workspace.run(
        Pipeline("gated", nodes=[gate(inp=source(value=5.0).outputs.out, limit=1.0)]),
        engine="processes",
    )
    assert stopped["gate"].state == "failed"
    assert stopped["gate"].outputs["out"].load() == {"v": 5.0, "over": 1.0}


def test_a_component_defined_in_a_function_is_refused_before_the_run(
    workspace: Workspace,
) -> None:
    @component
    def local(out: Out[Metrics]) -> None:
        out.save({"v": 1.0})

    with pytest.raises(DefinitionError, match=r"node 'local'.*inside a function.*--engine threads"):
        workspace.run(Pipeline("local", nodes=[local()]), engine="processes")
    with workspace.project() as project:
        assert project.store.list_runs() == []  # nothing started


@component
def kill_myself(out: Out[Metrics]) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_worker_killed_mid_node_fails_the_node_naming_the_signal(workspace: Workspace) -> None:
    result = workspace.run(Pipeline("killed", nodes=[kill_myself()]), engine="processes")
    error = result["kill_myself"].error
    assert isinstance(error, PlatformError)
    assert "node 'kill_myself'" in str(error) and "killed by signal 9" in str(error)
    again = workspace.run(diamond(), engine="processes")  # the engine is fresh: it works
    assert again.ok


STUBBORN = """
import os, time
from shipyard import Out, Pipeline, component
from shipyard.artifacts import Metrics

@component
def stubborn(out: Out[Metrics]) -> None:
    open('worker.pid', 'w').write(str(os.getpid()))
    time.sleep(120)  # never looks at the stop flag
    out.save({'v': 1.0})

def build() -> Pipeline:
    return Pipeline('stubborn', nodes=[stubborn()])
"""

NOTEBOOK = """
import json, os, sys
import shipyard
try:
    shipyard.run('pipeline.py', engine='processes', progress=False)
except KeyboardInterrupt:
    pid = int(open('worker.pid').read())
    try:
        os.kill(pid, 0)
        alive = True
    except ProcessLookupError:
        alive = False
    print(json.dumps({'worker_alive': alive}))
"""


@pytest.mark.slow
def test_ctrl_c_twice_kills_the_worker_at_once(tmp_path: Path) -> None:
    """What threads cannot do: the node stops, in a process that lives on (a notebook)."""
    (tmp_path / "pipeline.py").write_text(STUBBORN)
    (tmp_path / "notebook.py").write_text(NOTEBOOK)
    running = subprocess.Popen(
        [sys.executable, "notebook.py"],
        cwd=tmp_path,
        env=child_environment(checkout_first=True),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not (tmp_path / "worker.pid").exists():
        assert time.monotonic() < deadline and running.poll() is None, running.communicate()
        time.sleep(0.05)
    time.sleep(0.2)
    running.send_signal(signal.SIGINT)
    time.sleep(0.5)
    running.send_signal(signal.SIGINT)
    second_at = time.monotonic()
    out, err = running.communicate(timeout=60)
    assert time.monotonic() - second_at < 5, err
    assert json.loads(out.strip().splitlines()[-1]) == {"worker_alive": False}, err


@component
def warn(out: Out[Metrics], *, message: str) -> None:
    import logging

    logging.getLogger("user.code").warning(message)
    out.save({"v": 1.0})


@pytest.mark.parametrize("engine", ["threads", "processes"])
def test_log_records_reach_the_hooks_named_by_node(workspace: Workspace, engine: str) -> None:
    class Logs:
        def __init__(self) -> None:
            self.seen: list[tuple[str, str, str]] = []

        def on_node_log(self, *, node: object, entry: object, **future: object) -> None:
            self.seen.append((node.name, entry.level, entry.message))  # type: ignore[attr-defined]

    logs = Logs()
    pipeline = Pipeline("logs", nodes=[warn(message="careful").with_options(name="w")])
    result = workspace.run(pipeline, engine=engine, hooks=[logs])
    assert result.ok
    assert logs.seen == [("w", "WARNING", "careful")]
    with workspace.project() as project:  # and kept, whatever the engine
        kept = run_logs(project, result.id, "w")["nodes"]["w"]["entries"]
    assert [(e["logger"], e["level"], e["message"]) for e in kept] == [
        ("user.code", "WARNING", "careful")
    ]


def test_without_a_log_hook_warnings_go_to_stderr_named_by_node(
    workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    pipeline = Pipeline("logs", nodes=[warn(message="look here").with_options(name="w")])
    assert workspace.run(pipeline, engine="processes").ok
    assert "w: look here" in capsys.readouterr().err
