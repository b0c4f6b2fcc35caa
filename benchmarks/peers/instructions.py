"""Instructions per request over HTTP, counted by callgrind: a figure other jobs cannot move.

On a shared machine, requests/s and even CPU seconds per request swing by 30-50% from run
to run (other jobs evict the caches, the scheduler splits the cores), far more than the
differences between the servers. The instructions a server executes per request do not
depend on the load: `--instructions` starts `shipyard serve` and the minimal app each under
valgrind's callgrind with instrumentation off, sends each the same requests over HTTP
(keep-alive connections on 127.0.0.1, `concurrency` of them), turns the count on only for
`requests` of them after a warm-up, and divides. Every thread of the server is counted:
the HTTP server, the app, ONNX Runtime, the collector; the kernel's side of the sockets is
not (the same system calls for both servers: two writes and a read per request).

Instructions are not time: a Python instruction, a cache miss and ONNX Runtime's vector
loop cost different times, so this is for telling where the servers' work differs, beside
the CPU seconds of the wrk and Python load runs, not instead of them. Under valgrind every
run is some 50 times slower, which would make `shipyard serve` estimate its model runs
(timed when a version loads) at 50 times their cost and send them to the thread pool; it
gets `--inline-run-micros` large enough to make the choice it makes at full speed (every
census request on the event loop). Needs valgrind (`apt-get install valgrind`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from peers.load import run_async
from peers.servers import Server, request_bodies, started

if TYPE_CHECKING:
    from peers.servers import Running

INLINE_AS_AT_FULL_SPEED = ["--inline-run-micros", "1000000000"]
"""`shipyard serve`'s flags under callgrind (see the module docstring)."""
_WARMUP_REQUESTS = 100
_START_TIMEOUT_S = 900.0


def valgrind_path() -> str:
    """The valgrind executable.

    Raises:
        SystemExit: valgrind is not installed (the message says how to install it).
    """
    found = shutil.which("valgrind")
    if found is None:
        raise SystemExit("--instructions needs valgrind on PATH: apt-get install valgrind.")
    return found


def under_callgrind(server: Server, out_dir: Path) -> Server:
    """`server` started under callgrind, counting nothing until told to."""
    inner = server.command
    prefix = [valgrind_path(), "--tool=callgrind", "--instr-atstart=no"]
    prefix.append(f"--callgrind-out-file={out_dir}/{server.name}.%p.out")

    def command(port: int) -> list[str]:
        return [*prefix, *inner(port)]

    return dataclasses.replace(server, command=command)


def count_instructions(
    servers: list[Server],
    rows: list[dict[str, object]],
    sizes: list[int],
    concurrency: list[int],
    *,
    requests: int,
) -> dict[tuple[str, int, int], float]:
    """Instructions per request of each server, for every size and concurrency.

    The servers run one after the other (each under valgrind needs a core of its own).
    """
    found: dict[tuple[str, int, int], float] = {}
    with tempfile.TemporaryDirectory(prefix="shipyard-callgrind-") as tmp:
        for server in servers:
            counted = under_callgrind(server, Path(tmp))
            with started(counted, start_timeout_s=_START_TIMEOUT_S) as each:
                for size in sizes:
                    raw = each.requests(request_bodies(server.body_format, rows, size, seed=0))
                    for clients in concurrency:
                        total = _counted(each, raw, clients, requests, Path(tmp))
                        found[(server.name, size, clients)] = total / requests
                        print(
                            f"  {server.name:<10} {size:>3} rows, c={clients:<3} "
                            f"{total / requests:>12,.0f} instructions/request"
                        )
    return found


def _counted(each: Running, raw: list[bytes], clients: int, requests: int, out_dir: Path) -> int:
    """Send a warm-up, then `requests` counted; return the instructions they took."""
    pid = each.process.pid  # valgrind runs the program in its own process

    def control(*args: str) -> None:
        subprocess.run(["callgrind_control", *args, str(pid)], check=True, capture_output=True)

    run_async(_send(each.port, raw, _WARMUP_REQUESTS, clients))
    control("--instr=on")
    run_async(_send(each.port, raw, clients * 4, clients))  # the instrumented code warm
    control("--zero")
    run_async(_send(each.port, raw, requests, clients))
    before = set(out_dir.glob(f"*.{pid}.out.*"))
    control("--dump")
    control("--instr=off")
    (dump,) = set(out_dir.glob(f"*.{pid}.out.*")) - before
    return _total(dump.read_text())


def _total(dump: str) -> int:
    """The instruction total of a callgrind dump.

    Raises:
        SystemExit: The dump has no total.
    """
    found = re.search(r"^(?:summary|totals): (\d+)", dump, re.MULTILINE)
    if found is None:
        raise SystemExit("A callgrind dump without a total: is this valgrind's callgrind?")
    return int(found.group(1))


async def _send(port: int, raw: list[bytes], requests: int, clients: int) -> None:
    """Send exactly `requests` requests over `clients` keep-alive connections.

    Raises:
        SystemExit: An answer other than 200.
    """
    left = [requests]

    async def client(first: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        turn = first
        try:
            while left[0] > 0:
                left[0] -= 1
                writer.write(raw[turn % len(raw)])
                turn += 1
                head = await reader.readuntil(b"\r\n\r\n")
                if not head.startswith(b"HTTP/1.1 200"):
                    raise SystemExit(f"The server answered {head[:200]!r}")
                await reader.readexactly(_content_length(head))
        finally:
            writer.close()
            await writer.wait_closed()

    await asyncio.gather(*(client(k * 7) for k in range(clients)))


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    raise SystemExit(f"An answer without Content-Length: {head[:200]!r}")


def print_instructions(found: dict[tuple[str, int, int], float], ours: str, theirs: str) -> None:
    """Print the table of instructions per request, ours against theirs, with the ratio."""
    print(f"\n| rows | concurrency | {ours} | {theirs} | ratio |")
    print("|---|---|---|---|---|")
    for (name, size, clients), count in sorted(found.items(), key=lambda item: item[0][1:]):
        other = found.get((theirs, size, clients))
        if name == ours and other:
            print(f"| {size} | {clients} | {count:,.0f} | {other:,.0f} | {count / other:.3f}x |")
