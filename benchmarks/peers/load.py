"""The load generator of `benchmarks/serving.py`: closed-loop HTTP/1.1 load on raw sockets.

`concurrency` keep-alive connections on one event loop (uvloop when installed); each sends
its next request as soon as its last one is answered. Requests are encoded in advance and
responses are read by their Content-Length, so the generator spends little CPU per request
(its share of a core is reported with every cell). Requests answered during the measured
window count; the warm-up before it and the requests still in flight after it do not.
"""

from __future__ import annotations

import asyncio
import math
import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

if TYPE_CHECKING:
    from collections.abc import Coroutine, Iterable

T = TypeVar("T")

_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


@dataclass
class Cell:
    """One measured cell: a server at one concurrency and request size."""

    concurrency: int
    instances: int = 1
    requests_per_s: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    errors: int = 0
    server_cpu_ms_per_request: float = 0.0
    client_cpu: float = 0.0


class _Window:
    """The measured window and what was answered in it."""

    def __init__(self, requests: list[bytes], start_at: float, stop_at: float) -> None:
        self.requests = requests
        self.start_at = start_at
        self.stop_at = stop_at
        self.latencies_s: list[float] = []
        self.errors = 0

    def record(self, sent: float, answered: float, ok: bool) -> None:
        if self.start_at <= answered <= self.stop_at:
            self.latencies_s.append(answered - sent)
            self.errors += not ok


class _Connection(asyncio.Protocol):
    """One keep-alive connection with at most one request in flight."""

    def __init__(self, window: _Window, first: int) -> None:
        self.window = window
        self.next = first
        self.buffer = bytearray()
        self.length: int | None = None
        self.head = 0
        self.status = 0
        self.sent = 0.0
        self.finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast("asyncio.Transport", transport)  # uvloop's is no subclass
        self._send()

    def _send(self) -> None:
        assert self.transport is not None
        requests = self.window.requests
        self.sent = time.monotonic()
        self.transport.write(requests[self.next % len(requests)])
        self.next += 1

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.length is None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            self.status, self.length = _parse_head(bytes(self.buffer[:end]))
            self.head = end + 4
        if len(self.buffer) < self.head + self.length:
            return
        answered = time.monotonic()
        del self.buffer[: self.head + self.length]
        self.length = None
        self.window.record(self.sent, answered, self.status == 200)
        if answered < self.window.stop_at:
            self._send()
        else:
            self._finish()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.finished.done():
            self.window.errors += 1  # closed by the server with a request in flight
            self.finished.set_result(None)

    def _finish(self) -> None:
        if not self.finished.done():
            self.finished.set_result(None)
        assert self.transport is not None
        self.transport.close()


def median(values: Iterable[float]) -> float:
    """The median of `values`."""
    return float(statistics.median(values))


def _parse_head(head: bytes) -> tuple[int, int]:
    """The status and Content-Length of a response head."""
    status = int(head[9:12])
    lower = head.lower()
    start = lower.find(b"\r\ncontent-length:")
    if start < 0:
        raise RuntimeError(f"A response without Content-Length: {head[:200]!r}")
    end = lower.find(b"\r\n", start + 2)
    return status, int(lower[start + 17 : end if end >= 0 else None])


def run_async(main: Coroutine[Any, Any, T]) -> T:
    """Run `main` on uvloop when it is installed (Shipyard depends on it), else on asyncio."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def cpu_s(pids: list[int]) -> float:
    """User and system CPU seconds of `pids` (all their threads), from /proc."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICKS_PER_S


def process_tree(root: int) -> list[int]:
    """`root` and every process descending from it."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                parent = int(Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


async def run_cell(
    port: int,
    requests: list[bytes],
    *,
    concurrency: int,
    warmup_s: float,
    duration_s: float,
    server_pids: list[int],
) -> Cell:
    """Run `concurrency` connections for `warmup_s + duration_s` seconds; measure the end."""
    loop = asyncio.get_running_loop()
    start_at = loop.time() + warmup_s
    window = _Window(requests, start_at, start_at + duration_s)
    samples: dict[str, tuple[float, float]] = {}

    def sample(when: str) -> None:
        samples[when] = (cpu_s(server_pids), time.process_time())

    loop.call_at(window.start_at, sample, "start")
    loop.call_at(window.stop_at, sample, "stop")
    step = max(1, len(requests) // concurrency)
    connections = []
    for index in range(concurrency):
        _, connection = await loop.create_connection(
            lambda index=index: _Connection(window, index * step), "127.0.0.1", port
        )
        connections.append(connection)
    pending = [c.finished for c in connections]
    _, stuck = await asyncio.wait(pending, timeout=warmup_s + duration_s + 60)
    for connection in connections:
        if connection.transport is not None:
            connection.transport.close()
    window.errors += len(stuck)
    latencies = sorted(window.latencies_s)
    count = len(latencies)
    server_s = samples["stop"][0] - samples["start"][0]
    client_s = samples["stop"][1] - samples["start"][1]
    return Cell(
        concurrency=concurrency,
        requests_per_s=count / duration_s,
        p50_ms=latencies[count // 2] * 1e3 if count else float("nan"),
        p99_ms=latencies[math.ceil(count * 0.99) - 1] * 1e3 if count else float("nan"),
        errors=window.errors,
        server_cpu_ms_per_request=server_s * 1e3 / count if count else float("nan"),
        client_cpu=client_s / duration_s,
    )
