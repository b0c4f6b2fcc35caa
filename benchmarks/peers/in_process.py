"""Shipyard's app against the minimal app in one process: ASGI calls, no HTTP, CPU time.

Both apps are built in this process and called through ASGI the way uvicorn calls them (a
scope, a `receive` that hands the body, a `send` that keeps the answer), on one uvloop
event loop, taking turns in rounds so that the machine's other jobs weigh on both alike.
Each round times `calls` requests of one app with the process's CPU clock; the figure is
the minimum over the rounds (the least disturbed), in microseconds of CPU per request.
What this leaves out, the HTTP server, is the same for both apps; what it measures is
Shipyard's own cost above the minimal handler's. The Python calls of one 1-row request of
each app are counted with cProfile. Then `concurrency` callers at once send 32-row
requests to Shipyard with batching (its defaults) and to the minimal app: the CPU of every
thread of the process per request, and the requests each app answers per second of wall
time, which the batch thread's run beside the event loop raises where a core is free.

    python benchmarks/serving.py --in-process [--instances 1,32] [--concurrency 1,8,32]
"""

from __future__ import annotations

import cProfile
import pstats
import statistics
import time
from typing import TYPE_CHECKING, Any

from peers.servers import MODEL_NAME, latest_version, request_bodies

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from pathlib import Path

    App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def _scope(path: str, body: bytes) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def call(app: App, path: str, body: bytes) -> tuple[int, bytes]:
    """Send one POST through `app`; return its status and body."""
    message = {"type": "http.request", "body": body, "more_body": False}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return message

    async def send(reply: dict[str, Any]) -> None:
        sent.append(reply)

    await app(_scope(path, body), receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def _apps(model: Path, *, batching: bool = False) -> dict[str, App]:
    """Shipyard's app as `serve` builds it by default (with batching: `--enable-batching`)
    and the minimal app."""
    from peers.minimal_app import build_app as build_minimal
    from shipyard.serving.app import build_app
    from shipyard.serving.config import BatchingOptions, ModelConfig, ServerOptions

    options = ServerOptions(batching=BatchingOptions() if batching else None)
    shipyard = build_app([ModelConfig(MODEL_NAME, model)], options)
    shipyard.state.registry.sync()
    onnx = latest_version(model) / "model.onnx"
    name = "shipyard+batching" if batching else "shipyard"
    return {name: shipyard, "minimal": build_minimal(str(onnx), name=MODEL_NAME, threads=1)}


def compare(
    model: Path, rows: list[dict[str, object]], sizes: list[int], concurrency: list[int]
) -> None:
    """Print each app's CPU microseconds per request, and their ratio, for every size."""
    import uvloop

    apps = _apps(model)
    path = f"/v1/models/{MODEL_NAME}:predict"

    async def measure(size: int, rounds: int = 12, calls: int = 500) -> dict[str, float]:
        bodies = request_bodies("instances", rows, size, seed=0)
        best = dict.fromkeys(apps, float("inf"))
        for name, app in apps.items():  # warm up, and check every answer is a 200
            for body in bodies:
                status, text = await call(app, path, body)
                assert status == 200, (name, text[:200])
        for _ in range(rounds):
            for name, app in apps.items():
                started = time.process_time()
                for i in range(calls):
                    await call(app, path, bodies[i % len(bodies)])
                best[name] = min(best[name], (time.process_time() - started) / calls * 1e6)
        return best

    print("\nIn-process ASGI calls, CPU microseconds per request (min of 12 rounds x 500):")
    print("| rows | shipyard | minimal | ratio |\n|---|---|---|---|")
    for size in sizes:
        best = uvloop.run(measure(size))
        ratio = best["shipyard"] / best["minimal"]
        print(f"| {size} | {best['shipyard']:.0f} | {best['minimal']:.0f} | {ratio:.2f}x |")
    body = request_bodies("instances", rows, 1, seed=0)[0]
    for name, app in apps.items():
        profile = cProfile.Profile()

        async def once(app: App = app, profile: cProfile.Profile = profile) -> None:
            profile.enable()
            await call(app, path, body)
            profile.disable()

        uvloop.run(once())
        calls_made = pstats.Stats(profile).total_calls  # type: ignore[attr-defined]
        print(f"Python calls in one 1-row request, {name}: {calls_made}")
    compare_batching(model, rows, [c for c in concurrency if c > 1])


def compare_batching(
    model: Path, rows: list[dict[str, object]], concurrency: list[int], size: int = 32
) -> None:
    """Print CPU per request (every thread) and requests/s of concurrent callers."""
    import asyncio

    import uvloop

    apps = _apps(model, batching=True)
    path = f"/v1/models/{MODEL_NAME}:predict"
    bodies = request_bodies("instances", rows, size, seed=0)

    async def caller(app: App, calls: int, first: int) -> None:
        for i in range(calls):
            status, text = await call(app, path, bodies[(first + i) % len(bodies)])
            assert status == 200, text[:200]

    async def measure(callers: int, rounds: int = 7, calls: int = 200) -> dict[str, list[float]]:
        found: dict[str, list[float]] = {name: [] for name in apps}
        for app in apps.values():  # warm up
            await asyncio.gather(*(caller(app, 20, k) for k in range(callers)))
        for _ in range(rounds):
            for name, app in apps.items():
                cpu, wall = time.process_time(), time.perf_counter()
                await asyncio.gather(*(caller(app, calls, k * 7) for k in range(callers)))
                total = calls * callers
                found[name].append((time.process_time() - cpu) / total * 1e6)
                found[name].append(total / (time.perf_counter() - wall))
        return found

    print(f"\nIn-process ASGI calls, {size} rows, concurrent callers (median of 7 rounds):")
    print("| callers | app | CPU us/request (all threads) | requests/s (wall) |")
    print("|---|---|---|---|")
    for callers in concurrency:
        found = uvloop.run(measure(callers))
        for name, figures in found.items():
            cpu, rate = statistics.median(figures[0::2]), statistics.median(figures[1::2])
            print(f"| {callers} | {name} | {cpu:.0f} | {rate:,.0f} |")
