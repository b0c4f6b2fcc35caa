"""Exported models for the client, batch prediction and `shipyard predict` tests.

`classifier` trains the penguins species model with the real CLI, once per session however
many test directories ask for it. `regressor` writes a tiny exported model by hand:
`predictions = 2 * x + y` (x optional, y required, and an unused optional string input
`tag`), so expected values are exact.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.cli.command import shipyard
from tests.serving.conftest import require_feature

PENGUINS = Path(__file__).resolve().parents[2] / "examples" / "penguins" / "data" / "penguins.csv"
_MADE: dict[str, Path] = {}


def classifier(factory: pytest.TempPathFactory) -> Path:
    """The penguins classifier's pushed version directory `.../models/penguins/1`."""
    if "classifier" not in _MADE:
        work = factory.mktemp("classifier")
        options = ["--hidden-units", "8", "--epochs", "20", "--learning-rate", "0.01"]
        options += ["--batch-size", "32", "--push-to", str(work / "models")]
        result = shipyard(work, "train", str(PENGUINS), "--label", "species", *options)
        assert result.returncode == 0, result.stderr
        _MADE["classifier"] = work / "models" / "penguins" / "1"
        require_feature(_MADE["classifier"], "sex")
    return _MADE["classifier"]


def regressor(factory: pytest.TempPathFactory) -> Path:
    """A hand-made regression model's directory: `predictions = 2 * x + y`."""
    if "regressor" not in _MADE:
        import onnx
        from onnx import TensorProto, helper

        directory = factory.mktemp("regressor") / "double" / "1"
        directory.mkdir(parents=True)
        graph = helper.make_graph(
            [
                helper.make_node("Mul", ["x", "two"], ["twice"]),
                helper.make_node("Add", ["twice", "y"], ["predictions"]),
            ],
            "double",
            [
                helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 1]),
                helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 1]),
                helper.make_tensor_value_info("tag", TensorProto.STRING, [None, 1]),
            ],
            [helper.make_tensor_value_info("predictions", TensorProto.FLOAT, [None, 1])],
            initializer=[helper.make_tensor("two", TensorProto.FLOAT, [], [2.0])],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        onnx.save(model, directory / "model.onnx")
        signature = {
            "task": "regression",
            "inputs": [
                {"name": "x", "dtype": "float", "shape": [None, 1], "optional": True},
                {"name": "y", "dtype": "float", "shape": [None, 1]},
                {"name": "tag", "dtype": "string", "shape": [None, 1], "optional": True},
            ],
            "outputs": [{"name": "predictions", "dtype": "float", "shape": [None, 1]}],
        }
        (directory / "signature.json").write_text(json.dumps(signature))
        _MADE["regressor"] = directory
    return _MADE["regressor"]


def repository(factory: pytest.TempPathFactory) -> Path:
    """A model repository: `penguins` versions 1 and 2 (the classifier), `double` version 1."""
    if "repository" not in _MADE:
        root = factory.mktemp("repository")
        for version in (1, 2):
            shutil.copytree(classifier(factory), root / "penguins" / str(version))
        shutil.copytree(regressor(factory), root / "double" / "1")
        _MADE["repository"] = root
    return _MADE["repository"]
