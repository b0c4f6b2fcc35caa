"""Where a request's time goes inside Shipyard's predict handler, timed in-process.

The handler's stages, each called on its own with the same request, as `shipyard serve`
runs them for `POST /v1/models/NAME:predict` with `instances`: decode and check the JSON
object, build the feed from the rows, `session.run`, turn the outputs into rows, serialize
the response; and, apart, the hop to the thread pool that small requests no longer pay
(they run on the event loop; see `shipyard.serving.inference`). What the server spends
beyond their sum (its CPU time per request, from the load) goes to the HTTP server
(uvicorn), the inference front (`shipyard.serving.front`: routing, the body, metrics) and
the registry; the floor server measures uvicorn alone, and `--in-process` compares the
whole app with the minimal one without HTTP.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from peers.load import median, run_async
from peers.servers import MODEL_NAME, latest_version, request_bodies

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

_PREDICT_KEYS = {"signature_name": False, "instances": False, "inputs": False}


def _median_us(call: Callable[[], Any], calls: int) -> float:
    for _ in range(min(100, calls)):
        call()
    timings = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        timings.append(time.perf_counter() - started)
    return median(timings) * 1e6


def _thread_hop_us(calls: int) -> float:
    """Median round trip of a no-op through Starlette's `run_in_threadpool` (on uvloop)."""
    from starlette.concurrency import run_in_threadpool

    async def hops() -> list[float]:
        timings = []
        for _ in range(calls + 100):
            started = time.perf_counter()
            await run_in_threadpool(lambda: None)
            timings.append(time.perf_counter() - started)
        return timings[100:]

    return median(run_async(hops())) * 1e6


def _stages(loaded: Any, body: bytes, functions: tuple[Any, ...]) -> dict[str, Callable[[], Any]]:
    """The handler's stages on `body`, each a call with its inputs made in advance."""
    parse_object, predict, json_response = functions
    payload = parse_object(body, keys=_PREDICT_KEYS)
    call = predict(loaded, payload)
    outputs = loaded.run(call.feed, call.outputs)
    content = call.answer(outputs)
    return {
        "JSON body to object (parse_object)": lambda: parse_object(body, keys=_PREDICT_KEYS),
        "rows to feed (tf_serving_api.predict)": lambda: predict(loaded, payload),
        "session.run (LoadedModel.run)": lambda: loaded.run(call.feed, call.outputs),
        "outputs to rows (Call.answer)": lambda: call.answer(outputs),
        "content to JSON (json_response)": lambda: json_response(content),
    }


def print_breakdown(
    model: Path, rows: list[dict[str, object]], sizes: list[int], *, threads: int, calls: int = 2000
) -> None:
    """Print the median time of each stage of the handler for every request size."""
    from shipyard.serving.config import RuntimeOptions
    from shipyard.serving.loaded_model import LoadedModel
    from shipyard.serving.messages import json_response, parse_object
    from shipyard.serving.tf_serving_api import predict

    stages = (parse_object, predict, json_response)
    version = latest_version(model)
    loaded = LoadedModel.load(
        name=MODEL_NAME,
        version=int(version.name),
        base_path=model,
        runtime=RuntimeOptions(intra_op_threads=threads, inter_op_threads=threads),
    )
    hop = _thread_hop_us(calls)
    print(f"\nShipyard's predict handler, in-process (median of {calls} calls, microseconds):")
    print("| stage | " + " | ".join(f"{n} instance(s)" for n in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    found: dict[str, list[float]] = {}
    for size in sizes:
        body = request_bodies("instances", rows, size, seed=0)[0]
        times = {
            name: _median_us(call, calls) for name, call in _stages(loaded, body, stages).items()
        }
        times["handler total (on the event loop)"] = sum(times.values())
        times["thread-pool hop (run_in_threadpool), for a costly run only"] = hop
        for name, value in times.items():
            found.setdefault(name, []).append(value)
    for name, values in found.items():
        print(f"| {name} | " + " | ".join(f"{v:,.0f}" for v in values) + " |")
    loaded.retire()
