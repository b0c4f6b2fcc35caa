"""Orchestration overhead of the local runner, per node, cold and cached.

Pipelines of no-op components (a chain: each node reads the previous node's output), so the
whole wall time is Shipyard's: DAG scheduling, cache keys, store writes, staging and atomic
publishing. Also times a cached rerun of a 10-node pipeline through the real CLI, process
start-up included.

    python benchmarks/runner_overhead.py [--repeats 5] [--store URL]

Targets (issue 2): < 20 ms per node cold, < 5 ms per node cached, and a cached 10-node rerun
in under 1 s of orchestration overhead.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import shipyard
from shipyard import Out, Pipeline, component
from shipyard.artifacts import Artifact


@component
def first(out: Out[Artifact]) -> None:
    """Produce an empty artifact."""


@component
def step(inp: Artifact, out: Out[Artifact], *, index: int) -> None:
    """Read nothing, write nothing: pure orchestration."""


def chain(nodes: int) -> Pipeline:
    node = first()
    for index in range(1, nodes):
        node = step(inp=node.outputs.out, index=index).with_options(name=f"step{index}")
    return Pipeline(f"chain{nodes}", nodes=[node])


def time_runs(nodes: int, repeats: int, store: str | None) -> tuple[list[float], list[float]]:
    cold, cached = [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            os.chdir(tmp)
            url = store or f"sqlite:///{tmp}/.shipyard/store.db"
            pipeline = chain(nodes)
            shipyard.run(Pipeline("warmup", nodes=[first()]), store=url, progress=False)
            started = time.perf_counter()
            result = shipyard.run(pipeline, store=url, progress=False, cache=False)
            cold.append(time.perf_counter() - started)
            assert result.ok
            started = time.perf_counter()
            result = shipyard.run(pipeline, store=url, progress=False)
            cached.append(time.perf_counter() - started)
            assert {n.state for n in result.nodes.values()} == {"cached"}
    return cold, cached


def time_cli_rerun(repeats: int) -> list[float]:
    source = textwrap.dedent(
        """
        from shipyard import Out, Pipeline, component
        from shipyard.artifacts import Artifact

        @component
        def first(out: Out[Artifact]) -> None: ...

        @component
        def step(inp: Artifact, out: Out[Artifact], *, index: int) -> None: ...

        def chain() -> Pipeline:
            node = first()
            for i in range(1, 10):
                node = step(inp=node.outputs.out, index=i).with_options(name=f"step{i}")
            return Pipeline("cli10", nodes=[node])
        """
    )
    walls = []
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "pipeline.py").write_text(source)
        command = [sys.executable, "-m", "shipyard", "run", "pipeline.py"]
        subprocess.run(command, cwd=tmp, check=True, capture_output=True)
        for _ in range(repeats):
            started = time.perf_counter()
            subprocess.run(command, cwd=tmp, check=True, capture_output=True)
            walls.append(time.perf_counter() - started)
    return walls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--store", help="store URL (default: a fresh SQLite file per repeat)")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, median of {args.repeats}")
    print(
        f"{'pipeline':<10} {'cold total':>11} {'cold/node':>10} "
        f"{'cached total':>13} {'cached/node':>12}"
    )
    for nodes in (10, 100):
        cold, cached = time_runs(nodes, args.repeats, args.store)
        c, k = statistics.median(cold), statistics.median(cached)
        print(
            f"{nodes:>3} nodes  {c * 1000:>9.1f}ms {c / nodes * 1000:>8.2f}ms "
            f"{k * 1000:>11.1f}ms {k / nodes * 1000:>10.2f}ms"
        )
    walls = time_cli_rerun(args.repeats)
    print(
        f"CLI `shipyard run` cached rerun of 10 nodes, process start-up included: "
        f"{statistics.median(walls) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
