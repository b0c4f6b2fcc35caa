"""The exported model directory has one owner: written, read and checked by one module.

The `Model` artifact, the server and batch prediction all read a directory through
`shipyard.artifacts.exported_model`, so a broken directory is refused by each of them with
the same message naming the file.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from shipyard.artifacts.exported_model import (
    CARD_MARKDOWN_FILENAME,
    ExportedModel,
    load_signature,
    parse_signature,
    read_json,
    write_exported_model,
)
from shipyard.artifacts.model import Model
from shipyard.errors import DataError, NotFoundError
from shipyard.predictions import LocalPredictor
from shipyard.serving.config import RuntimeOptions
from shipyard.serving.loaded_model import LoadedModel
from tests.client.models import regressor

SHIPYARD = Path(__file__).resolve().parents[2] / "shipyard"


@pytest.fixture(scope="module")
def double_onnx(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """`predictions = 2 * x + y` as ONNX bytes (its `tag` input is unused)."""
    return (regressor(tmp_path_factory) / "model.onnx").read_bytes()


@pytest.fixture(scope="module")
def signature(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Its signature: x optional, y required, tag optional; `predictions` out."""
    return dict(json.loads((regressor(tmp_path_factory) / "signature.json").read_text()))


def export(directory: Path, onnx: bytes, signature: dict[str, Any]) -> Path:
    write_exported_model(
        directory,
        ExportedModel(
            onnx=onnx,
            weights=b"",
            signature=signature,
            card={"name": "double", "task": "regression", "metrics": {"rmse": 0.5}},
        ),
    )
    return directory


def test_written_directory_is_read_back_by_every_reader(
    tmp_path: Path, double_onnx: bytes, signature: dict[str, Any]
) -> None:
    directory = export(tmp_path / "models" / "double" / "1", double_onnx, signature)

    loaded = load_signature(directory / "signature.json")
    assert [spec.name for spec in loaded.inputs] == ["x", "y", "tag"]
    assert [spec.optional for spec in loaded.inputs] == [True, False, True]
    assert "| rmse | 0.5 |" in (directory / CARD_MARKDOWN_FILENAME).read_text()

    model = Model(directory)
    assert model.typed_signature() == loaded
    assert model.predict({"x": [1.0, None], "y": [3.0, 1.0]})["predictions"].ravel()[0] == 5.0
    predictor = LocalPredictor(directory)
    assert predictor.inputs == loaded.inputs
    served = LoadedModel.load(
        name="double", version=1, base_path=directory.parent, runtime=RuntimeOptions()
    )
    assert served.signature == loaded


def test_an_invalid_signature_is_never_written(
    tmp_path: Path, double_onnx: bytes, signature: dict[str, Any]
) -> None:
    with pytest.raises(DataError, match=r"signature\.json: 'task' must be one of") as caught:
        export(tmp_path / "model", double_onnx, {**signature, "task": "ranking"})
    assert str(tmp_path / "model") in str(caught.value)
    assert not (tmp_path / "model").exists()


def test_a_model_that_does_not_match_its_signature_is_refused_by_each_reader(
    tmp_path: Path, double_onnx: bytes, signature: dict[str, Any]
) -> None:
    directory = export(tmp_path / "base" / "1", double_onnx, signature)
    wrong = json.loads((directory / "signature.json").read_text())
    wrong["inputs"].append({"name": "z", "dtype": "string", "shape": [None, 1]})
    (directory / "signature.json").write_text(json.dumps(wrong))
    expected = (
        f"{directory / 'model.onnx'}: model.onnx does not match signature.json: "
        "signature.json lists the input 'z', model.onnx has none."
    )

    with pytest.raises(DataError) as by_artifact:
        Model(directory).predict({"x": [1.0], "y": [1.0], "z": ["a"]})
    with pytest.raises(DataError) as by_server:
        LoadedModel.load(name="m", version=1, base_path=directory.parent, runtime=RuntimeOptions())
    with pytest.raises(DataError) as by_batch:
        LocalPredictor(directory).predict(pa.table({"x": [1.0], "y": [1.0]}))
    assert {str(by_artifact.value), str(by_server.value), str(by_batch.value)} == {expected}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", r"signature\.json: not valid JSON"),
        (b"\xff\xfe", r"signature\.json: not valid JSON"),
        (b"[1, 2]", r"signature\.json: must hold a JSON object, got list"),
        (b'{"task": "binary", "inputs": []}', r"signature\.json: 'inputs' must be a non-empty"),
    ],
)
def test_a_broken_signature_file_is_named(tmp_path: Path, content: bytes, message: str) -> None:
    file = tmp_path / "signature.json"
    file.write_bytes(content)
    with pytest.raises(DataError, match=message):
        load_signature(file)


def test_a_missing_file_is_not_found_with_its_path(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="not an exported model directory") as caught:
        read_json(tmp_path / "signature.json")
    assert str(tmp_path / "signature.json") in str(caught.value)


def test_int64_inputs_cannot_be_optional(signature: dict[str, Any]) -> None:
    inputs = [{"name": "n", "dtype": "int64", "shape": [None], "optional": True}]
    with pytest.raises(DataError, match=r"^m/signature\.json: the int64 input 'n' is optional"):
        parse_signature({**signature, "inputs": inputs}, where="m/signature.json")


def test_no_other_module_opens_the_exported_model_files_by_name() -> None:
    # Readers and writers elsewhere go through exported_model (STYLE.md section 8).
    names = {"model.onnx", "signature.json", "weights.safetensors", "model_card.json"}
    found = [
        f"{file.relative_to(SHIPYARD)}:{node.lineno}"
        for file in SHIPYARD.rglob("*.py")
        if file.name != "exported_model.py"
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and node.value in names
    ]
    assert found == []
