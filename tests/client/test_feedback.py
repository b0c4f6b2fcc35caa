"""The client's request ids (`last_request_id`, `request_id=`) and `feedback`, on a real server
that keeps a request log."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import pyarrow.parquet as pq
import pytest

from shipyard.client import Client, ServingError
from shipyard.serving.config import ModelConfig, RequestLogOptions
from tests.client.models import regressor
from tests.serving.server import RunningServer

if TYPE_CHECKING:
    from pathlib import Path


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
