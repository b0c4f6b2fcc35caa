"""Server-side batching: the scheduler on its own, then through a real server."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from shipyard.artifacts import Model
from shipyard.errors import QueueFullError
from shipyard.serving.batching import BatchQueue, BatchScheduler
from shipyard.serving.config import BatchingOptions, ModelConfig
from tests.serving.conftest import add_version, penguin_rows
from tests.serving.server import RunningServer


class FakeModel:
    """Doubles `x`; refuses negative values as ONNX Runtime refuses bad ones; records runs."""

    def __init__(self) -> None:
        self.runs: list[int] = []
        self.gate = threading.Event()
        self.gate.set()
        self.running = threading.Event()

    def run(self, feed: dict[str, np.ndarray], outputs: list[str] | None) -> dict[str, Any]:
        self.running.set()
        self.gate.wait(10)
        x = feed["x"]
        self.runs.append(len(x))
        if (x < 0).any():
            raise ValueError("negative")
        every = {"double": x[:, 0] * 2, "pairs": np.hstack([x, x])}
        return {name: every[name] for name in outputs or every}


def _feed(*values: float) -> dict[str, np.ndarray]:
    return {"x": np.array(values, dtype=np.float32).reshape(-1, 1)}


@pytest.fixture
def model() -> FakeModel:
    return FakeModel()


def _scheduler(**options: int) -> Iterator[BatchScheduler]:
    scheduler = BatchScheduler(BatchingOptions(**({"num_batch_threads": 1} | options)))
    yield scheduler
    scheduler.close()


@pytest.fixture
def waiting() -> Iterator[BatchScheduler]:
    """Batches of up to 4 rows that wait a minute to fill: only a full batch runs early."""
    yield from _scheduler(max_batch_size=4, batch_timeout_micros=60_000_000)


def _keep(outputs: dict[str, np.ndarray]) -> dict[str, list[Any]]:
    return {name: value.tolist() for name, value in outputs.items()}


def _submit(
    queue: BatchQueue, feed: dict[str, np.ndarray], outputs: list[str] | None, answer: Any = _keep
) -> Future[Any]:
    """Submit a request; its future gets the answer or the error."""
    future: Future[Any] = Future()

    def done(result: Any, error: Exception | None) -> None:
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)

    queue.submit(feed, outputs, len(feed["x"]), answer, done)
    return future


def test_requests_that_fill_a_batch_run_once_and_get_their_own_rows(
    waiting: BatchScheduler, model: FakeModel
) -> None:
    queue = waiting.queue(model.run, name="m", version=1)
    first = _submit(queue, _feed(1, 2), ["double"])
    second = _submit(queue, _feed(3), ["pairs"])
    assert not first.done()  # 3 rows of 4: the batch waits
    third = _submit(queue, _feed(4), None)  # 4 rows: full, runs at once
    assert first.result(10) == {"double": [2.0, 4.0]}
    assert second.result(10) == {"pairs": [[3.0, 3.0]]}
    assert third.result(10) == {"double": [8.0], "pairs": [[4.0, 4.0]]}
    assert model.runs == [4]


def test_at_low_load_a_lone_request_does_not_wait_out_the_window(model: FakeModel) -> None:
    """The window adapts: once requests come further apart than it, none waits for company."""
    for scheduler in _scheduler(max_batch_size=4, batch_timeout_micros=200_000):
        queue = scheduler.queue(model.run, name="m", version=1)
        queue.last_arrival -= 10  # the previous request came long ago ...
        queue.gap_s = 0.4  # ... and so did the ones before (gaps count up to twice the window)
        started = time.monotonic()
        assert _submit(queue, _feed(1), None).result(10) == {"double": [2.0], "pairs": [[1, 1]]}
        assert time.monotonic() - started < 0.1  # not the 200 ms window
        busy = [_submit(queue, _feed(i), ["double"]) for i in range(8)]  # a burst: batched
        assert [f.result(10)["double"] for f in busy] == [[2.0 * i] for i in range(8)]
        assert model.runs[0] == 1 and len(model.runs) < 1 + 8


def test_a_request_over_max_batch_size_runs_alone_and_closes_the_open_batch(
    waiting: BatchScheduler, model: FakeModel
) -> None:
    queue = waiting.queue(model.run, name="m", version=1)
    small = _submit(queue, _feed(1), None)
    large = _submit(queue, _feed(*range(10)), None)
    assert large.result(10)["double"] == [2.0 * i for i in range(10)]
    assert small.result(10)["double"] == [2.0]
    assert model.runs == [1, 10]  # not split; the open batch went first


def test_a_batch_runs_after_the_timeout_when_not_full(model: FakeModel) -> None:
    for scheduler in _scheduler(max_batch_size=64, batch_timeout_micros=20_000):
        queue = scheduler.queue(model.run, name="m", version=1)
        futures = [_submit(queue, _feed(i), None) for i in range(3)]
        assert [f.result(10)["double"] for f in futures] == [[0.0], [2.0], [4.0]]
        assert sum(model.runs) == 3


def test_a_request_the_model_refuses_fails_alone(waiting: BatchScheduler, model: FakeModel) -> None:
    queue = waiting.queue(model.run, name="m", version=1)
    good = _submit(queue, _feed(1, 2), None)
    bad = _submit(queue, _feed(-1), None)
    other = _submit(queue, _feed(3), None)
    assert good.result(10)["double"] == [2.0, 4.0]
    assert other.result(10)["double"] == [6.0]
    with pytest.raises(ValueError, match="negative"):
        bad.result(10)
    assert model.runs == [4, 2, 1, 1]  # the batch, then each request alone


def test_a_full_queue_sheds_load_and_the_queued_requests_still_run(model: FakeModel) -> None:
    for scheduler in _scheduler(max_batch_size=1, max_enqueued_batches=2):
        queue = scheduler.queue(model.run, name="m", version=7)
        model.gate.clear()
        running = _submit(queue, _feed(1), None)
        assert model.running.wait(10)  # the only thread is busy with it
        queued = [_submit(queue, _feed(2), None), _submit(queue, _feed(3), None)]
        with pytest.raises(QueueFullError, match=r"'m' \(version 7\) has 2 batches waiting"):
            _submit(queue, _feed(4), None)
        model.gate.set()
        assert [f.result(10)["double"] for f in [running, *queued]] == [[2.0], [4.0], [6.0]]


def test_close_runs_what_is_queued(model: FakeModel) -> None:
    scheduler = BatchScheduler(
        BatchingOptions(max_batch_size=8, batch_timeout_micros=60_000_000, num_batch_threads=2)
    )
    queue = scheduler.queue(model.run, name="m", version=1)
    pending = _submit(queue, _feed(5), None)
    scheduler.close()
    assert pending.result(0)["double"] == [10.0]


def test_an_error_while_answering_fails_that_request_only(
    waiting: BatchScheduler, model: FakeModel
) -> None:
    def broken(outputs: dict[str, np.ndarray]) -> None:
        raise RuntimeError("bug")

    queue = waiting.queue(model.run, name="m", version=1)
    failing = _submit(queue, _feed(1, 2), None, broken)
    fine = _submit(queue, _feed(3, 4), None)
    assert fine.result(10)["double"] == [6.0, 8.0]
    with pytest.raises(RuntimeError, match="bug"):
        failing.result(10)


def _columns(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    return {key: [row.get(key) for row in rows] for key in rows[0]}


def test_a_batching_server_answers_as_model_predict(
    trained: dict[str, Path], tmp_path: Path
) -> None:
    add_version(tmp_path, 1, trained["penguins"])
    rows = penguin_rows(every=10)
    expected = Model(trained["penguins"]).predict(_columns(rows))["class_labels"].tolist()
    batching = BatchingOptions(max_batch_size=64, batch_timeout_micros=200_000)
    with RunningServer([ModelConfig("penguins", tmp_path)], batching=batching) as server:

        def predict(start: int) -> list[str]:
            chunk = rows[start : start + 3]
            status, body = server.post("/v1/models/penguins:predict", {"instances": chunk})
            assert status == 200, body
            return [prediction["class_labels"] for prediction in body["predictions"]]

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(predict, range(0, len(rows), 3)))
        assert [label for answer in answers for label in answer] == expected
        status, body = server.post("/v1/models/penguins:classify", {"examples": rows[:2]})
        assert status == 200 and len(body["results"]) == 2
        metrics = server.fetch("GET", "/metrics")[2].decode()
    runs = _sample(metrics, 'shipyard_batch_size_count{model="penguins",version="1"}')
    assert (
        _sample(metrics, 'shipyard_batch_size_sum{model="penguins",version="1"}') == len(rows) + 2
    )
    assert runs < len(answers) + 1  # requests shared runs


def test_a_full_queue_answers_503_with_an_error_body(
    trained: dict[str, Path], tmp_path: Path, penguin_row: dict[str, Any]
) -> None:
    add_version(tmp_path, 1, trained["penguins"])
    batching = BatchingOptions(max_batch_size=1, max_enqueued_batches=1, num_batch_threads=1)
    with RunningServer([ModelConfig("penguins", tmp_path)], batching=batching) as server:
        with server.registry.acquire("penguins") as loaded:
            queue = loaded.batches
        assert queue is not None
        run, gate, busy = queue.run, threading.Event(), threading.Event()

        def blocking_run(*args: Any) -> Any:
            busy.set()
            gate.wait(10)
            return run(*args)

        queue.run = blocking_run
        body = {"instances": [penguin_row]}
        with ThreadPoolExecutor(2) as pool:
            first = pool.submit(server.post, "/v1/models/penguins:predict", body)
            assert busy.wait(10)
            second = pool.submit(server.post, "/v1/models/penguins:predict", body)
            while not queue.batches:  # the second request waits in the queue
                threading.Event().wait(0.01)
            status, error = server.post("/v1/models/penguins:predict", body)
            gate.set()
            assert first.result()[0] == second.result()[0] == 200
    assert status == 503 and list(error) == ["error"]
    assert "--max-enqueued-batches" in error["error"]


def _sample(text: str, name: str) -> float:
    (line,) = [line for line in text.splitlines() if line.startswith(name + " ")]
    return float(line.split()[-1])
