"""`shipyard train --infra-validate --canary P`: validated in a server, pushed as a canary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.cli.command import shipyard

PENGUINS = Path(__file__).resolve().parents[2] / "examples" / "penguins" / "data" / "penguins.csv"
FAST = ["--hidden-units", "16,8", "--epochs", "30", "--learning-rate", "0.01", "--batch-size", "32"]

pytestmark = pytest.mark.slow


def test_a_retrained_model_is_infra_validated_and_pushed_as_a_canary(tmp_path: Path) -> None:
    train = ("train", str(PENGUINS), "--label", "species", *FAST, "--max-regression", "none")
    first = shipyard(tmp_path, *train, "--canary", "10", "--infra-validate", "--json")
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert summary["infra_blessed"] is True
    assert (summary["version"], summary["label"], summary["canary_percent"]) == (1, "stable", None)

    second = shipyard(tmp_path, *train, "--seed", "1", "--canary", "10", "--json")
    assert second.returncode == 0, second.stderr
    summary = json.loads(second.stdout)
    assert (summary["version"], summary["label"], summary["canary_percent"]) == (2, "canary", 10)
    assert summary["infra_blessed"] is None  # not asked for this time
    config = yaml.safe_load((tmp_path / "models" / "models.yaml").read_text())
    assert config == {
        "models": [
            {
                "name": "penguins",
                "base_path": "penguins",
                "version_policy": {"specific": [1, 2]},
                "labels": {"stable": 1, "canary": 2},
                "canary": {"version": 2, "percent": 10},
            }
        ]
    }
