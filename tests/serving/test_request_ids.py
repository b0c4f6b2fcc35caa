"""Request ids in `X-Request-Id`, as the request log writes them, and the feedback route."""

from __future__ import annotations

import http.client
import json
import uuid
from typing import TYPE_CHECKING, Any

import pyarrow.parquet as pq
import pytest

from shipyard.serving.config import ModelConfig, RequestLogOptions
from tests.serving.conftest import add_version, penguin_rows
from tests.serving.server import RunningServer

if TYPE_CHECKING:
    from pathlib import Path

ROW = penguin_rows()[0]
MASS_ROW = {k: v for k, v in ROW.items() if k != "body_mass_g"} | {"species": "Adelie"}
V2_INPUTS = [
    {"name": name, "shape": [1], "datatype": "BYTES", "data": [value]}
    for name, value in (("island", "Dream"), ("sex", "female"))
]


def _post(
    port: int, path: str, body: Any, headers: dict[str, str] | None = None
) -> tuple[int, str | None, Any]:
    """POST JSON; return the status, the answer's X-Request-Id and its decoded body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", path, body=json.dumps(body).encode(), headers=headers or {})
        response = connection.getresponse()
        content = json.loads(response.read())
    finally:
        connection.close()
    return response.status, response.getheader("X-Request-Id"), content


INFERENCE = {
    "predict": ("/v1/models/penguins:predict", {"instances": [ROW, ROW]}),
    "classify": ("/v1/models/penguins/versions/3:classify", {"examples": [ROW]}),
    "regress": ("/v1/models/mixed/labels/stable:regress", {"examples": [MASS_ROW]}),
    "infer": ("/v2/models/penguins/infer", {"inputs": V2_INPUTS}),
}


@pytest.mark.parametrize("case", sorted(INFERENCE))
def test_every_inference_answer_carries_a_request_id(api_server: RunningServer, case: str) -> None:
    path, body = INFERENCE[case]
    status, drawn, _ = _post(api_server.port, path, body)
    again = _post(api_server.port, path, body)[1]
    assert status == 200 and drawn is not None and again is not None
    if case == "infer":  # KServe's own: a UUID, as before
        assert str(uuid.UUID(drawn)) == drawn and drawn != again
    else:  # a random prefix per process and a counter
        assert len(drawn) == 32 and int(drawn, 16) >= 0 and drawn != again
    status, echoed, _ = _post(api_server.port, path, body, {"X-Request-Id": "order-17/a"})
    assert (status, echoed) == (200, "order-17/a")


@pytest.mark.parametrize("sent", ["", "has space", "x" * 129, "caf\u00e9"])
def test_an_insane_client_request_id_is_a_400_naming_the_header(
    api_server: RunningServer, sent: str
) -> None:
    for path, body in INFERENCE.values():
        status, answered, content = _post(
            api_server.port, path, body, {"X-Request-Id": sent.encode("utf-8").decode("latin-1")}
        )
        assert status == 400 and answered is None
        assert "The X-Request-Id header must be 1 to 128 visible ASCII" in content["error"]


def test_kserves_id_stays_in_the_body_and_the_header_names_the_logged_id(
    api_server: RunningServer,
) -> None:
    path, body = INFERENCE["infer"]
    status, answered, content = _post(api_server.port, path, body | {"id": "k-1"})
    assert (status, answered, content["id"]) == (200, "k-1", "k-1")
    status, answered, content = _post(api_server.port, path, {"inputs": V2_INPUTS})
    assert content["id"] == answered  # drawn
    _, answered, content = _post(api_server.port, path, body | {"id": "k-2"}, {"X-Request-Id": "h"})
    assert (answered, content["id"]) == ("h", "k-2")


def test_the_request_log_writes_the_answered_ids_and_feedback_is_stored_beside_it(
    trained: dict[str, Path], tmp_path: Path
) -> None:
    add_version(tmp_path / "models" / "penguins", 2, trained["penguins"])
    logs = tmp_path / "logs"
    models = [ModelConfig("penguins", tmp_path / "models" / "penguins")]
    log = RequestLogOptions(logs, sample=1.0, flush_s=3600)
    with RunningServer(models, request_log=log) as server:
        answered = [
            _post(server.port, "/v1/models/penguins:predict", {"instances": [ROW, ROW]})[1],
            _post(server.port, "/v2/models/penguins/infer", {"inputs": V2_INPUTS})[1],
            _post(server.port, "/v1/models/penguins:classify", {"examples": [ROW]}, {
                "X-Request-Id": "mine"
            })[1],
        ]  # fmt: skip
        labels = [
            {"request_id": answered[0], "label": "Adelie", "row": 1},
            {"request_id": "mine", "label": "Gentoo"},
            {"request_id": "unknown", "label": 3},
        ]
        status, _, stored = _post(server.port, "/v1/models/penguins/feedback", {"feedback": labels})
        assert status == 200 and stored["stored"] == 3
        bad = {"feedback": [{"request_id": "a", "label": "Adelie"}, {"request_id": "b"}]}
        status, _, content = _post(server.port, "/v1/models/penguins/feedback", bad)
        assert status == 400 and "feedback[1].label must be the true label" in content["error"]
        status, _, content = _post(server.port, "/v1/models/nope/feedback", {"feedback": labels})
        assert status == 404 and "not served here" in content["error"]
        status, _, content = _post(server.port, "/v1/models/penguins/feedback", [1])
        assert status == 400 and "must be a JSON object" in content["error"]

    logged = pq.read_table(sorted((logs / "penguins" / "2").glob("*.parquet"))).to_pydict()
    assert logged["request_id"] == [answered[0], answered[0], answered[1], "mine"]
    files = list((logs / "penguins" / "feedback").iterdir())
    assert len(files) == 1 and files[0].name.endswith(".parquet")
    table = pq.read_table(files[0]).to_pydict()
    assert table["request_id"] == [answered[0], "mine", "unknown"]
    assert (table["row"], table["label"]) == ([1, 0, 0], ["Adelie", "Gentoo", "3"])


def test_a_server_without_a_request_log_takes_no_feedback(api_server: RunningServer) -> None:
    body = {"feedback": [{"request_id": "a", "label": "Adelie"}]}
    status, _, content = _post(api_server.port, "/v1/models/penguins/feedback", body)
    assert status == 404 and "--request-log-dir" in content["error"]
