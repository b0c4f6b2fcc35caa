"""Serving throughput and latency of the census DNN: `shipyard serve` against its peers.

Serves the census example's DNN (hidden units 100, 70, 50, 25; trained once into
`benchmarks/.data/serving/`) and runs a closed-loop load on 127.0.0.1: `--concurrency`
keep-alive connections, each sending its next request as soon as the last one is answered,
every request carrying `--instances` rows sampled from the census data; `--duration` seconds
are measured after `--warmup` seconds. Each cell reports requests/s, rows/s, p50 and p99
latency, errors, the server's CPU time per request (all its processes, from /proc: less
sensitive to other jobs on the machine than throughput) and the load generator's CPU use.
The load generator is one event loop on raw sockets with requests encoded in advance.

Servers, each started as a subprocess, with ONNX Runtime pinned to `--threads` intra-op and
inter-op threads (default 1: a thread pool spinning on a 2-core machine shared with the
load generator only steals CPU) and one process (uvicorn worker):

    shipyard           shipyard serve --model-base-path DIR --intra-op-threads 1 ... [...args]
    shipyard+batching  the same with --enable-batching [--batching-args], if serve has it
    fastapi            peers/fastapi_app.py in its own venv                   (--with-peers)
    mlflow             mlflow models serve --env-manager local -w 1, own venv  (--with-peers)
    floor              peers/floor_app.py: Starlette answering a fixed body   (--with-floor)

Shipyard and FastAPI get TF Serving's row format (`{"instances": [...]}`), MLflow its
`dataframe_split`; every server answers every output per row, and the answers are checked
against Shipyard's before the load. All servers run side by side and take turns on every
cell, in a rotating order, so that the machine's other jobs weigh on all of them alike; the
table shows the median of `--repeats` for every figure. `--breakdown` times the stages of
Shipyard's predict handler in-process (JSON parsing, building the feed, `session.run`,
outputs to rows, serialization).

    python benchmarks/serving.py [--with-peers] [--with-floor] [--only shipyard,mlflow,...]
        [--duration 5] [--warmup 1] [--concurrency 1,8,32] [--instances 1,32] [--repeats 3]
        [--threads 1] [--shipyard-args "..."] [--batching auto|on|off] [--batching-args "..."]
        [--breakdown] [--json FILE]

Targets (issue 5), on the medians: at concurrency 8, Shipyard >= 3x MLflow's requests/s;
single instances at concurrency 8, p99 < 10 ms; without batching, >= 80 % of the FastAPI
app's requests/s in every cell; with batching, more rows/s than the FastAPI app on
32-instance loads (concurrency > 1: batching cannot help a lone client).
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
    Server,
    batching_flags,
    census_model,
    peer_servers,
    read_rows,
    request_bodies,
    shipyard_servers,
    started,
)

TARGET_MLFLOW_RATIO = 3.0
TARGET_P99_MS = 10.0
TARGET_FASTAPI_SHARE = 0.8


def measure(
    servers: list[Server], rows: list[dict[str, object]], args: argparse.Namespace
) -> dict[tuple[str, int, int], list[Cell]]:
    """Start every server, then run each cell on each of them in turn, `args.repeats` times.

    The servers run side by side (an idle one costs nothing), so every cell is measured on
    all of them within seconds: the other jobs on a shared machine weigh on all alike. The
    order of the servers rotates from cell to cell.
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
        turn = 0
        for repeat in range(args.repeats):
            for concurrency in args.concurrency:
                for instances in args.instances:
                    turn += 1
                    for each in running[turn % len(running) :] + running[: turn % len(running)]:
                        bodies = request_bodies(
                            each.server.body_format, rows, instances, seed=repeat
                        )
                        cell = run_async(
                            run_cell(
                                each.port,
                                each.requests(bodies),
                                concurrency=concurrency,
                                warmup_s=args.warmup,
                                duration_s=args.duration,
                                server_pids=each.pids(),
                            )
                        )
                        cell.instances = instances
                        name = each.server.name
                        cells.setdefault((name, concurrency, instances), []).append(cell)
                        print(f"  [{repeat + 1}/{args.repeats}] {name:<18} {_line(cell)}")
    return cells


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
                cell.p99_ms < TARGET_P99_MS,
                f"p99 of {batching}, 1 instance at concurrency 8: {cell.p99_ms:.2f} ms "
                f"(target < {TARGET_P99_MS:g} ms)",
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
            theirs = found.get(("fastapi", concurrency, instances))
            if ours and theirs:
                share = ours.requests_per_s / theirs.requests_per_s
                line(
                    share >= TARGET_FASTAPI_SHARE,
                    f"{ship} / fastapi requests/s, {instances} instance(s) at concurrency "
                    f"{concurrency}: {share:.0%} (target >= {TARGET_FASTAPI_SHARE:.0%})",
                )
    for concurrency in (c for c in args.concurrency if c > 1):
        ours = found.get((f"{ship}+batching", concurrency, 32))
        theirs = found.get(("fastapi", concurrency, 32))
        if ours and theirs:
            ratio = ours.requests_per_s / theirs.requests_per_s
            line(
                ratio > 1.0,
                f"{ship}+batching / fastapi rows/s, 32 instances at concurrency "
                f"{concurrency}: {ratio:.2f}x (target > 1x)",
            )


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
    parser.add_argument("--only", help="comma-separated: shipyard, fastapi, mlflow, floor")
    parser.add_argument("--duration", type=float, default=5.0, help="measured seconds per cell")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds first")
    parser.add_argument("--concurrency", default="1,8,32", help="connections, comma-separated")
    parser.add_argument("--instances", default="1,32", help="rows per request, comma-separated")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime threads, all servers")
    parser.add_argument("--shipyard-args", default="", help="more options for shipyard serve")
    parser.add_argument("--batching", choices=("auto", "on", "off"), default="auto")
    parser.add_argument(
        "--batching-args",
        default="",
        help="with --enable-batching (default: serve's own defaults)",
    )
    parser.add_argument("--breakdown", action="store_true", help="time the handler's stages")
    parser.add_argument("--json", type=Path, help="write every cell of every repeat here")
    args = parser.parse_args()
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    args.instances = [int(n) for n in args.instances.split(",")]
    wanted = {"shipyard"} | ({"fastapi", "mlflow"} if args.with_peers else set())
    wanted |= {"floor"} if args.with_floor else set()
    wanted = set(args.only.split(",")) if args.only else wanted
    unknown = wanted - {"shipyard", "fastapi", "mlflow", "floor"}
    if unknown:
        parser.error(f"--only takes shipyard, fastapi, mlflow and floor; got {sorted(unknown)}")

    model = census_model()
    rows = read_rows()
    if args.breakdown:
        from peers.breakdown import print_breakdown

        print_breakdown(model, rows, args.instances, threads=args.threads)
        if not args.only and not args.with_peers and not args.with_floor:
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
    servers += peer_servers(model, wanted, threads=args.threads)
    load = os.getloadavg()
    print(
        f"{datetime.datetime.now():%Y-%m-%d %H:%M}; {describe_machine()}; load average "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\nservers: {', '.join(s.name for s in servers)}"
        f"; ONNX Runtime threads {args.threads}; {args.duration:g} s per cell after "
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
