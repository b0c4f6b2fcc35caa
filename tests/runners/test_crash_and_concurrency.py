"""Real processes: a kill -9 in the middle of a node, and two pipelines sharing one store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from shipyard.runners import Project
from tests.environment import child_environment

PIPELINE = """
import os, signal, time
from shipyard import Out, Pipeline, component
from shipyard.artifacts import Metrics

@component
def source(out: Out[Metrics], *, value: float = 1.0) -> None:
    out.save({"v": value})

@component
def slow(inp: Metrics, out: Out[Metrics], *, seconds: float = 0.0) -> None:
    (out.path / "partial.json").write_text("{")
    if os.environ.get("CRASH_NOW"):
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(seconds)
    out.save({"v": inp.load()["v"] + 1})

def build(name: str = "crashy", seconds: float = 0.0) -> Pipeline:
    return Pipeline(name, nodes=[slow(inp=source().outputs.out, seconds=seconds)])
"""

pytestmark = pytest.mark.slow


def shipyard_run(cwd: Path, *args: str, crash: bool = False) -> subprocess.Popen[str]:
    env = child_environment()
    if crash:
        env["CRASH_NOW"] = "1"
    return subprocess.Popen(
        [sys.executable, "-m", "shipyard", "run", "pipeline.py", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_kill_9_mid_node_registers_nothing_and_next_run_resumes(tmp_path: Path) -> None:
    (tmp_path / "pipeline.py").write_text(PIPELINE)
    crashed = shipyard_run(tmp_path, crash=True)
    crashed.communicate(timeout=120)
    assert crashed.returncode == -9
    with Project.open(cwd=tmp_path) as project:
        [run] = project.store.list_runs()
        assert run.state == "running"
        produced = {a.name.split("/")[2] for a in project.store.list_artifacts()}
        assert produced == {"source"}  # nothing of the killed node is registered
    assert not (tmp_path / ".shipyard" / "artifacts" / "crashy" / run.id / "slow").exists()

    resumed = shipyard_run(tmp_path, "--json")
    out, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err
    assert '"state": "cached"' in out and '"state": "complete"' in out
    with Project.open(cwd=tmp_path) as project:
        states = {r.id: r.state for r in project.store.list_runs()}
        assert states[run.id] == "abandoned"
        assert sorted(states.values()) == ["abandoned", "complete"]
        [execution] = [e for e in project.store.list_executions(run.id) if e.node == "slow"]
        assert execution.state == "abandoned"
    assert not (tmp_path / ".shipyard" / "staging" / run.id).exists()


def test_two_pipelines_at_once_share_one_store(tmp_path: Path) -> None:
    (tmp_path / "pipeline.py").write_text(PIPELINE)
    runs = [
        shipyard_run(tmp_path, "-p", f"name=p{i}", "-p", "seconds=0.5", "--no-cache")
        for i in range(3)
    ]
    for process in runs:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    with Project.open(cwd=tmp_path) as project:
        recorded = project.store.list_runs()
        assert sorted(r.pipeline for r in recorded) == ["p0", "p1", "p2"]
        assert {r.state for r in recorded} == {"complete"}
        assert len(project.store.list_artifacts(state="live")) == 6
