"""The client's request ids (`last_request_id`, `request_id=`) and `feedback`, on a real server
that keeps a request log."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from shipyard.client import Client, ServingError
from shipyard.serving.config import ModelConfig, RequestLogOptions
from tests.client.models import classifier, regressor
from tests.serving.server import RunningServer


def test_request_ids_are_exposed_and_labels_sent_for_them(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    logs = tmp_path / "logs"
    models = [ModelConfig("double", regressor(tmp_path_factory).parent)]
    log = RequestLogOptions(logs, sample=1.0, flush_s=3600)
    with (
        RunningServer(models, request_log=log) as server,
        Client(f"http://127.0.0.1:{server.port}", timeout_s=30) as client,
    ):
        assert client.last_request_id is None
        assert client.regress("double", [{"x": 1.0, "y": 1}]) == [3.0]
        drawn = client.last_request_id
        assert drawn is not None and len(drawn) == 32
        assert client.status("double") and client.last_request_id == drawn  # not inference
        client.predict("double", [{"y": 1}, {"y": 2}], request_id="mine")
        assert client.last_request_id == "mine"
        assert client.infer("double", {"y": [1]}, request_id="k")["id"] == "k"
        assert client.last_request_id == "k"
        seen: list[str | None] = []
        thread = threading.Thread(target=lambda: seen.append(client.last_request_id))
        thread.start()
        thread.join()
        assert seen == [None]  # per thread, as the connections are
        with pytest.raises(ServingError) as bad_id:
            client.predict("double", [{"y": 1}], request_id="two words")
        assert bad_id.value.status == 400 and client.last_request_id is None

        stored = client.feedback(
            "double",
            [{"request_id": drawn, "label": 3.5}, {"request_id": "mine", "label": 2, "row": 1}],
        )
        assert stored["stored"] == 2
        with pytest.raises(ServingError, match=r"feedback\[0\].label") as bad:
            client.feedback("double", [{"request_id": drawn}])
        assert bad.value.status == 400
    table = pq.read_table(stored["file"]).to_pydict()
    assert (table["request_id"], table["row"], table["label"]) == (
        [drawn, "mine"],
        [0, 1],
        ["3.5", "2"],
    )
    logged = pq.read_table(sorted((logs / "double" / "1").glob("*.parquet"))).to_pydict()
    assert logged["request_id"] == [drawn, "mine", "mine", "k"]


EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "client" / "feedback.py"


def test_the_docs_feedback_example_is_the_tested_file_and_runs(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    docs = (EXAMPLE.parents[2] / "monitoring.md").read_text()
    section = docs.split("## Feedback and decay", 1)[1]
    snippet = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert snippet in EXAMPLE.read_text()
    models = [ModelConfig("penguins", classifier(tmp_path_factory).parent)]
    log = RequestLogOptions(tmp_path / "logs", sample=1.0, flush_s=3600)
    with RunningServer(models, request_log=log) as server:
        env = {**os.environ, "SHIPYARD_SERVER": f"http://127.0.0.1:{server.port}"}
        result = subprocess.run(
            [sys.executable, str(EXAMPLE)], env=env, capture_output=True, text=True, check=True
        )
    lines = result.stdout.splitlines()
    assert "class_labels" in lines[0] and "'stored': 1" in lines[1]
    (stored,) = (tmp_path / "logs" / "penguins" / "feedback").iterdir()
    assert pq.read_table(stored).column("label").to_pylist() == ["Gentoo"]
