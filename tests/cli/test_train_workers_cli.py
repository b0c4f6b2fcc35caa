"""`shipyard train --workers N`: DDP training through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.command import shipyard
from tests.cli.test_train_cli import FAST, PENGUINS

pytestmark = pytest.mark.slow


def test_two_workers_train_a_model_as_good_as_one(tmp_path: Path) -> None:
    result = shipyard(
        tmp_path, "train", str(PENGUINS), "--label", "species", *FAST, "--workers", "2", "--json"
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["metrics"]["accuracy"] >= 0.97  # the bar of one worker's test
    card = json.loads((Path(summary["exported_dir"]) / "model_card.json").read_text())
    assert card["training"]["workers"] == 2
    assert card["parameters"]["workers"] == 2
    assert (tmp_path / "models" / "penguins" / "1" / "model.onnx").is_file()


def test_workers_is_checked(tmp_path: Path) -> None:
    zero = shipyard(tmp_path, "train", str(PENGUINS), "--label", "species", "--workers", "0")
    assert zero.returncode != 0 and "--workers" in zero.stderr


def test_two_workers_grow_boosted_trees_with_lightgbm_data_parallel(tmp_path: Path) -> None:
    trees = shipyard(
        tmp_path,
        "train",
        str(PENGUINS),
        "--label",
        "species",
        "--model",
        "boosted_trees",
        "--workers",
        "2",
        "--json",
    )
    assert trees.returncode == 0, trees.stderr
    summary = json.loads(trees.stdout)
    assert summary["metrics"]["accuracy"] >= 0.95  # one worker: 0.986 (docs/training.md)
    card = json.loads((Path(summary["exported_dir"]) / "model_card.json").read_text())
    assert card["estimator"] == "boosted_trees"
    assert card["training"]["workers"] == 2
    assert card["parameters"]["workers"] == 2
