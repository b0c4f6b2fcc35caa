"""Train's estimators beyond the canned networks, and what every training records.

Boosted trees, a user's `run_fn`, the ModelRun history and TensorBoard files, and a training
killed mid-way that resumes from its checkpoint.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.csv as pacsv
import pytest

from shipyard import Pipeline
from shipyard.artifacts import Model, ModelRun
from shipyard.components.train.tensorboard import read_scalars
from tests.components.train.test_train_pipeline import pipeline as train_pipeline
from tests.conftest import Workspace

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
PENGUINS = EXAMPLES / "penguins" / "data" / "penguins.csv"
RUN_FNS = Path(__file__).parent / "custom" / "run_fns.py"


def pipeline(**options: Any) -> Pipeline:
    return train_pipeline(PENGUINS, "species", "penguins_features", **options)


def trained(workspace: Workspace, **options: Any) -> tuple[Model, ModelRun]:
    result = workspace.run(pipeline(**options))
    assert result.ok, [n.error.user_traceback for n in result.failed if n.error]
    outputs = result["train"].outputs
    model, run = outputs["model"], outputs["model_run"]
    assert isinstance(model, Model) and isinstance(run, ModelRun)
    return model, run


def served_accuracy(model: Model) -> float:
    rows = pacsv.read_csv(PENGUINS)
    served = model.predict(rows.drop_columns(["species"]))
    return float(np.mean(served["class_labels"] == np.asarray(rows.column("species").to_pylist())))


def test_boosted_trees_are_exported_as_one_onnx_graph_with_the_transform(
    workspace: Workspace,
) -> None:
    model, run = trained(workspace, estimator="boosted_trees", num_trees=60)
    assert model.card()["estimator"] == "boosted_trees"
    assert model.card()["parameters"]["learning_rate"] == 0.1  # the trees' default
    assert model.properties["metrics"]["eval_accuracy"] >= 0.97
    assert served_accuracy(model) >= 0.97
    assert len(run.history()) == model.card()["training"]["best_epoch"] or run.history()


def test_history_and_tensorboard_files_record_every_epoch(workspace: Workspace) -> None:
    model, run = trained(
        workspace,
        hidden_units=[16, 8],
        epochs=6,
        batch_size=32,
        learning_rate=0.01,
        lr_schedule="cosine",
        early_stopping_patience=None,
    )
    history = run.history()
    assert [row["epoch"] for row in history] == [1, 2, 3, 4, 5, 6]
    assert history == model.properties["history"]
    assert run.properties["epochs"] == 6
    scalars = read_scalars(run.tensorboard_dir)
    assert sorted(scalars) == ["eval_accuracy", "eval_loss", "learning_rate", "train_loss"]
    assert [step for step, _ in scalars["train_loss"]] == [1, 2, 3, 4, 5, 6]
    np.testing.assert_allclose(
        [value for _, value in scalars["eval_loss"]],
        [row["eval_loss"] for row in history],
        rtol=1e-6,
    )
    rates = [value for _, value in scalars["learning_rate"]]
    assert rates[0] > rates[-1]  # the cosine schedule decays


def test_a_custom_run_fn_trains_any_module(workspace: Workspace) -> None:
    model, run = trained(
        workspace,
        run_fn_file=str(RUN_FNS),
        hyperparameters={"width": 24},
        epochs=40,
        batch_size=32,
        learning_rate=0.01,
    )
    card = model.card()
    assert card["estimator"] == "custom"
    assert card["parameters"]["hyperparameters"] == {"width": 24}
    assert served_accuracy(model) >= 0.95
    assert (run.path / "notes.txt").read_text() == "mine"
    assert run.history() and model.properties["metrics"]["eval_accuracy"] >= 0.95


def test_a_run_fn_with_its_own_loop_logs_its_own_scalars(workspace: Workspace) -> None:
    model, run = trained(workspace, run_fn_file=str(RUN_FNS), run_fn="own_loop")
    assert [row["epoch"] for row in run.history()] == list(range(1, 31))
    assert list(read_scalars(run.tensorboard_dir)) == ["train_loss"]
    assert served_accuracy(model) >= 0.9
    assert "eval_accuracy" in model.properties["metrics"]  # measured after the run_fn


@pytest.mark.parametrize(
    ("function", "message"),
    [
        ("returns_nothing", "must return the trained torch.nn.Module; it returned NoneType"),
        ("wrong_width", "must map the 7 feature tensors to scores of shape [N, 3]"),
        ("no_such_function", "no function 'no_such_function'"),
    ],
)
def test_run_fn_mistakes_are_explained(workspace: Workspace, function: str, message: str) -> None:
    result = workspace.run(pipeline(run_fn_file=str(RUN_FNS), run_fn=function))
    assert not result.ok
    error = result["train"].error
    assert error is not None and message in str(error), error


PIPELINE = """
from shipyard import Pipeline
from shipyard.components import compute_statistics, infer_schema, ingest, train, transform

def slow(source: str = {source!r}) -> Pipeline:
    raw = ingest(source=source, splits={{"train": 8, "eval": 2}})
    stats = compute_statistics(examples=raw.outputs.examples)
    schema = infer_schema(statistics=stats.outputs.statistics, label="species")
    prepared = transform(examples=raw.outputs.examples, schema=schema.outputs.schema)
    trained = train(
        transformed=prepared.outputs.transformed,
        transform_graph=prepared.outputs.transform_graph,
        hidden_units=[64, 64],
        epochs=150,
        batch_size=16,
        early_stopping_patience=None,
    )
    return Pipeline("slow", nodes=[trained])
"""


def test_a_training_killed_mid_way_resumes_from_its_checkpoint(tmp_path: Path) -> None:
    (tmp_path / "pipeline.py").write_text(PIPELINE.format(source=str(PENGUINS)))
    command = [sys.executable, "-m", "shipyard", "run", "pipeline.py", "--json"]
    process = subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    checkpoints = tmp_path / ".shipyard" / "checkpoints"
    deadline = time.monotonic() + 90
    while not list(checkpoints.glob("*/*.safetensors")) and time.monotonic() < deadline:
        assert process.poll() is None, "the run ended before it could be killed"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert list(checkpoints.glob("*/*.safetensors")), "no checkpoint was written"

    # Finish quickly: the rerun resumes where the killed one stopped, not from epoch 1.
    finished = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False
    )
    assert finished.returncode == 0, finished.stderr
    run = json.loads(finished.stdout)
    model = Path(run["nodes"]["train"]["outputs"]["model"]["uri"])
    card = json.loads((model / "model_card.json").read_text())
    assert card["training"]["resumed_from_epoch"] >= 1
    history = json.loads((model.parent / "model_run" / "history.json").read_text())
    assert [row["epoch"] for row in history] == list(range(1, 151))
    assert not list(checkpoints.glob("*/*")), "checkpoints are deleted once the node completes"
