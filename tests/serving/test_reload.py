"""Hot reload under load: versions come and go while requests keep flowing, none is lost."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

from shipyard.serving.config import ModelConfig
from shipyard.serving.registry import VersionStatus
from tests.serving.conftest import add_version
from tests.serving.server import RunningServer

REQUEST = {
    "inputs": [
        {"name": "island", "shape": [2, 1], "datatype": "BYTES", "data": ["Biscoe", "Dream"]},
        {"name": "sex", "shape": [2, 1], "datatype": "BYTES", "data": ["male", "female"]},
        {"name": "bill_length_mm", "shape": [2, 1], "datatype": "FP32", "data": [39.1, 48.0]},
    ]
}


def _wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_versions_switch_under_load_without_losing_a_request(
    trained: dict[str, Path], tmp_path: Path
) -> None:
    add_version(tmp_path, 1, trained["penguins"])
    with RunningServer([ModelConfig("penguins", tmp_path)], poll_s=0.1) as server:
        stop = threading.Event()
        answers: list[list[tuple[int, str | None]]] = [[], []]

        def send(into: list[tuple[int, str | None]]) -> None:
            while not stop.is_set():
                status, body = server.post("/v2/models/penguins/infer", REQUEST)
                into.append((status, body.get("model_version")))

        senders = [threading.Thread(target=send, args=(answer,)) for answer in answers]
        for sender in senders:
            sender.start()

        def serving(version: str) -> Callable[[], bool]:
            return lambda: all(a and a[-1][1] == version for a in answers)

        try:
            _wait_for(serving("1"), "version 1")
            add_version(tmp_path, 2, trained["penguins"])  # atomic, as push writes
            _wait_for(serving("2"), "version 2 to take over")
            shutil.copytree(trained["penguins"], tmp_path / "3")  # not atomic: may load late
            _wait_for(serving("3"), "version 3 to take over")
            shutil.rmtree(tmp_path / "3")  # the latest is withdrawn: back to 2
            _wait_for(serving("2"), "version 2 to come back")
        finally:
            stop.set()
            for sender in senders:
                sender.join(30)
        assert server.registry.status("penguins") == [VersionStatus(2, "AVAILABLE")]

    for answer in answers:
        assert {status for status, _ in answer} == {200}
        versions = [int(version or 0) for _, version in answer]
        switches = [v for i, v in enumerate(versions) if i == 0 or v != versions[i - 1]]
        assert switches == [1, 2, 3, 2]  # each sender saw every switch once, in order
