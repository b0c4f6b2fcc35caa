"""`shipyard train`: the seed demo in one command, through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.command import shipyard

PENGUINS = Path(__file__).resolve().parents[2] / "examples" / "penguins" / "data" / "penguins.csv"
FAST = ["--hidden-units", "16,8", "--epochs", "30", "--learning-rate", "0.01", "--batch-size", "32"]

pytestmark = pytest.mark.slow


def test_train_evaluates_and_pushes_a_model(tmp_path: Path) -> None:
    result = shipyard(tmp_path, "train", str(PENGUINS), "--label", "species", *FAST, "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["state"] == "complete"
    assert summary["model_name"] == "penguins"
    assert summary["metrics"]["accuracy"] >= 0.97
    assert summary["blessed"] is True and summary["pushed"] is True
    assert summary["version"] == 1
    assert summary["pushed_path"] == str(tmp_path / "models" / "penguins" / "1")
    assert (tmp_path / "models" / "penguins" / "1" / "model.onnx").is_file()
    assert (Path(summary["exported_dir"]) / "signature.json").is_file()

    again = shipyard(tmp_path, "train", str(PENGUINS), "--label", "species", *FAST)
    assert again.returncode == 0, again.stderr
    assert again.stderr.count("cached") >= 8  # nothing changed: every node is reused
    assert "pushed to" in again.stderr
    assert "Evaluation on eval" in again.stderr and "accuracy" in again.stderr

    sliced = shipyard(
        tmp_path, "train", str(PENGUINS), "--label", "species", *FAST, "--slice", "island"
    )
    assert sliced.returncode == 0, sliced.stderr
    assert "Slices, worst accuracy first" in sliced.stderr and "island=Dream" in sliced.stderr
    assert "version 1" in sliced.stderr  # the same model: not pushed again


def test_unknown_label_and_bad_options_are_clear_errors(tmp_path: Path) -> None:
    bad_model = shipyard(tmp_path, "train", str(PENGUINS), "--label", "species", "--model", "svm")
    assert bad_model.returncode == 1 and "--model must be one of" in bad_model.stderr
    inapplicable = shipyard(
        tmp_path,
        "train",
        str(PENGUINS),
        "--label",
        "species",
        "--model",
        "boosted_trees",
        "--hidden-units",
        "8",
        "--lr-schedule",
        "cosine",
    )
    assert inapplicable.returncode == 1
    assert "--hidden-units, --lr-schedule do not apply to --model boosted_trees" in " ".join(
        inapplicable.stderr.split()
    )
    assert not (tmp_path / ".shipyard").exists()  # refused before anything ran
    bad_units = shipyard(tmp_path, "train", str(PENGUINS), "--label", "x", "--hidden-units", "a,b")
    assert bad_units.returncode == 1 and "--hidden-units" in bad_units.stderr
    unknown = shipyard(tmp_path, "train", str(PENGUINS), "--label", "speciez", *FAST)
    assert unknown.returncode == 1
    assert "speciez" in unknown.stderr
    assert not (tmp_path / "models").exists()
