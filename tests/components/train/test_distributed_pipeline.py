"""`train(workers=2)` in real runs: the same artifacts, the metrics of one worker, and a run
whose worker was killed resumes from rank 0's checkpoint."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from shipyard.artifacts import Model
from shipyard.components.train import checkpoint
from shipyard.errors import WorkerFailed
from tests.components.train.test_train_pipeline import PENGUINS, pipeline

if TYPE_CHECKING:
    from shipyard.runners import Run
    from tests.conftest import Workspace

pytestmark = pytest.mark.slow

OPTIONS = {"hidden_units": [16, 8], "batch_size": 32, "learning_rate": 0.01, "seed": 0}


def test_two_workers_give_the_artifacts_and_metrics_of_one(workspace: Workspace) -> None:
    one = workspace.run(pipeline(PENGUINS, "species", "one", epochs=30, **OPTIONS))
    two = workspace.run(pipeline(PENGUINS, "species", "two", epochs=30, workers=2, **OPTIONS))
    assert one.ok and two.ok, [n.error for n in (*one.failed, *two.failed)]
    model_one, model_two = (run["train"].outputs["model"] for run in (one, two))
    assert isinstance(model_two, Model)
    assert sorted(model_two.files()) == sorted(model_one.files())
    assert model_two.card()["training"]["workers"] == 2
    history_one, history_two = (m.properties["history"] for m in (model_one, model_two))
    assert len(history_two) == len(history_one)  # rank 0's epochs reached the recorder
    # The tolerance of docs/training.md: dropout-free networks give one worker's history to
    # float rounding; accuracy within 0.02 and the eval loss within 5% in any case
    metrics_one, metrics_two = model_one.properties["metrics"], model_two.properties["metrics"]
    assert abs(metrics_two["eval_accuracy"] - metrics_one["eval_accuracy"]) <= 0.02
    assert metrics_two["eval_loss"] == pytest.approx(metrics_one["eval_loss"], rel=0.05)
    assert metrics_two["steps"] == metrics_one["steps"]
    run_dir = two["train"].outputs["model_run"].path
    assert any(run_dir.rglob("events.out.tfevents.*"))  # TensorBoard written by the launcher


def _rank_processes() -> list[int]:
    """The training ranks below this process (started by it or by the warm worker that runs
    the train node): spawned multiprocessing children, in the order they started."""
    descendants, started = {os.getpid()}, {}
    for _ in range(3):  # children, grandchildren, great-grandchildren
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[1]) in descendants:
                descendants.add(int(entry.name))
                if b"spawn_main" in command:
                    started[int(entry.name)] = int(fields[19])  # start time, in clock ticks
    ranks = sorted(started, key=lambda pid: (started[pid], pid))
    assert len(ranks) == 2, f"expected 2 training ranks below this process, found {ranks}"
    return ranks


def test_a_killed_worker_fails_the_run_naming_its_rank_and_the_rerun_resumes(
    workspace: Workspace,
) -> None:
    trained = pipeline(
        PENGUINS,
        "species",
        "killed",
        epochs=300,
        early_stopping_patience=None,
        workers=2,
        **OPTIONS,
    )
    outcome: list[Run] = []
    runner = threading.Thread(target=lambda: outcome.append(workspace.run(trained)))
    runner.start()
    deadline = time.monotonic() + 120
    while not any(workspace.root.rglob(checkpoint.FILENAME)) and time.monotonic() < deadline:
        time.sleep(0.1)
    os.kill(_rank_processes()[1], signal.SIGKILL)
    runner.join(60)
    [failed] = outcome
    assert not failed.ok
    error = failed["train"].error
    # raised in this process, or relayed from the warm worker that ran the train node
    assert WorkerFailed.__name__ in (
        type(error).__name__,
        type(error.__cause__).__name__,
        getattr(error, "exception_type", ""),
    ), error
    assert "rank 1 of 2" in str(error) and "SIGKILL" in str(error)

    resumed = workspace.run(trained)
    assert resumed.ok, [n.error for n in resumed.failed]
    training = resumed["train"].outputs["model"].card()["training"]
    assert training["resumed_from_epoch"] >= 1 and training["workers"] == 2
    assert len(resumed["train"].outputs["model"].properties["history"]) == 300


def test_a_run_fn_trains_under_ddp_through_context_fit(workspace: Workspace) -> None:
    run_fns = Path(__file__).parent / "custom" / "run_fns.py"
    result = workspace.run(
        pipeline(
            PENGUINS,
            "species",
            "custom",
            epochs=20,
            run_fn_file=run_fns,
            workers=2,
            batch_size=32,
            learning_rate=0.01,
        )
    )
    assert result.ok, [n.error for n in result.failed]
    model = result["train"].outputs["model"]
    assert model.card()["training"]["workers"] == 2
    assert model.properties["metrics"]["eval_accuracy"] >= 0.9
    epochs = model.properties["metrics"]["epochs"]  # early stopping may end it before 20
    assert 1 <= len(model.properties["history"]) == epochs  # rank 0's epochs, relayed
