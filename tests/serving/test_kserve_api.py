"""KServe V2 (Open Inference Protocol) over a real socket."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from shipyard._version import __version__
from shipyard.artifacts import Model
from tests.serving.conftest import penguin_rows
from tests.serving.server import RunningServer


def _tensors(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    tensors = []
    for name in rows[0]:
        values = [row[name] for row in rows]
        datatype = "BYTES" if name in ("island", "sex") else "FP32"
        if datatype == "BYTES":
            values = [value or "" for value in values]
        tensors.append(
            {"name": name, "shape": [len(rows), 1], "datatype": datatype, "data": values}
        )
    return tensors


def test_health_and_server_metadata(api_server: RunningServer) -> None:
    assert api_server.get("/v2/health/live") == (200, {"live": True})
    assert api_server.get("/v2/health/ready") == (200, {"ready": True})
    assert api_server.get("/v2") == (
        200,
        {"name": "shipyard", "version": __version__, "extensions": []},
    )


def test_model_metadata_and_readiness(api_server: RunningServer) -> None:
    status, body = api_server.get("/v2/models/penguins")
    assert status == 200
    assert body["name"] == "penguins" and body["versions"] == ["3"]
    assert body["platform"] == "onnxruntime_onnx"
    assert body["inputs"][0] == {"name": "island", "datatype": "BYTES", "shape": [-1, 1]}
    assert {"name": "bill_length_mm", "datatype": "FP32", "shape": [-1, 1]} in body["inputs"]
    assert body["outputs"] == [
        {"name": "class_ids", "datatype": "INT64", "shape": [-1]},
        {"name": "probabilities", "datatype": "FP32", "shape": [-1, 3]},
        {"name": "class_labels", "datatype": "BYTES", "shape": [-1]},
    ]
    _, mixed = api_server.get("/v2/models/mixed/versions/1")
    assert mixed["versions"] == ["2", "1"]
    assert mixed["outputs"] == [{"name": "predictions", "datatype": "FP32", "shape": [-1]}]
    assert api_server.get("/v2/models/mixed/versions/2/ready") == (
        200,
        {"name": "mixed", "version": "2", "ready": True},
    )
    assert api_server.get("/v2/models/penguins/versions/9/ready")[0] == 404
    assert api_server.get("/v2/models/unknown/ready")[0] == 404


def test_infer_matches_model_predict(api_server: RunningServer, trained: dict[str, Path]) -> None:
    rows = penguin_rows()
    expected = Model(trained["penguins"]).predict({k: [r[k] for r in rows] for k in rows[0]})
    request = {"id": "req-1", "inputs": _tensors(rows)}
    status, body = api_server.post("/v2/models/penguins/infer", request)
    assert status == 200, body
    assert (body["model_name"], body["model_version"], body["id"]) == ("penguins", "3", "req-1")
    outputs = {output["name"]: output for output in body["outputs"]}
    assert outputs["class_labels"] == {
        "name": "class_labels",
        "datatype": "BYTES",
        "shape": [len(rows)],
        "data": expected["class_labels"].tolist(),
    }
    assert outputs["probabilities"]["shape"] == [len(rows), 3]
    assert outputs["probabilities"]["datatype"] == "FP32"
    np.testing.assert_allclose(
        outputs["probabilities"]["data"], expected["probabilities"].ravel(), rtol=1e-6
    )
    assert outputs["class_ids"]["datatype"] == "INT64"


def test_infer_takes_nested_data_optional_inputs_and_output_selection(
    api_server: RunningServer,
) -> None:
    request = {
        "inputs": [
            {
                "name": "island",
                "shape": [2, 1],
                "datatype": "BYTES",
                "data": [["Biscoe"], ["Dream"]],
            },
            {"name": "sex", "shape": [2], "datatype": "BYTES", "data": ["male", "female"]},
            {"name": "year", "shape": [2, 1], "datatype": "INT32", "data": [2007, 2008]},
        ],
        "outputs": [{"name": "class_labels"}],
    }
    status, body = api_server.post("/v2/models/penguins/versions/3/infer", request)
    assert status == 200, body
    assert [output["name"] for output in body["outputs"]] == ["class_labels"]
    assert len(body["id"]) == 36  # a UUID when the request has none


ISLAND = {"name": "island", "shape": [1, 1], "datatype": "BYTES", "data": ["Biscoe"]}
SEX = {"name": "sex", "shape": [1], "datatype": "BYTES", "data": ["male"]}


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"inputs": []}, 400, "'inputs' must be a non-empty list"),
        ({"input": [ISLAND]}, 400, "unknown key 'input'"),
        (
            {"inputs": [ISLAND, SEX | {"datatype": "FP32"}]},
            400,
            "inputs[1] ('sex') has datatype 'FP32'; the model takes BYTES",
        ),
        ({"inputs": [ISLAND, SEX | {"shape": [2]}]}, 400, "has shape [2] but 1 values"),
        ({"inputs": [ISLAND, SEX | {"shape": [1, 2]}]}, 400, "one value per row"),
        ({"inputs": [ISLAND, SEX, SEX]}, 400, "is given twice"),
        (
            {
                "inputs": [
                    ISLAND,
                    SEX,
                    {"name": "beak", "shape": [1], "datatype": "FP32", "data": [1]},
                ]
            },
            400,
            "inputs[2] ('beak') is not an input of the model",
        ),
        ({"inputs": [ISLAND]}, 400, "lacks the required feature 'sex'"),
        (
            {"inputs": [ISLAND, SEX | {"data": [5]}]},
            400,
            "input 'sex', element 0 must be a string, got 5 (a number)",
        ),
        ({"inputs": [ISLAND, {"name": "sex"}]}, 400, "with name, shape, datatype and data"),
        ({"inputs": [ISLAND, SEX], "outputs": [{"name": "logits"}]}, 400, "no output 'logits'"),
        ({"inputs": [ISLAND, SEX], "id": 7}, 400, "'id' must be a string"),
    ],
)
def test_bad_infer_requests_get_400_and_a_json_error(
    api_server: RunningServer, body: dict[str, Any], status: int, message: str
) -> None:
    answer = api_server.post("/v2/models/penguins/infer", body)
    assert answer[0] == status, answer
    assert list(answer[1]) == ["error"] and message in answer[1]["error"], answer


def test_unknown_model_or_version_is_404(api_server: RunningServer) -> None:
    body = {"inputs": [ISLAND, SEX]}
    for path in ("/v2/models/unknown/infer", "/v2/models/penguins/versions/1/infer"):
        status, answer = api_server.post(path, body)
        assert status == 404 and list(answer) == ["error"], answer
    assert api_server.get("/v2/models/unknown")[0] == 404
