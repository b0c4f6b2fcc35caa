"""Where a request's work runs: on the event loop when it is cheap, else on a thread."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import TYPE_CHECKING, Any

import pytest

from shipyard.errors import DataError
from shipyard.serving.batching import BatchScheduler
from shipyard.serving.config import BatchingOptions, ModelConfig
from shipyard.serving.inference import Call, Inference, InlinePolicy
from shipyard.serving.loaded_model import RunCost
from shipyard.serving.registry import ModelRegistry
from shipyard.serving.tf_serving_api import predict
from tests.serving.conftest import add_version
from tests.serving.server import SINGLE_THREADED

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from shipyard.serving.loaded_model import LoadedModel


@pytest.fixture(scope="module")
def base(trained: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("inference") / "penguins"
    add_version(root, 1, trained["penguins"])
    return root


@pytest.fixture
def registry(base: Path) -> Iterator[ModelRegistry]:
    registry = ModelRegistry([ModelConfig("penguins", base)], SINGLE_THREADED)
    registry.sync()
    yield registry
    registry.close()


class Recorder:
    """Prepares a predict call and notes the threads that parse the body and answer it."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        self.parsed_on: int | None = None
        self.answered_on: int | None = None

    def prepare(self, model: LoadedModel) -> Call:
        self.parsed_on = threading.get_ident()
        call = predict(model, {"instances": self.rows}, "request-1")

        def answer(outputs: dict[str, Any]) -> Any:
            self.answered_on = threading.get_ident()
            return call.answer(outputs)

        return Call(call.feed, call.outputs, answer, call.request_id)


def _respond(inference: Inference, recorder: Recorder, body_bytes: int = 200) -> tuple[Any, int]:
    """Answer one request on a fresh event loop; return the content and the loop's thread."""

    async def main() -> Any:
        answer, request_id = await inference.respond(
            "penguins", body_bytes=body_bytes, prepare=recorder.prepare
        )
        assert request_id == "request-1"
        return json.loads(answer)

    return asyncio.run(main()), threading.get_ident()


def test_a_cheap_request_runs_on_the_event_loop(
    registry: ModelRegistry, penguin_row: dict[str, Any]
) -> None:
    recorder = Recorder([penguin_row])
    content, loop = _respond(Inference(registry), recorder)
    assert recorder.parsed_on == loop and recorder.answered_on == loop
    assert len(content["predictions"]) == 1


def test_every_request_goes_to_a_thread_when_the_run_budget_is_zero(
    registry: ModelRegistry, penguin_row: dict[str, Any]
) -> None:
    inline, threaded = Recorder([penguin_row]), Recorder([penguin_row])
    expected, _ = _respond(Inference(registry), inline)
    content, loop = _respond(Inference(registry, inline=InlinePolicy(max_run_s=0)), threaded)
    assert threaded.parsed_on not in (None, loop)
    assert threaded.answered_on == threaded.parsed_on
    assert content == expected


def test_a_large_body_is_parsed_and_run_on_a_thread(
    registry: ModelRegistry, penguin_row: dict[str, Any]
) -> None:
    recorder = Recorder([penguin_row])
    policy = InlinePolicy(max_body_bytes=1000)
    _, loop = _respond(Inference(registry, inline=policy), recorder, body_bytes=1001)
    assert recorder.parsed_on not in (None, loop)


def test_a_costly_run_leaves_the_loop_after_parsing(
    registry: ModelRegistry, penguin_row: dict[str, Any]
) -> None:
    with registry.acquire("penguins") as model:
        model.cost = RunCost(fixed_s=0.0001, per_row_s=0.0001)
    policy = InlinePolicy(max_run_s=0.001)
    cheap, costly = Recorder([penguin_row] * 10), Recorder([penguin_row] * 11)
    _, loop = _respond(Inference(registry, inline=policy), cheap)
    assert cheap.answered_on == loop
    _respond(Inference(registry, inline=policy), costly)
    assert costly.parsed_on == loop
    assert costly.answered_on not in (None, loop)


def test_with_batching_the_loop_parses_and_answers_and_a_batch_thread_runs(
    base: Path, penguin_row: dict[str, Any]
) -> None:
    scheduler = BatchScheduler(BatchingOptions(max_batch_size=8, num_batch_threads=1))
    registry = ModelRegistry([ModelConfig("penguins", base)], SINGLE_THREADED, scheduler=scheduler)
    registry.sync()
    ran_on: list[int] = []
    with registry.acquire("penguins") as model:
        assert model.batches is not None
        run = model.batches.run

        def recorded(feed: Any, outputs: Any) -> Any:
            ran_on.append(threading.get_ident())
            return run(feed, outputs)

        model.batches.run = recorded
    try:
        recorder = Recorder([penguin_row])
        content, loop = _respond(Inference(registry), recorder)
        assert recorder.parsed_on == loop
        assert recorder.answered_on == loop  # the batch thread only runs the model
        assert ran_on and loop not in ran_on
        assert len(content["predictions"]) == 1
    finally:
        scheduler.close()
        registry.close()


def test_a_bad_body_parsed_on_the_loop_raises_its_data_error(
    registry: ModelRegistry, penguin_row: dict[str, Any]
) -> None:
    recorder = Recorder([penguin_row | {"island": 3}])
    with pytest.raises(DataError, match=r"instances\[0\]\['island'\] must be a string"):
        _respond(Inference(registry), recorder)
    assert recorder.parsed_on == threading.get_ident()


def test_loading_measures_what_a_run_costs(registry: ModelRegistry) -> None:
    with registry.acquire("penguins") as model:
        cost = model.cost
    assert 0 < cost.fixed_s < 1
    assert cost.per_row_s >= 0
    assert cost.estimate_s(1) == cost.fixed_s
    assert cost.estimate_s(1000) >= cost.estimate_s(10) >= cost.fixed_s


def test_the_inline_policy_decides_by_body_size_and_estimated_cost() -> None:
    policy = InlinePolicy(max_run_s=0.001, max_body_bytes=100)
    assert policy.parses_inline(100) and not policy.parses_inline(101)
    assert not InlinePolicy(max_run_s=0).parses_inline(10)
    assert RunCost(fixed_s=0.0005, per_row_s=0.0001).estimate_s(6) == pytest.approx(0.001)
    assert policy.max_inline_rows(RunCost(fixed_s=0.0001, per_row_s=0.0001)) == 10
    assert policy.max_inline_rows(RunCost(fixed_s=0.0005, per_row_s=0.0001)) == 6
    assert policy.max_inline_rows(RunCost(fixed_s=0.002, per_row_s=0.0)) == 0
    assert policy.max_inline_rows(RunCost(fixed_s=0.0001, per_row_s=0.0)) > 10**9
    for per_row_s in (3e-7, 7e-6, 1.1e-5):  # the limit is exact, whatever the rounding
        rows = policy.max_inline_rows(RunCost(fixed_s=0.0002, per_row_s=per_row_s))
        cost = RunCost(fixed_s=0.0002, per_row_s=per_row_s)
        assert cost.estimate_s(rows) <= 0.001 < cost.estimate_s(rows + 1)
