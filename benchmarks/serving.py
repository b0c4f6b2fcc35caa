"""Serving throughput and latency of the census DNN: `shipyard serve` against its peers.

Serves the census example's DNN (hidden units 100, 70, 50, 25; trained once into
`benchmarks/.data/serving/`) and runs a closed-loop load on 127.0.0.1: `--concurrency`
keep-alive connections, each sending its next request as soon as the last one is answered,
every request carrying `--instances` rows sampled from the census data; `--duration` seconds
are measured after `--warmup` seconds. Each cell reports requests/s, rows/s, p50 and p99
latency, errors, the server's CPU time per request (all its processes, from /proc: less
sensitive to other jobs on the machine than throughput) and the load generator's CPU use.

Two load generators (`--load`): `python` (default), one event loop on raw sockets with
requests encoded in advance (peers/load.py); and `wrk`, the C load generator, with one
thread and a Lua script sending the same bodies (peers/wrk.py). Install wrk with
`apt-get install wrk` (Debian, Ubuntu) or `brew install wrk` (macOS).

Servers, each started as a subprocess with one process (uvicorn worker):

    shipyard           shipyard serve --model-base-path DIR [...args], with serve's defaults
                       (ONNX Runtime threads included) unless --threads is given
    shipyard+batching  the same with --enable-batching [--batching-args], if serve has it
    minimal            peers/minimal_app.py, in Shipyard's venv: the fastest minimal app,
                       Starlette `async def` + orjson + ONNX Runtime on the event loop
    fastapi            peers/fastapi_app.py in its own venv                   (--with-peers)
    mlflow             mlflow models serve --env-manager local -w 1, own venv  (--with-peers)
    floor              peers/floor_app.py: Starlette answering a fixed body   (--with-floor)

The peers run ONNX Runtime with `--threads` intra-op and inter-op threads (default 1); their
venvs get Shipyard's onnxruntime, uvicorn, httptools, uvloop and numpy versions
(`servers.shared_pins`). Shipyard and the apps get TF Serving's row format
(`{"instances": [...]}`), MLflow its `dataframe_split`; every server answers every output
per row, and the answers are checked against Shipyard's before the load. All servers run
side by side and take turns within every cell, in slices of `--slice` seconds (1 by
default; each server gets `--duration` seconds in all), so that the machine's other jobs
weigh on all of them alike; the table shows the median of `--repeats` for every figure.
`--breakdown` times the stages of Shipyard's predict handler in-process (JSON parsing,
building the feed, `session.run`, outputs to rows, serialization); `--in-process` calls
Shipyard's app and the minimal app through ASGI in this process, taking turns, and prints
the CPU time of each per request and the Python calls of one request; `--instructions`
counts the instructions per request of `shipyard serve` and the minimal app over HTTP under
valgrind's callgrind, a figure the machine's other jobs cannot move (peers/instructions.py).

    python benchmarks/serving.py [--with-peers] [--with-floor] [--only shipyard,minimal,...]
        [--load python|wrk] [--duration 5] [--warmup 1] [--concurrency 1,8,32]
        [--instances 1,32] [--repeats 3] [--slice 1] [--threads N] [--shipyard-args "..."]
        [--batching auto|on|off] [--batching-args "..."] [--breakdown] [--in-process]
        [--instructions [--requests 1000]] [--json FILE]

Targets (issue 11), on the medians: without batching, >= 0.9x the minimal app's requests/s
in every cell; with batching, more requests/s than the minimal app on 32-instance requests
at concurrency >= 8, with a p99 at most 1.5x its p99; p99 <= 5 ms for single instances at
concurrency 8; at concurrency 8, >= 3x MLflow's requests/s (issue 5).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import shlex
import sys
import time
from pathlib import Path

from peers.load import Cell, median, run_async, run_cell
from peers.servers import (
    DATA,
    Running,
    Server,
    batching_flags,
    census_model,
    peer_servers,
    read_rows,
    request_bodies,
    shipyard_servers,
    started,
)
from peers.wrk import run_wrk_cell, wrk_path

TARGET_MLFLOW_RATIO = 3.0
TARGET_P99_MS = 5.0
TARGET_MINIMAL_SHARE = 0.9
TARGET_BATCHING_P99_RATIO = 1.5
SERVERS = ("shipyard", "minimal", "fastapi", "mlflow", "floor")


def measure(
    servers: list[Server], rows: list[dict[str, object]], args: argparse.Namespace
) -> dict[tuple[str, int, int], list[Cell]]:
    """Start every server, then run each cell on all of them, `args.repeats` times.

    The servers run side by side (an idle one costs nothing) and take turns within each
    cell, in slices of `args.slice` seconds (`interleaved`), so that the machine's other
    jobs, which on a shared VM move throughput by half from one second to the next, weigh
    on all of them alike. Each cell starts with each server in turn across the repeats.
    """
    cells: dict[tuple[str, int, int], list[Cell]] = {}
    with contextlib.ExitStack() as stack:
        running = [stack.enter_context(started(server)) for server in servers]
        reference: list[list[float]] | None = None
        for each in running:
            body = request_bodies(each.server.body_format, rows, max(args.instances), seed=0)
            answer = each.check(body[0])
            if answer is not None:
                reference = reference or answer
                _compare(each.server.name, answer, reference)
        grid = [(c, i) for c in args.concurrency for i in args.instances]
        for repeat in range(args.repeats):
            for number, (concurrency, instances) in enumerate(grid):
                turn = (repeat + number) % len(running)
                found = interleaved(
                    running[turn:] + running[:turn], rows, concurrency, instances, repeat, args
                )
                for name, cell in found.items():
                    cells.setdefault((name, concurrency, instances), []).append(cell)
                    print(f"  [{repeat + 1}/{args.repeats}] {name:<18} {_line(cell)}")
    return cells


def interleaved(
    running: list[Running],
    rows: list[dict[str, object]],
    concurrency: int,
    instances: int,
    repeat: int,
    args: argparse.Namespace,
) -> dict[str, Cell]:
    """One cell on every server: `args.duration` seconds each, after `args.warmup`.

    With `args.slice` > 0 the duration is cut into slices of about that many seconds
    (wrk's are whole seconds) and the servers take turns slice by slice, the first one
    changing from slice to slice; each server's slices make its cell: requests/s their
    mean, CPU per request their total over their requests, p50 and p99 their medians.
    """
    bodies = {
        each.server.name: request_bodies(each.server.body_format, rows, instances, seed=repeat)
        for each in running
    }
    slices = max(1, round(args.duration / args.slice)) if args.slice > 0 else 1
    parts: dict[str, list[Cell]] = {each.server.name: [] for each in running}
    for number in range(slices):
        turn = number % len(running)
        for each in running[turn:] + running[:turn]:
            name = each.server.name
            warmup = args.warmup if number == 0 else 0.0
            cell = _run_cell(each, bodies[name], concurrency, warmup, args.duration / slices, args)
            parts[name].append(cell)
    return {name: _joined(part, concurrency, instances) for name, part in parts.items()}


def _joined(parts: list[Cell], concurrency: int, instances: int) -> Cell:
    """One cell from slices of equal length."""
    requests = sum(part.requests_per_s for part in parts)
    cpu_ms = sum(part.server_cpu_ms_per_request * part.requests_per_s for part in parts)
    return Cell(
        concurrency=concurrency,
        instances=instances,
        requests_per_s=requests / len(parts),
        p50_ms=median(part.p50_ms for part in parts),
        p99_ms=median(part.p99_ms for part in parts),
        errors=sum(part.errors for part in parts),
        server_cpu_ms_per_request=cpu_ms / requests if requests else float("nan"),
        client_cpu=sum(part.client_cpu for part in parts) / len(parts),
    )


def _run_cell(
    each: Running,
    bodies: list[bytes],
    concurrency: int,
    warmup_s: float,
    duration_s: float,
    args: argparse.Namespace,
) -> Cell:
    """One cell (or slice) on one server, with the load generator `args.load`."""
    if args.load == "wrk":
        return run_wrk_cell(
            each.port,
            each.server.predict_path,
            bodies,
            concurrency=concurrency,
            warmup_s=warmup_s,
            duration_s=duration_s,
            server_pids=each.pids(),
        )
    return run_async(
        run_cell(
            each.port,
            each.requests(bodies),
            concurrency=concurrency,
            warmup_s=warmup_s,
            duration_s=duration_s,
            server_pids=each.pids(),
        )
    )


def _compare(name: str, answer: list[list[float]], reference: list[list[float]]) -> None:
    if len(answer) != len(reference):
        raise SystemExit(f"{name} answers {len(answer)} rows, not {len(reference)}.")
    pairs = zip(answer, reference, strict=True)
    worst = max(abs(a - b) for x, y in pairs for a, b in zip(x, y, strict=True))
    if worst > 1e-5:
        raise SystemExit(f"{name} answers differ from the first server's (by {worst:g}).")


def _line(cell: Cell) -> str:
    return (
        f"c={cell.concurrency:<3} n={cell.instances:<3} {cell.requests_per_s:8.0f} req/s "
        f"{cell.requests_per_s * cell.instances:9.0f} rows/s  p50 {cell.p50_ms:7.2f} ms  "
        f"p99 {cell.p99_ms:7.2f} ms  errors {cell.errors}  "
        f"server {cell.server_cpu_ms_per_request:.2f} ms CPU/req  client {cell.client_cpu:.0%}"
    )


def medians(cells: dict[tuple[str, int, int], list[Cell]]) -> dict[tuple[str, int, int], Cell]:
    """The median of every figure across repeats (errors: the sum)."""
    found = {}
    for key, runs in cells.items():
        found[key] = Cell(
            concurrency=key[1],
            instances=key[2],
            requests_per_s=median(c.requests_per_s for c in runs),
            p50_ms=median(c.p50_ms for c in runs),
            p99_ms=median(c.p99_ms for c in runs),
            errors=sum(c.errors for c in runs),
            server_cpu_ms_per_request=median(c.server_cpu_ms_per_request for c in runs),
            client_cpu=median(c.client_cpu for c in runs),
        )
    return found


def print_table(found: dict[tuple[str, int, int], Cell], order: list[str]) -> None:
    print(
        "\n| server | concurrency | rows/request | requests/s | rows/s | p50 ms | p99 ms | "
        "errors | server CPU ms/request | client CPU |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (name, concurrency, instances), cell in sorted(
        found.items(), key=lambda item: (order.index(item[0][0]), item[0][1], item[0][2])
    ):
        print(
            f"| {name} | {concurrency} | {instances} | {cell.requests_per_s:,.0f} | "
            f"{cell.requests_per_s * instances:,.0f} | {cell.p50_ms:.2f} | {cell.p99_ms:.2f} | "
            f"{cell.errors} | {cell.server_cpu_ms_per_request:.2f} | {cell.client_cpu:.0%} |"
        )


def check_targets(found: dict[tuple[str, int, int], Cell], args: argparse.Namespace) -> None:
    """Print one PASS/FAIL line per target and cell; skip what was not measured."""

    def line(ok: bool, text: str) -> None:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")

    print()
    ship = "shipyard"
    for batching in (ship, f"{ship}+batching"):
        cell = found.get((batching, 8, 1))
        if cell is not None:
            line(
                cell.p99_ms <= TARGET_P99_MS,
                f"p99 of {batching}, 1 instance at concurrency 8: {cell.p99_ms:.2f} ms "
                f"(target <= {TARGET_P99_MS:g} ms)",
            )
    for instances in args.instances:
        ours, theirs = found.get((ship, 8, instances)), found.get(("mlflow", 8, instances))
        if ours and theirs:
            ratio = ours.requests_per_s / theirs.requests_per_s
            line(
                ratio >= TARGET_MLFLOW_RATIO,
                f"{ship} / mlflow requests/s, {instances} instance(s) at concurrency 8: "
                f"{ratio:.2f}x (target >= {TARGET_MLFLOW_RATIO:g}x)",
            )
    for concurrency in args.concurrency:
        for instances in args.instances:
            ours = found.get((ship, concurrency, instances))
            theirs = found.get(("minimal", concurrency, instances))
            if ours and theirs:
                share = ours.requests_per_s / theirs.requests_per_s
                line(
                    share >= TARGET_MINIMAL_SHARE,
                    f"{ship} / minimal requests/s, {instances} instance(s) at concurrency "
                    f"{concurrency}: {share:.2f}x (target >= {TARGET_MINIMAL_SHARE:g}x)",
                )
    for concurrency in (c for c in args.concurrency if c >= 8):
        ours = found.get((f"{ship}+batching", concurrency, 32))
        theirs = found.get(("minimal", concurrency, 32))
        if ours and theirs:
            ratio = ours.requests_per_s / theirs.requests_per_s
            p99_ratio = ours.p99_ms / theirs.p99_ms
            line(
                ratio > 1.0 and p99_ratio <= TARGET_BATCHING_P99_RATIO,
                f"{ship}+batching / minimal, 32 instances at concurrency {concurrency}: "
                f"{ratio:.2f}x requests/s (target > 1x), {p99_ratio:.2f}x p99 (target <= "
                f"{TARGET_BATCHING_P99_RATIO:g}x)",
            )


def _count_instructions(
    model: Path, rows: list[dict[str, object]], args: argparse.Namespace
) -> None:
    """Instructions per request over HTTP of `shipyard serve` and the minimal app."""
    from peers.instructions import INLINE_AS_AT_FULL_SPEED, count_instructions, print_instructions

    extra = [*shlex.split(args.shipyard_args), *INLINE_AS_AT_FULL_SPEED]
    servers = shipyard_servers(model, threads=args.threads, extra=extra, batching=None)
    servers += peer_servers(model, {"minimal"}, threads=args.threads or 1)
    print(f"{datetime.datetime.now():%Y-%m-%d %H:%M}; {describe_machine()}; callgrind")
    for server in servers:
        print(f"  {server.name}: {shlex.join(server.command(0))}")
    found = count_instructions(
        servers, rows, args.instances, args.concurrency, requests=args.requests
    )
    print_instructions(found, "shipyard", "minimal")


def describe_machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--with-peers", action="store_true", help="also MLflow and FastAPI")
    parser.add_argument("--with-floor", action="store_true", help="also the Starlette floor")
    parser.add_argument("--only", help="comma-separated: " + ", ".join(SERVERS))
    parser.add_argument("--load", choices=("python", "wrk"), default="python")
    parser.add_argument("--duration", type=float, default=5.0, help="measured seconds per cell")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds first")
    parser.add_argument("--concurrency", default="1,8,32", help="connections, comma-separated")
    parser.add_argument("--instances", default="1,32", help="rows per request, comma-separated")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--slice",
        type=float,
        default=1.0,
        help="servers take turns within a cell in slices of this many seconds (0: whole cells)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        help="ONNX Runtime threads for every server (default: 1 for the peers, serve's own "
        "default for shipyard)",
    )
    parser.add_argument("--shipyard-args", default="", help="more options for shipyard serve")
    parser.add_argument("--batching", choices=("auto", "on", "off"), default="auto")
    parser.add_argument(
        "--batching-args",
        default="",
        help="with --enable-batching (default: serve's own defaults)",
    )
    parser.add_argument("--breakdown", action="store_true", help="time the handler's stages")
    parser.add_argument(
        "--in-process", action="store_true", help="CPU per request of both apps, ASGI calls"
    )
    parser.add_argument(
        "--instructions", action="store_true", help="instructions per request, under callgrind"
    )
    parser.add_argument(
        "--requests", type=int, default=1000, help="requests counted per --instructions cell"
    )
    parser.add_argument("--json", type=Path, help="write every cell of every repeat here")
    args = parser.parse_args()
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    args.instances = [int(n) for n in args.instances.split(",")]
    wanted = {"shipyard", "minimal"} | ({"fastapi", "mlflow"} if args.with_peers else set())
    wanted |= {"floor"} if args.with_floor else set()
    wanted = set(args.only.split(",")) if args.only else wanted
    unknown = wanted - set(SERVERS)
    if unknown:
        parser.error(f"--only takes {', '.join(SERVERS)}; got {sorted(unknown)}")
    if args.load == "wrk":
        wrk_path()  # fail now, with how to install it

    model = census_model()
    rows = read_rows()
    if args.breakdown:
        from peers.breakdown import print_breakdown

        print_breakdown(model, rows, args.instances, threads=args.threads or 1)
        if not args.only and not args.with_peers and not args.with_floor:
            return
    if args.in_process:
        from peers.in_process import compare

        compare(model, rows, args.instances, args.concurrency)
        if not args.only and not args.with_peers and not args.with_floor:
            return
    if args.instructions:
        _count_instructions(model, rows, args)
        return
    flags = batching_flags()
    with_batching = args.batching == "on" or (args.batching == "auto" and flags)
    if args.batching == "on" and not flags:
        parser.error("shipyard serve has no --enable-batching option (yet).")
    servers: list[Server] = []
    if "shipyard" in wanted:
        servers += shipyard_servers(
            model,
            threads=args.threads,
            extra=shlex.split(args.shipyard_args),
            batching=shlex.split(args.batching_args) if with_batching else None,
        )
    servers += peer_servers(model, wanted, threads=args.threads or 1)
    load = os.getloadavg()
    print(
        f"{datetime.datetime.now():%Y-%m-%d %H:%M}; {describe_machine()}; load average "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\nservers: {', '.join(s.name for s in servers)}"
        f"; ONNX Runtime threads {args.threads or 'default'}; load {args.load}; "
        f"{args.duration:g} s per cell after "
        f"{args.warmup:g} s, median of {args.repeats}"
        + ("" if flags else "; shipyard serve has no batching options yet")
    )
    for server in servers:
        print(f"  {server.name}: {shlex.join(server.command(0))}")
    cells = measure(servers, rows, args)
    load = os.getloadavg()
    print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    found = medians(cells)
    print_table(found, [server.name for server in servers])
    check_targets(found, args)
    out = args.json or DATA / "results" / f"serving-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "argv": sys.argv[1:],
                "machine": describe_machine(),
                "cells": [{"server": k[0], **vars(c)} for k, runs in cells.items() for c in runs],
            },
            indent=1,
        )
    )
    print(f"\nEvery cell of every repeat: {out}")


if __name__ == "__main__":
    main()
