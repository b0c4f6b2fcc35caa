"""`shipyard schedule` and `shipyard trigger` as a user runs them, in subprocesses."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import pytest

from tests.cli.command import shipyard
from tests.environment import child_environment
from tests.scheduling.conftest import write_triggers

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.slow

ONCE = """
triggers:
  good:
    file: pipeline.py
    pipeline: blobs
    new_data: {files: "in/*.csv", include_existing: true}
  crash:
    file: pipeline.py
    pipeline: crashing
    new_data: {files: "in/*.csv", include_existing: true}
"""

SLOW = """
triggers:
  slow:
    file: pipeline.py
    pipeline: sleeping
    new_data: {files: "in/*.csv", include_existing: true}
"""

BY_HAND = """
triggers:
  by-hand:
    file: pipeline.py
    pipeline: blobs
    manual: true
"""


def test_once_runs_what_fires_survives_a_crashing_pipeline_and_runs_show_the_trigger(
    project: Path,
) -> None:
    write_triggers(project, ONCE)
    (project / "in").mkdir()
    (project / "in" / "a.csv").write_text("a\n1\n")
    first = shipyard(project, "schedule", "triggers.yaml", "--once", "--json")
    assert first.returncode == 1, first.stderr  # one run did not complete
    fired = {f["trigger"]: f for f in json.loads(first.stdout)}
    good, crash = fired["good"], fired["crash"]
    assert (good["state"], good["kind"]) == ("complete", "new_data")
    assert good["reason"] == f"1 new file matching {project}/in/*.csv: {project}/in/a.csv"
    assert crash["state"] == "failed"
    assert crash["error"] == "its process exited with code 3 before recording the run's end"
    assert "Trigger 'crash', firing" in first.stderr

    runs = json.loads(shipyard(project, "runs", "--json").stdout)
    by_pipeline = {run["pipeline"]: run for run in runs}
    assert by_pipeline["blobs"]["id"] == good["run_id"]
    assert by_pipeline["blobs"]["trigger"] == {
        "name": "good", "kind": "new_data", "reason": good["reason"], "firing": good["id"],
    }  # fmt: skip
    assert by_pipeline["crashing"]["state"] == "abandoned"
    table = shipyard(project, "runs").stdout
    assert "by good" in table and "by crash" in table
    shown = shipyard(project, "runs", "show", good["run_id"]).stdout
    assert f"Started by trigger 'good' (new_data): {good['reason']}" in shown

    again = shipyard(project, "schedule", "triggers.yaml", "--once", "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == []  # nothing new: nothing fires twice


def test_trigger_goes_through_the_running_scheduler_which_stops_cleanly_on_sigterm(
    project: Path,
) -> None:
    write_triggers(project, BY_HAND)
    log = project / "schedule.log"
    with log.open("w") as output:
        scheduler = subprocess.Popen(
            [sys.executable, "-m", "shipyard", "schedule", "triggers.yaml"],
            cwd=project,
            env=child_environment(),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_for(log, "Holding trigger 'by-hand'", scheduler)
            asked = shipyard(project, "trigger", "by-hand", "--json")
            assert asked.returncode == 0, asked.stderr
            assert "fired through the running scheduler (pid " in asked.stderr
            firing = json.loads(asked.stdout)
            assert firing["kind"] == "manual" and firing["run_id"] is not None
            _wait_for(log, f"firing {firing['id']}: run {firing['run_id']} complete", scheduler)
            status = shipyard(project, "schedule", "triggers.yaml", "--status", "--json")
            [entry] = json.loads(status.stdout)
            assert entry["held_by"] == f"pid {scheduler.pid} on {socket.gethostname()}"
            assert entry["last_firing"]["run_id"] == firing["run_id"]
        finally:
            scheduler.send_signal(signal.SIGTERM)
            code = scheduler.wait(timeout=60)
    assert code == 0, log.read_text()
    assert "SIGTERM: stopping the runs" in log.read_text()
    # no scheduler holds it now: the command runs it itself
    direct = shipyard(project, "trigger", "by-hand")
    assert direct.returncode == 0, direct.stderr
    assert "Trigger 'by-hand': firing 2 (complete), run " in direct.stderr


def test_a_scheduler_killed_with_its_run_resumes_the_firing_once(project: Path) -> None:
    write_triggers(project, SLOW)
    (project / "in").mkdir()
    (project / "in" / "a.csv").write_text("a\n1\n")
    (project / "block").write_text("")
    log = project / "schedule.log"
    with log.open("w") as output:
        scheduler = subprocess.Popen(
            [sys.executable, "-m", "shipyard", "schedule", "triggers.yaml"],
            cwd=project,
            env=child_environment(),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            for _ in range(600):
                if (project / "started").exists() and (project / "started").read_text():
                    break
                assert scheduler.poll() is None, log.read_text()
                time.sleep(0.1)
            run_pid = int((project / "started").read_text())
        finally:
            scheduler.kill()  # SIGKILL: nothing is recorded, nothing let go
            scheduler.wait(timeout=30)
    os.killpg(run_pid, signal.SIGKILL)  # the run's process (its session) dies too
    (project / "block").unlink()
    resumed = shipyard(project, "schedule", "triggers.yaml", "--once", "--json")
    assert resumed.returncode == 0, resumed.stderr
    [again] = json.loads(resumed.stdout)  # the first firing, run again: not a second one
    assert (again["id"], again["state"], again["attempts"]) == (1, "complete", 1)
    assert "Resuming firing 1 of trigger 'slow'" in resumed.stderr
    runs = json.loads(shipyard(project, "runs", "--json", "--pipeline", "sleeping").stdout)
    assert [run["state"] for run in runs] == ["complete", "abandoned"]
    assert runs[0]["id"] == again["run_id"]


def _wait_for(log: Path, text: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if text in log.read_text():
            return
        assert process.poll() is None, log.read_text()
        time.sleep(0.1)
    raise AssertionError(f"never logged {text!r}:\n{log.read_text()}")
