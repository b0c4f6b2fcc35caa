"""Real processes, real signals: Ctrl-C during a long training, and kill -9 seen by `runs`."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from safetensors import safe_open

from shipyard.artifacts import Model
from shipyard.components.train import checkpoint
from shipyard.runners import Project
from shipyard.runners.execution import artifact_from_record
from tests.environment import child_environment

pytestmark = pytest.mark.slow

PENGUINS = Path(__file__).resolve().parents[2] / "examples" / "penguins" / "data" / "penguins.csv"
EPOCHS = 400  # in batches of 16 rows: 15-25 s of training on an idle 2-core machine

PIPELINE = f"""
from shipyard import Pipeline
from shipyard.components import compute_statistics, infer_schema, ingest, train, transform

def build(epochs: int = {EPOCHS}) -> Pipeline:
    raw = ingest(source={str(PENGUINS)!r}, splits={{"train": 8, "eval": 2}})
    stats = compute_statistics(examples=raw.outputs.examples)
    schema = infer_schema(statistics=stats.outputs.statistics, label="species")
    prepared = transform(examples=raw.outputs.examples, schema=schema.outputs.schema)
    trained = train(
        transformed=prepared.outputs.transformed,
        transform_graph=prepared.outputs.transform_graph,
        schema=schema.outputs.schema,
        epochs=epochs,
        batch_size=16,
        early_stopping_patience=None,
    )
    return Pipeline("long", nodes=[trained])
"""


def shipyard(cwd: Path, *args: str) -> subprocess.Popen[str]:
    env = child_environment()
    env["COLUMNS"] = "200"  # tables whole
    return subprocess.Popen(
        [sys.executable, "-m", "shipyard", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_checkpoint(cwd: Path, process: subprocess.Popen[str], timeout_s: float) -> Path:
    """Wait until the training saved its first checkpoint (it is then in its epochs)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = list((cwd / ".shipyard").rglob(checkpoint.FILENAME))
        if found:
            return found[0]
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    process.kill()
    raise AssertionError(f"no training checkpoint after {timeout_s} s: {process.communicate()}")


def saved_progress(file: Path) -> dict[str, int]:
    with safe_open(file, framework="pt") as opened:
        state = json.loads((opened.metadata() or {})["shipyard.state"])
    return {key: int(state[key]) for key in ("next_epoch", "epoch_step", "steps")}


def test_ctrl_c_stops_training_within_seconds_and_the_resume_loses_nothing(
    tmp_path: Path,
) -> None:
    (tmp_path / "pipeline.py").write_text(PIPELINE)
    running = shipyard(tmp_path, "run", "pipeline.py")
    saved = wait_for_checkpoint(tmp_path, running, timeout_s=240)
    time.sleep(1.0)  # well inside the epochs
    running.send_signal(signal.SIGINT)
    interrupted_at = time.monotonic()
    _, err = running.communicate(timeout=60)
    stopped_after_s = time.monotonic() - interrupted_at
    assert running.returncode == 130, err
    assert stopped_after_s < 5, f"took {stopped_after_s:.1f} s to stop"
    assert "Interrupted by Ctrl-C (SIGINT)" in err
    assert "Interrupted: train stopped." in err
    assert "Resume with: shipyard run pipeline.py" in err
    assert err.rstrip().endswith("Interrupted.")
    assert "Traceback" not in err and "Aborted" not in err

    progress = saved_progress(saved)
    assert 1 < progress["next_epoch"] < EPOCHS  # stopped mid-training, not at its end
    with Project.open(cwd=tmp_path) as project:
        [run] = project.store.list_runs()
        assert run.state == "interrupted"
        states = {e.node: e for e in project.store.list_executions(run.id)}
        assert {n: e.state for n, e in states.items()} == {
            "ingest": "complete",
            "compute_statistics": "complete",
            "infer_schema": "complete",
            "transform": "complete",
            "train": "interrupted",
        }
        assert (states["train"].error or "").startswith("interrupted by Ctrl-C (SIGINT) after")
        assert "train" not in {a.name.split("/")[2] for a in project.store.list_artifacts()}

    resumed = shipyard(tmp_path, "run", "pipeline.py")
    _, err = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, err
    with Project.open(cwd=tmp_path) as project:
        latest = project.store.list_runs()[0]
        assert latest.state == "complete"
        [record] = [
            a for a in project.store.list_artifacts() if a.name == f"long/{latest.id}/train/model"
        ]
        model = artifact_from_record(record, project.storage)
        assert isinstance(model, Model)
        card = model.card()
    # it resumed where the Ctrl-C stopped it: the epochs done, and the steps of the current one
    assert card["training"]["resumed_from_epoch"] == progress["next_epoch"] - 1
    assert card["metrics"]["epochs"] == EPOCHS
    assert not saved.exists()  # the completed node's checkpoint is removed


def test_a_second_ctrl_c_exits_at_once(tmp_path: Path) -> None:
    (tmp_path / "pipeline.py").write_text(
        "import time\n"
        "from shipyard import Out, Pipeline, component\n"
        "from shipyard.artifacts import Metrics\n\n"
        "@component\n"
        "def stubborn(out: Out[Metrics]) -> None:\n"
        "    open('started', 'w').close()\n"
        "    time.sleep(120)  # never looks at the stop flag\n"
        "    out.save({'v': 1.0})\n\n"
        "def build() -> Pipeline:\n"
        "    return Pipeline('stubborn', nodes=[stubborn()])\n"
    )
    running = shipyard(tmp_path, "run", "pipeline.py")
    deadline = time.monotonic() + 120
    while not (tmp_path / "started").exists():
        assert time.monotonic() < deadline and running.poll() is None, running.communicate()
        time.sleep(0.05)
    running.send_signal(signal.SIGINT)
    time.sleep(1.0)
    assert running.poll() is None  # the first one waits for the node to stop
    running.send_signal(signal.SIGINT)
    second_at = time.monotonic()
    _, err = running.communicate(timeout=60)
    assert time.monotonic() - second_at < 3
    assert running.returncode == 130, err
    assert "press Ctrl-C again to exit at once" in err
    assert "Resume with: shipyard run pipeline.py" in err
    with Project.open(cwd=tmp_path) as project:
        [run] = project.store.list_runs()
        assert run.state == "interrupted"
        [execution] = project.store.list_executions(run.id)
        assert execution.state == "interrupted"
        assert (execution.error or "").startswith("interrupted by Ctrl-C (SIGINT)")
    listed, _ = shipyard(tmp_path, "runs", "--json").communicate(timeout=120)
    assert [r["state"] for r in json.loads(listed)] == ["interrupted"]
    shown, _ = shipyard(tmp_path, "runs", "show", run.id, "--json").communicate(timeout=120)
    node = json.loads(shown)["nodes"]["stubborn"]
    assert (node["state"], node["error"]) == ("interrupted", execution.error)
    table, _ = shipyard(tmp_path, "runs", "show", run.id).communicate(timeout=120)
    assert f"Run {run.id} of stubborn: interrupted" in table
    assert "stubborn interrupted:\ninterrupted by Ctrl-C (SIGINT) after" in table


def test_a_killed_run_shows_abandoned_in_runs(tmp_path: Path) -> None:
    (tmp_path / "pipeline.py").write_text(
        "import time\n"
        "from shipyard import Out, Pipeline, component\n"
        "from shipyard.artifacts import Metrics\n\n"
        "@component\n"
        "def slow(out: Out[Metrics]) -> None:\n"
        "    open('started', 'w').close()\n"
        "    time.sleep(120)\n"
        "    out.save({'v': 1.0})\n\n"
        "def build() -> Pipeline:\n"
        "    return Pipeline('slow', nodes=[slow()])\n"
    )
    running = shipyard(tmp_path, "run", "pipeline.py")
    deadline = time.monotonic() + 120
    while not (tmp_path / "started").exists():
        assert time.monotonic() < deadline and running.poll() is None, running.communicate()
        time.sleep(0.05)
    listed = shipyard(tmp_path, "runs", "--json")
    out, err = listed.communicate(timeout=60)
    assert listed.returncode == 0, err
    assert [r["state"] for r in json.loads(out)] == ["running"]  # alive: left alone

    running.kill()
    running.communicate(timeout=60)
    listed = shipyard(tmp_path, "runs")
    out, err = listed.communicate(timeout=60)
    assert listed.returncode == 0, err
    assert "abandoned" in out and "running" not in out
    with Project.open(cwd=tmp_path) as project:
        [run] = project.store.list_runs()
        assert run.state == "abandoned"
        [execution] = project.store.list_executions(run.id)
        assert execution.state == "abandoned"
