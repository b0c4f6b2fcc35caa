"""Runs with the same cache key at once, as real `shipyard run` processes on one store.

Identical runs started together execute each node once: one run claims each cache key and
executes it, the others wait and reuse its outputs, so training never resumes from the
checkpoint of a live run and a blessed model is pushed as one version, not one per run.
A holder whose process dies is noticed by its waiters, which take over.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from shipyard import Out, Pipeline, component
from shipyard.artifacts import Metrics
from shipyard.dsl.context import current_task
from shipyard.store import open_store
from tests.conftest import Workspace
from tests.environment import child_environment

pytestmark = pytest.mark.slow

PENGUINS = Path(__file__).resolve().parents[2] / "examples" / "penguins" / "data" / "penguins.csv"
RUNS = 8

TRAINING = """
from shipyard import Pipeline
from shipyard.pipelines import tabular_pipeline


def race() -> Pipeline:
    return tabular_pipeline(
        "race",
        "penguins.csv",
        label="species",
        ingest_options={"splits": {"train": 8, "eval": 2}},
        train_options={"hidden_units": (16, 8), "epochs": 40, "batch_size": 8},
        thresholds={"accuracy": {"min": 0.5}},
    )
"""

SLOW = """
import os, time
from shipyard import Out, Pipeline, component
from shipyard.artifacts import Metrics

@component
def slow(out: Out[Metrics]) -> None:
    seconds = float(os.environ["SLEEP_S"])  # not a parameter: both runs have one cache key
    time.sleep(seconds)
    out.save({"slept": seconds})

def build() -> Pipeline:
    return Pipeline("sleepy", nodes=[slow()])
"""


def shipyard_run(cwd: Path, store: str, *, sleep_s: float = 0.0) -> subprocess.Popen[str]:
    env = child_environment(checkout_first=True)
    env["SLEEP_S"] = str(sleep_s)
    return subprocess.Popen(
        [sys.executable, "-m", "shipyard", "run", "pipeline.py", "--store", store],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_identical_runs_at_once_execute_each_node_once_and_push_one_version(
    tmp_path: Path, store_url: str
) -> None:
    (tmp_path / "pipeline.py").write_text(TRAINING)
    shutil.copy(PENGUINS, tmp_path / "penguins.csv")
    processes = [shipyard_run(tmp_path, store_url) for _ in range(RUNS)]
    for process in processes:
        _, err = process.communicate(timeout=600)
        assert process.returncode == 0, err

    store = open_store(store_url)
    try:
        runs = store.list_runs(pipeline="race")
        assert [run.state for run in runs] == ["complete"] * RUNS
        executions = [e for run in runs for e in store.list_executions(run.id)]
    finally:
        store.close()
    by_node: dict[str, Counter[str]] = {}
    for execution in executions:
        by_node.setdefault(execution.node, Counter())[execution.state] += 1
    assert "train" in by_node and "push" in by_node
    for node, states in by_node.items():
        assert states == {"complete": 1, "cached": RUNS - 1}, node
    [trained] = [e for e in executions if e.node == "train" and e.state == "complete"]
    reused = {e.cached_from for e in executions if e.node == "train" and e.state == "cached"}
    assert reused == {trained.id}
    assert sorted(p.name for p in (tmp_path / "models" / "race").iterdir()) == ["1"]
    checkpoints = tmp_path / ".shipyard" / "checkpoints"
    assert not checkpoints.exists() or not any(checkpoints.iterdir())


def _wait_for(condition: object, what: str, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_a_waiter_takes_over_from_a_holder_killed_mid_node(tmp_path: Path) -> None:
    (tmp_path / "pipeline.py").write_text(SLOW)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    holder = shipyard_run(tmp_path, url, sleep_s=600)
    waiter = None
    store = open_store(url)
    try:

        def running(run_index: int) -> bool:
            runs = store.list_runs(pipeline="sleepy")
            if len(runs) <= run_index:
                return False
            executions = store.list_executions(runs[-1 - run_index].id)
            return any(e.state == "running" for e in executions)

        _wait_for(lambda: running(0), "the first run to start its node")
        waiter = shipyard_run(tmp_path, url, sleep_s=0.5)
        _wait_for(lambda: len(store.list_runs(pipeline="sleepy")) == 2, "the second run")
        time.sleep(3.0)  # the second run polls its holder meanwhile
        [first, second] = sorted(store.list_runs(pipeline="sleepy"), key=lambda r: r.started_at)
        assert store.list_executions(second.id) == []  # it waits rather than executes
        os.kill(holder.pid, signal.SIGKILL)
        holder.communicate(timeout=60)
        _, err = waiter.communicate(timeout=120)
        assert waiter.returncode == 0, err
        assert store.get_run(first.id).state == "abandoned"
        [taken_over] = store.list_executions(second.id)
        assert (taken_over.node, taken_over.state) == ("slow", "complete")
    finally:
        store.close()
        for process in (holder, waiter):
            if process is not None and process.poll() is None:
                process.kill()
            if process is not None:
                process.communicate(timeout=60)


@component
def report_checkpoint(out: Out[Metrics], *, value: int = 1) -> None:
    directory = current_task().checkpoint_dir
    out.save({"value": value})
    (out.path / "checkpoint_dir.txt").write_text("" if directory is None else str(directory))


def test_identical_nodes_of_one_run_never_share_a_checkpoint_directory(
    workspace: Workspace,
) -> None:
    first = report_checkpoint().with_options(name="first")
    second = report_checkpoint().with_options(name="second")
    result = workspace.run(Pipeline("twins", nodes=[first, second]), max_workers=2)
    assert result.ok, [n.error for n in result.failed]
    assert {result[name].state for name in ("first", "second")} == {"complete"}
    directories = [
        (result[name].outputs["out"].path / "checkpoint_dir.txt").read_text()
        for name in ("first", "second")
    ]
    assert sorted(directories)[0] == ""  # one of them runs without a checkpoint directory
    assert sorted(directories)[1].startswith(str(workspace.root / ".shipyard"))
