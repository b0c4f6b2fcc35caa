"""The TensorFlow Serving REST API over a real socket: bodies, routing and errors."""

from __future__ import annotations

import http.client
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from shipyard.artifacts import Model
from tests.serving.conftest import API_LIMIT_BYTES, penguin_rows
from tests.serving.server import RunningServer


def _columns(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    return {key: [row.get(key) for row in rows] for key in rows[0]}


def _available(version: str) -> dict[str, Any]:
    return {
        "version": version,
        "state": "AVAILABLE",
        "status": {"error_code": "OK", "error_message": ""},
    }


def test_status_lists_the_versions_served(api_server: RunningServer) -> None:
    assert api_server.get("/v1/models/penguins") == (
        200,
        {"model_version_status": [_available("3")]},
    )
    assert api_server.get("/v1/models/mixed") == (
        200,
        {"model_version_status": [_available("2"), _available("1")]},
    )
    assert api_server.get("/v1/models/mixed/versions/1") == (
        200,
        {"model_version_status": [_available("1")]},
    )
    assert api_server.get("/v1/models/mixed/labels/canary") == (
        200,
        {"model_version_status": [_available("2")]},
    )


def test_metadata_is_tf_servings_signature_def_map(api_server: RunningServer) -> None:
    status, body = api_server.get("/v1/models/penguins/metadata")
    assert status == 200
    assert body["model_spec"] == {"name": "penguins", "signature_name": "", "version": "3"}
    signature = body["metadata"]["signature_def"]["signature_def"]["serving_default"]
    assert signature["method_name"] == "tensorflow/serving/predict"
    assert signature["inputs"]["island"] == {
        "dtype": "DT_STRING",
        "tensor_shape": {
            "dim": [{"size": "-1", "name": ""}, {"size": "1", "name": ""}],
            "unknown_rank": False,
        },
        "name": "island",
    }
    assert signature["inputs"]["bill_length_mm"]["dtype"] == "DT_FLOAT"
    assert signature["outputs"]["class_ids"]["dtype"] == "DT_INT64"
    assert signature["outputs"]["probabilities"]["tensor_shape"]["dim"] == [
        {"size": "-1", "name": ""},
        {"size": "3", "name": ""},
    ]
    _, by_label = api_server.get("/v1/models/mixed/labels/stable/metadata")
    assert by_label["model_spec"]["version"] == "1"
    _, by_version = api_server.get("/v1/models/mixed/versions/2/metadata")
    assert by_version["model_spec"]["version"] == "2"


def test_predict_rows_and_columns_match_model_predict(
    api_server: RunningServer, trained: dict[str, Path]
) -> None:
    rows = penguin_rows()
    rows[1] = {k: v for k, v in rows[1].items() if k != "bill_length_mm"}  # optional: left out
    expected = Model(trained["penguins"]).predict(
        {k: [row.get(k) for row in rows] for k in penguin_rows()[0]}
    )
    assert any(value is None for row in rows for value in row.values())  # NA rows included

    status, body = api_server.post("/v1/models/penguins:predict", {"instances": rows})
    assert status == 200, body
    predictions = body["predictions"]
    assert [p["class_labels"] for p in predictions] == expected["class_labels"].tolist()
    assert [p["class_ids"] for p in predictions] == expected["class_ids"].tolist()
    probabilities = [p["probabilities"] for p in predictions]
    np.testing.assert_allclose(probabilities, expected["probabilities"], rtol=1e-6)

    status, body = api_server.post(
        "/v1/models/penguins:predict",
        {"signature_name": "serving_default", "inputs": _columns(penguin_rows())},
    )
    assert status == 200, body
    assert set(body["outputs"]) == {"class_ids", "probabilities", "class_labels"}
    assert body["outputs"]["class_labels"] == expected["class_labels"].tolist()


def test_predict_with_one_output_returns_its_values(
    api_server: RunningServer, trained: dict[str, Path], penguin_row: dict[str, Any]
) -> None:
    row = {k: v for k, v in penguin_row.items() if k != "body_mass_g"} | {"species": "Gentoo"}
    expected = Model(trained["mass"]).predict({k: [v] for k, v in row.items()})["predictions"]
    assert api_server.post("/v1/models/mass:predict", {"instances": [row]}) == (
        200,
        {"predictions": pytest.approx(expected.tolist())},
    )
    assert api_server.post(
        "/v1/models/mass:predict", {"inputs": {k: [v] for k, v in row.items()}}
    ) == (
        200,
        {"outputs": pytest.approx(expected.tolist())},
    )


def test_classify_pairs_labels_with_scores_and_regress_returns_values(
    api_server: RunningServer, trained: dict[str, Path], penguin_row: dict[str, Any]
) -> None:
    shared = {"island": penguin_row["island"], "sex": penguin_row["sex"]}
    examples = [{k: v for k, v in penguin_row.items() if k not in shared}, {}]
    status, body = api_server.post(
        "/v1/models/penguins:classify", {"examples": examples, "context": shared}
    )
    assert status == 200, body
    model = Model(trained["penguins"])
    vocabulary = model.signature()["label_vocabulary"]
    expected = model.predict(
        {k: [penguin_row[k], None] for k in penguin_row} | {k: [v, v] for k, v in shared.items()}
    )["probabilities"]
    assert [[label for label, _ in result] for result in body["results"]] == [vocabulary] * 2
    scores = [[score for _, score in result] for result in body["results"]]
    np.testing.assert_allclose(scores, expected, rtol=1e-6)

    row = {k: v for k, v in penguin_row.items() if k != "body_mass_g"} | {"species": "Adelie"}
    expected_mass = Model(trained["mass"]).predict({k: [v] for k, v in row.items()})
    status, body = api_server.post("/v1/models/mass:regress", {"examples": [row]})
    assert status == 200, body
    assert body == {"results": pytest.approx(expected_mass["predictions"].tolist())}


def test_versions_and_labels_route_to_their_version(
    api_server: RunningServer, penguin_row: dict[str, Any]
) -> None:
    mass_row = {k: v for k, v in penguin_row.items() if k != "body_mass_g"} | {"species": "Adelie"}
    for path in ("/v1/models/mixed/versions/1:regress", "/v1/models/mixed/labels/stable:regress"):
        status, body = api_server.post(path, {"examples": [mass_row]})
        assert status == 200 and len(body["results"]) == 1, body
    for path in (
        "/v1/models/mixed:classify",  # latest: version 2
        "/v1/models/mixed/versions/2:classify",
        "/v1/models/mixed/labels/canary:classify",
    ):
        status, body = api_server.post(path, {"examples": [penguin_row]})
        assert status == 200 and len(body["results"][0]) == 3, body
    status, body = api_server.post("/v1/models/mixed/versions/2:regress", {"examples": [mass_row]})
    assert status == 400 and "use :classify or :predict" in body["error"]


ROW = {"island": "Biscoe", "sex": "male"}


@pytest.mark.parametrize(
    ("path", "body", "status", "message"),
    [
        ("/v1/models/penguins:predict", b"{not json", 400, "not valid JSON"),
        ("/v1/models/penguins:predict", b"", 400, "body is empty"),
        ("/v1/models/penguins:predict", b"\xff\xfe\x00", 400, "not valid JSON"),
        ("/v1/models/penguins:predict", [ROW], 400, "must be a JSON object"),
        ("/v1/models/penguins:predict", {"instances": [ROW], "inputs": {}}, 400, "exactly one"),
        ("/v1/models/penguins:predict", {}, 400, "exactly one"),
        ("/v1/models/penguins:predict", {"instance": [ROW]}, 400, "unknown key 'instance'"),
        ("/v1/models/penguins:predict", {"instances": []}, 400, "non-empty list"),
        ("/v1/models/penguins:predict", {"instances": {"a": 1}}, 400, "non-empty list"),
        (
            "/v1/models/penguins:predict",
            {"instances": [ROW | {"beak": 1}]},
            400,
            "instances[0] has the unknown feature 'beak'",
        ),
        (
            "/v1/models/penguins:predict",
            {"instances": [ROW, {"island": "Dream"}]},
            400,
            "instances[1] lacks the required feature 'sex'",
        ),
        (
            "/v1/models/penguins:predict",
            {"instances": [ROW | {"year": "2007"}]},
            400,
            "instances[0]['year'] must be a number, got '2007' (a string)",
        ),
        (
            "/v1/models/penguins:predict",
            {"instances": [ROW, ROW | {"island": 3}]},
            400,
            "instances[1]['island'] must be a string, got 3 (a number)",
        ),
        (
            "/v1/models/penguins:predict",
            {"instances": [ROW | {"year": True}]},
            400,
            "must be a number, got True (a boolean)",
        ),
        (
            "/v1/models/penguins:predict",
            {"instances": [ROW | {"year": [1, 2]}]},
            400,
            "must be a number, got [1, 2] (a list)",
        ),
        (
            "/v1/models/penguins:predict",
            {"instances": [ROW | {"year": 1e300}]},
            400,
            "out of range for float",
        ),
        (
            "/v1/models/penguins:predict",
            {"instances": ["Biscoe"]},
            400,
            "instances[0] must be an object of features",
        ),
        (
            "/v1/models/penguins:predict",
            {"inputs": {"island": ["Biscoe", "Dream"], "sex": ["male"]}},
            400,
            "Every input needs one value per row, but 'island' has 2, 'sex' has 1 values",
        ),
        (
            "/v1/models/penguins:predict",
            {"inputs": {"island": "Biscoe", "sex": ["male"]}},
            400,
            "inputs['island'] must be a list",
        ),
        ("/v1/models/penguins:predict", {"inputs": {"island": [], "sex": []}}, 400, "no rows"),
        (
            "/v1/models/penguins:predict",
            {"inputs": {"island": ["Biscoe"]}},
            400,
            "'inputs' lacks the required feature 'sex'",
        ),
        (
            "/v1/models/penguins:predict",
            {"signature_name": "other", "instances": [ROW]},
            400,
            'Serving signature name: "other" not found',
        ),
        (
            "/v1/models/penguins:classify",
            {"examples": [ROW], "context": {"sex": "male"}},
            400,
            "repeats the context feature 'sex'",
        ),
        ("/v1/models/penguins:regress", {"examples": [ROW]}, 400, "multiclass model"),
        ("/v1/models/penguins:classify", {"instances": [ROW]}, 400, "missing key 'examples'"),
        ("/v1/models/unknown:predict", {"instances": [ROW]}, 404, "'unknown' is not served"),
        (
            "/v1/models/penguins/versions/4:predict",
            {"instances": [ROW]},
            404,
            "Version 4 of the model 'penguins' is not available; available: 3.",
        ),
        (
            "/v1/models/mixed/labels/nightly:predict",
            {"instances": [ROW]},
            404,
            "no version label 'nightly' (labels: canary, gone, stable)",
        ),
        (
            "/v1/models/mixed/labels/gone:predict",
            {"instances": [ROW]},
            404,
            "Version 9 (label 'gone') of the model 'mixed' is not available",
        ),
        ("/v1/models/penguins:explain", {"instances": [ROW]}, 404, "Unknown method ':explain'"),
        ("/v1/models/penguins/versions/x:predict", {"instances": [ROW]}, 404, "No API at POST"),
    ],
)
def test_bad_requests_get_a_4xx_and_a_json_error(
    api_server: RunningServer, path: str, body: Any, status: int, message: str
) -> None:
    raw = body if isinstance(body, bytes) else None
    answer = api_server.request("POST", path, None if raw is not None else body, raw=raw)
    assert answer[0] == status, answer
    assert list(answer[1]) == ["error"]
    assert message in answer[1]["error"]


def test_unknown_model_version_or_label_status_is_404(api_server: RunningServer) -> None:
    for path, message in (
        ("/v1/models/unknown", "'unknown' is not served here (served: mass, mixed, penguins)"),
        ("/v1/models/penguins/versions/1", "Could not find version 1 of the model 'penguins'"),
        ("/v1/models/penguins/labels/stable", "no version label 'stable'"),
        ("/v1/models/penguins/versions/1/metadata", "Version 1 of the model 'penguins'"),
    ):
        status, body = api_server.get(path)
        assert (status, list(body)) == (404, ["error"]) and message in body["error"], body


def test_every_problem_of_a_request_is_reported_at_once(api_server: RunningServer) -> None:
    bad = [ROW | {"year": "x"}, {"island": 1, "sex": "male"}, "row"]
    status, body = api_server.post("/v1/models/penguins:predict", {"instances": bad})
    assert status == 400
    assert body["error"].startswith("3 problems in the request: ")
    for part in (
        "instances[2] must be an object",
        "instances[0]['year']",
        "instances[1]['island']",
    ):
        assert part in body["error"]


def test_missing_values_and_nan_are_missing_and_b64_strings_decode(
    api_server: RunningServer, trained: dict[str, Path]
) -> None:
    rows = [
        {"island": "Biscoe", "sex": None, "year": None, "bill_length_mm": float("nan")},
        {"island": {"b64": "QmlzY29l"}, "sex": [""], "year": [None], "bill_length_mm": [None]},
    ]
    status, body = api_server.post("/v1/models/penguins:predict", {"instances": rows})
    assert status == 200, body
    expected = Model(trained["penguins"]).predict({"island": ["Biscoe"], "sex": [None]})
    for prediction in body["predictions"]:
        assert prediction["probabilities"] == pytest.approx(expected["probabilities"][0].tolist())
        assert all(math.isfinite(p) for p in prediction["probabilities"])
    bad = {"instances": [{"island": {"b64": "!!"}, "sex": "male"}]}
    status, body = api_server.post("/v1/models/penguins:predict", bad)
    assert status == 400 and "not base64" in body["error"]


def test_bodies_over_the_limit_get_413(api_server: RunningServer) -> None:
    path = "/v1/models/penguins:predict"
    declared = api_server.request(
        "POST", path, raw=b"{}", headers={"Content-Length": str(API_LIMIT_BYTES + 1)}
    )
    assert declared[0] == 413 and "limit is 65536 bytes" in declared[1]["error"]

    connection = http.client.HTTPConnection("127.0.0.1", api_server.port, timeout=30)
    try:
        chunks = iter([b'{"instances": [' + b" " * 4096] * 20)
        connection.request("POST", path, body=chunks, encode_chunked=True)
        response = connection.getresponse()
        assert response.status == 413, response.read()
        assert b"--max-body-bytes" in response.read()
    finally:
        connection.close()
    assert api_server.post(path, {"instances": [ROW]})[0] == 200  # the server is fine


@pytest.mark.parametrize(
    "path",
    [
        "/v1/models/../../etc/passwd",
        "/v1/models/..%2F..%2Fetc%2Fpasswd",
        "/v1/models/%2e%2e/metadata",
        "/v1/models/penguins/labels/..%2F..%2Fmass",
        "/v1/models/penguins/versions/..%2F1",
        "/v2/models/..%2Fpenguins/ready",
    ],
)
def test_paths_never_leave_the_served_models(api_server: RunningServer, path: str) -> None:
    status, body = api_server.get(path)
    assert status == 404 and list(body) == ["error"], body
