"""`shipyard.client.Client` against a real server on 127.0.0.1."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pytest

from shipyard.artifacts.model import Model
from shipyard.client import Client, ServingError
from shipyard.errors import InvalidParameterError, ShipyardError
from shipyard.io.ports import free_port
from tests.client.models import classifier

if TYPE_CHECKING:
    from collections.abc import Iterator

ROWS = [
    {"island": "Biscoe", "sex": "male", "bill_length_mm": 48.6, "flipper_length_mm": 215},
    {"island": "Dream", "sex": None, "body_mass_g": 3200.0},
]


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Model:
    return Model(classifier(tmp_path_factory))


@pytest.fixture
def client(url: str) -> Iterator[Client]:
    with Client(url, timeout_s=30) as client:
        yield client


def expected(model: Model, rows: list[dict[str, object]]) -> dict[str, np.ndarray]:
    names = [item["name"] for item in model.signature()["inputs"]]
    table = pa.table({name: [row.get(name) for row in rows] for name in names})
    return model.predict(table)


def test_ready_status_and_metadata(client: Client) -> None:
    assert client.ready()
    status = client.status("penguins")
    assert [(s["version"], s["state"]) for s in status] == [("2", "AVAILABLE"), ("1", "AVAILABLE")]
    assert [s["version"] for s in client.status("penguins", label="stable")] == ["1"]
    metadata = client.metadata("penguins", version=1)
    assert metadata["model_spec"]["version"] == "1"
    inputs = metadata["metadata"]["signature_def"]["signature_def"]["serving_default"]["inputs"]
    assert inputs["island"]["dtype"] == "DT_STRING"


def test_predict_rows_and_columns_match_model_predict(client: Client, model: Model) -> None:
    want = expected(model, ROWS)
    rows = client.predict("penguins", ROWS)
    assert [row["class_labels"] for row in rows] == list(want["class_labels"])
    np.testing.assert_allclose([row["probabilities"] for row in rows], want["probabilities"])
    columns = {"island": ["Biscoe", "Dream"], "sex": ["male", None], "bill_length_mm": [48.6, None]}
    outputs = client.predict("penguins", columns=columns, label="canary")
    assert set(outputs) == {"class_ids", "probabilities", "class_labels"}
    assert len(outputs["class_labels"]) == 2


def test_classify_regress_and_infer(client: Client, model: Model) -> None:
    scores = client.classify("penguins", [{"island": "Biscoe"}], context={"sex": "female"})
    vocabulary = model.signature()["label_vocabulary"]
    assert [label for label, _ in scores[0]] == vocabulary
    assert sum(score for _, score in scores[0]) == pytest.approx(1.0, abs=1e-5)
    assert client.regress("double", [{"x": 1.5, "y": 1}, {"y": 4}], version=1)[0] == 4.0
    answer = client.infer("double", {"x": [1.0, 2.0], "y": [3, 4], "tag": ["a", None]})
    assert answer["model_version"] == "1"
    assert answer["outputs"][0]["data"] == [5.0, 8.0]
    tensors = [{"name": "y", "shape": [1, 1], "datatype": "FP32", "data": [[2.5]]}]
    raw = client.infer("double", tensors, outputs=["predictions"], request_id="r1")
    assert raw["id"] == "r1" and np.isnan(raw["outputs"][0]["data"][0])


def test_server_errors_carry_status_and_message(client: Client) -> None:
    with pytest.raises(ServingError) as bad:
        client.predict("penguins", [{"island": 3, "sex": "male"}])
    assert bad.value.status == 400
    assert bad.value.server_message == "instances[0]['island'] must be a string, got 3 (a number)"
    assert isinstance(bad.value, ShipyardError) and isinstance(bad.value, RuntimeError)
    with pytest.raises(ServingError, match="not served here") as unknown:
        client.status("nope")
    assert unknown.value.status == 404 and "/v1/models/nope" in str(unknown.value)
    with pytest.raises(ServingError, match="multiclass model") as wrong:
        client.regress("penguins", ROWS)
    assert wrong.value.status == 400
    assert client.status("penguins")  # the connection still works after errors


def test_refused_connection_names_the_url() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    client = Client(url)
    assert not client.ready()
    with pytest.raises(ServingError, match=f"Cannot connect to {url}") as refused:
        client.status("penguins")
    assert refused.value.status is None and "shipyard serve" in str(refused.value)


def test_invalid_arguments() -> None:
    with pytest.raises(InvalidParameterError, match="http:// or https:// URL"):
        Client("127.0.0.1:8501")
    client = Client()
    with pytest.raises(InvalidParameterError, match="exactly one"):
        client.predict("penguins")
    with pytest.raises(InvalidParameterError, match="not both"):
        client.status("penguins", version=1, label="stable")


def test_connections_are_reused_per_thread_and_renewed_when_stale(client: Client) -> None:
    for _ in range(3):
        client.status("penguins")
    assert len(client._connections) == 1
    connection = client._connections[0]
    assert connection.sock is not None
    connection.sock.shutdown(socket.SHUT_RDWR)  # as when the server drops an idle connection
    assert client.status("double")[0]["state"] == "AVAILABLE"
    assert client._connections != [connection]  # retried once, on a new connection
    results: list[object] = []

    def work() -> None:
        results.extend(client.predict("double", [{"x": i, "y": 1}])[0] for i in range(5))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == sorted([[2.0 * i + 1] for i in range(5)] * 4)
    assert len(client._connections) == 5  # this thread's and one per worker thread
    client.close()
    assert client._connections == []


def test_import_is_light() -> None:
    code = (
        "import sys, shipyard.client\n"
        "print([m for m in ('numpy', 'pyarrow', 'onnxruntime') if m in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]", result.stderr
