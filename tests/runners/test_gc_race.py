"""`shipyard gc` racing runs, in real processes: no run ever ends pointing at a deleted artifact.

The race is made to happen at every run, not left to luck. The runner process alternates two
parameter values, so each run finds the outputs of the run before the last in the cache (their
records live, their files there);
`gc --keep-runs 1` may delete those from the moment the last run finished. Right after each
cache hit, the runner has the gc process (which runs nothing until told) do a full pass, and
waits for it: gc deletes the artifacts the run has just found and not yet recorded a use of.
The run must then recompute them, never record the deleted ones. After each run the runner
checks that the run it just finished (the newest finished run, which gc must keep) holds
only live artifacts whose files exist and hold the right values.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.environment import child_environment

RUNS = 30

RUNNER = """
import json, sys, time
from pathlib import Path
import shipyard
from shipyard import Out, Pipeline, component
from shipyard.artifacts import Metrics
from shipyard.runners import Project, execution
from shipyard.errors import ArtifactDeletedError
from shipyard.store.sql import SqlStore

url, runs, signals = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
reusable = execution.RunExecution._reusable
passes = 0

def reusable_then_collect(self, node, records):
    # check a cache hit's files, then let gc run a whole pass before the run records it
    global passes
    hit = reusable(self, node, records)
    if hit:
        passes += 1
        (signals / f"go-{passes}").touch()
        deadline = time.monotonic() + 60
        while not (signals / f"done-{passes}").exists():
            assert time.monotonic() < deadline, "gc did not answer"
            time.sleep(0.005)
    return hit

execution.RunExecution._reusable = reusable_then_collect
recorded = SqlStore.record_execution
refused = 0

def counted_record_execution(self, *args, **kwargs):
    global refused
    try:
        return recorded(self, *args, **kwargs)
    except ArtifactDeletedError:
        refused += 1
        raise

SqlStore.record_execution = counted_record_execution

@component
def source(out: Out[Metrics], *, value: float) -> None:
    out.save({"v": value})

@component
def double(inp: Metrics, out: Out[Metrics]) -> None:
    out.save({"v": inp.load()["v"] * 2})

problems, hits = [], 0
for index in range(runs):
    value = float(index % 2)
    pipeline = Pipeline("race", nodes=[double(inp=source(value=value).outputs.out)])
    result = shipyard.run(pipeline, store=url, progress=False)
    hits += sum(node.state == "cached" for node in result.nodes.values())
    if not result.ok:
        problems.append(f"run {index} {result.state}: {[str(n.error) for n in result.failed]}")
        continue
    with Project.open(store=url) as project:
        for name, node in result.nodes.items():
            out = node.outputs["out"]
            record = project.store.get_artifact(out.id)
            if record.state != "live" or not Path(record.uri).is_dir():
                problems.append(f"run {index} {name}: #{out.id} {record.state}")
            elif json.loads((Path(record.uri) / "metrics.json").read_text())["v"] < value:
                problems.append(f"run {index} {name}: wrong value")
print(json.dumps({"problems": problems, "hits": hits, "refused": refused, "races": passes}))
"""

GC = """
import json, sys, time
from pathlib import Path
from shipyard.runners import Project
from shipyard.runners.gc import collect_garbage

url, signals = sys.argv[1], Path(sys.argv[2])
passes = deleted = 0
while not (signals / "stop").exists():
    if not (signals / f"go-{passes + 1}").exists():
        time.sleep(0.005)
        continue
    with Project.open(store=url) as project:
        deleted += len(collect_garbage(project, keep_runs=1)["deleted_artifacts"])
    passes += 1
    (signals / f"done-{passes}").touch()
print(json.dumps({"passes": passes, "deleted": deleted}))
"""

pytestmark = pytest.mark.slow


def _start(script: str, cwd: Path, *args: str) -> subprocess.Popen[str]:
    env = child_environment(checkout_first=True)
    return subprocess.Popen(
        [sys.executable, "-W", "error", "-c", script, *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_gc_racing_runs_never_leaves_a_run_on_deleted_artifacts(
    tmp_path: Path, store_url: str
) -> None:
    signals = tmp_path / "signals"
    signals.mkdir()
    runner = _start(RUNNER, tmp_path, store_url, str(RUNS), str(signals))
    collector = _start(GC, tmp_path, store_url, str(signals))
    try:
        out, err = runner.communicate(timeout=600)
    finally:
        (signals / "stop").touch()
        gc_out, gc_err = collector.communicate(timeout=120)
    assert runner.returncode == 0, err
    assert collector.returncode == 0, gc_err
    report, collected = json.loads(out), json.loads(gc_out)
    assert report["problems"] == []
    # the race was real: every run from the third on found artifacts that gc then deleted
    assert report["races"] == collected["passes"] >= RUNS - 2, (report, collected)
    assert report["refused"] >= RUNS - 2, report
    assert collected["deleted"] >= 2 * (RUNS - 2), collected
