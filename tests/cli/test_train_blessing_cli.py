"""`shipyard train` blesses only a model at least as good as the last one, and says why."""

from __future__ import annotations

import json
import random
import re
import shutil
from pathlib import Path

import pytest

from shipyard.cli.train import train_pipeline
from tests.cli.command import shipyard

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PENGUINS = EXAMPLES / "penguins" / "data" / "penguins.csv"
FAST = ["--hidden-units", "16,8", "--epochs", "30", "--learning-rate", "0.01", "--batch-size", "32"]

pytestmark = pytest.mark.slow


def train(cwd: Path, data: Path, *options: str) -> tuple[dict[str, object], str]:
    result = shipyard(cwd, "train", str(data), *options, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), result.stderr


def test_a_worse_model_is_not_pushed_and_the_output_says_why(tmp_path: Path) -> None:
    first, _ = train(tmp_path, PENGUINS, "--label", "species", *FAST)
    assert first["blessed"] is True and first["version"] == 1
    assert any("No baseline yet" in note for note in first["blessing_notes"])  # type: ignore[attr-defined]
    shown = shipyard(tmp_path, "train", str(PENGUINS), "--label", "species", *FAST)
    assert "No baseline yet" in shown.stderr  # said in the terminal too, not only in JSON
    assert "Blessed: no check applied" in shown.stderr
    report = Path(str(first["evaluation_report"]))
    assert report.is_file()
    assert re.search(rf"evaluate/evaluation +{re.escape(str(report))}\n", shown.stderr)

    worse = shipyard(
        tmp_path,
        "train",
        str(PENGUINS),
        "--label",
        "species",
        "--model",
        "linear",
        "--epochs",
        "1",
        "--learning-rate",
        "0.0001",
    )
    assert worse.returncode == 0, worse.stderr
    assert "Not blessed: accuracy fell by" in worse.stderr
    assert "Compared with the last blessed model (artifact " in worse.stderr
    assert "at most 0.01 is allowed" in worse.stderr
    assert "No model pushed (push): Not blessed: accuracy fell by" in worse.stderr
    assert sorted(p.name for p in (tmp_path / "models" / "penguins").iterdir()) == ["1"]

    bounded, _err = train(
        tmp_path,
        PENGUINS,
        "--label",
        "species",
        *FAST,
        "--min-metric",
        "accuracy=1.01",
        "--max-regression",
        "none",
    )
    assert bounded["blessed"] is False and bounded["pushed"] is False
    [check] = bounded["blessing_checks"]  # type: ignore[misc]
    assert check["kind"] == "min" and "< min 1.01" in check["reason"]


def test_a_classifier_that_predicts_one_class_is_not_blessed(tmp_path: Path) -> None:
    generator = random.Random(0)
    data = tmp_path / "skewed.csv"
    lines = ["x,z,label"] + [
        f"{generator.gauss(0, 1):.4f},{generator.gauss(0, 1):.4f},"
        f"{'no' if generator.random() < 0.05 else 'yes'}"
        for _ in range(600)
    ]
    data.write_text("\n".join(lines) + "\n")
    refused, _ = train(tmp_path, data, "--label", "label", "--epochs", "5")
    assert refused["blessed"] is False and refused["pushed"] is False
    [check] = refused["blessing_checks"]  # type: ignore[misc]
    assert check["kind"] == "degenerate" and "predicts 'yes' for every one" in check["reason"]
    assert not (tmp_path / "models").exists()
    allowed, _ = train(tmp_path, data, "--label", "label", "--epochs", "5", "--allow-degenerate")
    assert allowed["blessed"] is True and allowed["pushed"] is True


def test_the_train_pipeline_does_not_take_the_users_pipeline_as_its_baseline(
    tmp_path: Path,
) -> None:
    assert train_pipeline(PENGUINS, model_name="penguins", label="species").name == (
        "train-penguins"
    )
    shutil.copytree(
        EXAMPLES / "penguins", tmp_path / "penguins", ignore=shutil.ignore_patterns("models")
    )
    demo = shipyard(tmp_path, "run", "penguins/pipeline.py")
    assert demo.returncode == 0, demo.stderr
    summary, _ = train(
        tmp_path, tmp_path / "penguins" / "data" / "penguins.csv", "--label", "species", *FAST
    )
    assert summary["blessed"] is True
    assert summary["baseline_id"] is None  # not the demo pipeline's model
