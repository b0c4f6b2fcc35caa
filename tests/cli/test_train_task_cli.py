"""`shipyard train --task/--positive-class/--features/--exclude`, through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from tests.cli.command import shipyard

TAXI = Path(__file__).resolve().parents[2] / "examples" / "taxi" / "data" / "chicago_taxi_tips.csv"
FAST = ["--model", "linear", "--epochs", "3", "--learning-rate", "0.05", "--batch-size", "64"]


@pytest.fixture
def taxi(tmp_path: Path) -> Path:
    """800 taxi trips: `tip` is yes/no, `paid` the same as 0/1 (so `tip` leaks `paid`)."""
    table = pacsv.read_csv(TAXI).slice(0, 800)
    paid = pa.array([int(t == "yes") for t in table.column("tip").to_pylist()], pa.int64())
    path = tmp_path / "taxi.csv"
    pacsv.write_csv(table.append_column("paid", paid), path)
    return path


def test_wrong_names_fail_before_any_work_with_the_corrected_command(
    tmp_path: Path, taxi: Path
) -> None:
    result = shipyard(
        tmp_path, "train", str(taxi), "--label", "tips", "--exclude", "distanse", *FAST
    )
    assert result.returncode == 1
    err = " ".join(result.stderr.split())
    assert "--label 'tips' (did you mean 'tip'?)" in err
    assert "--exclude 'distanse' (did you mean 'distance'?)" in err
    assert "The columns are: tip, distance, company, local, dow, month, hour, paid." in err
    assert (
        f"Run instead: shipyard train {taxi} --label tip --exclude distance {' '.join(FAST)}" in err
    )
    assert not (tmp_path / ".shipyard").exists()  # nothing ran


def test_wrong_positive_class_and_task_fail_before_any_work(tmp_path: Path, taxi: Path) -> None:
    wrong = shipyard(tmp_path, "train", str(taxi), "--label", "tip", "--positive-class", "yse")
    err = " ".join(wrong.stderr.split())
    assert wrong.returncode == 1
    assert "must be one of the label's classes ('no', 'yes'). Got 'yse' instead." in err
    assert f"Run instead: shipyard train {taxi} --label tip --positive-class yes" in err
    multi = shipyard(tmp_path, "train", str(taxi), "--label", "month", "--positive-class", "x")
    assert multi.returncode == 1 and "holds 4 distinct values" in multi.stderr
    task = shipyard(tmp_path, "train", str(taxi), "--label", "tip", "--task", "ranking")
    assert task.returncode == 1 and "--task must be one of auto, classification" in task.stderr
    leak = shipyard(tmp_path, "train", str(taxi), "--label", "tip", "--features", "tip,hour")
    assert leak.returncode == 1 and "--features names the label 'tip'" in leak.stderr
    assert not (tmp_path / ".shipyard").exists()


@pytest.mark.slow
def test_every_output_states_the_task_and_positive_class(tmp_path: Path, taxi: Path) -> None:
    strings = shipyard(
        tmp_path, "train", str(taxi), "--label", "tip", "--exclude", "paid", *FAST, "--json",
    )  # fmt: skip
    assert strings.returncode == 0, strings.stderr
    summary = json.loads(strings.stdout)
    assert summary["task"] == "binary" and summary["positive_class"] == "yes"  # not by frequency
    assert summary["task_reason"] == "inferred: 'tip' holds 2 classes (yes, no)"
    assert summary["positive_class_reason"] == "'yes' reads as positive"
    signature = json.loads((Path(summary["exported_dir"]) / "signature.json").read_text())
    assert "paid" not in {item["name"] for item in signature["inputs"]}

    numbers = shipyard(
        tmp_path, "train", str(taxi), "--label", "paid", "--exclude", "tip", *FAST,
    )  # fmt: skip
    assert numbers.returncode == 0, numbers.stderr
    err = " ".join(numbers.stderr.split())
    assert (
        "Task: binary classification (inferred: 'paid' holds 2 distinct values "
        "(0, 1); --task to change)." in err
    )
    assert "Positive class: '1' ('1' reads as positive; --positive-class to change)." in err
    assert "binary, positive class '1'" in err  # the evaluation table's title

    regression = shipyard(
        tmp_path, "train", str(taxi), "--label", "paid", "--task", "regression",
        "--exclude", "tip", "--model-name", "paid_regression", *FAST, "--json",
    )  # fmt: skip
    assert regression.returncode == 0, regression.stderr
    summary = json.loads(regression.stdout)
    assert summary["task"] == "regression" and summary["positive_class"] is None
    assert summary["task_reason"] == "named by task='regression'" and "rmse" in summary["metrics"]
