"""Per-node overhead of each engine: threads, processes and Ray, on 20-node no-op pipelines.

Two shapes of no-op nodes (so the whole time is the engine's and the runner's): a chain
(each node reads the one before: no parallelism) and a fan-out (one node, then 19 that read
it: as parallel as the engine allows). Each engine is opened once and warmed up with one run
(its workers started, Ray's connected), then the pipelines run `--repeats` times with no cache,
the engines interleaved in each repeat so that a machine's load falls on all alike.

    python benchmarks/engines.py [--repeats 5] [--address HOST:PORT]

Without `--address`, a local Ray cluster with 2 CPUs is started first (not timed), as the
tests do. Prints the median wall time per node of each engine and shape, and this process's
CPU time per node (the workers' CPU is theirs).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
import time
from typing import TYPE_CHECKING

import shipyard
from shipyard import Out, Pipeline, component
from shipyard.artifacts import Artifact
from shipyard.engines import open_engine

if TYPE_CHECKING:
    from collections.abc import Iterator

    from shipyard.engines import Engine

NODES = 20


@component
def first(out: Out[Artifact]) -> None:
    """Produce an empty artifact."""


@component
def step(inp: Artifact, out: Out[Artifact], *, index: int) -> None:
    """Read nothing, write nothing: pure orchestration."""


def chain() -> Pipeline:
    node = first()
    for index in range(1, NODES):
        node = step(inp=node.outputs.out, index=index).with_options(name=f"step{index}")
    return Pipeline("chain", nodes=[node])


def fan_out() -> Pipeline:
    root = first()
    leaves = [
        step(inp=root.outputs.out, index=index).with_options(name=f"leaf{index}")
        for index in range(1, NODES)
    ]
    return Pipeline("fan_out", nodes=[root, *leaves])


def timed(pipeline: Pipeline, engine: Engine, store: str, root: str) -> tuple[float, float]:
    """Run `pipeline` uncached; return its wall time and this process's CPU time."""
    cpu = os.times()
    started = time.perf_counter()
    result = shipyard.run(
        pipeline, store=store, artifact_root=root, engine=engine, cache=False, progress=False
    )
    wall = time.perf_counter() - started
    after = os.times()
    assert result.ok, [node.error for node in result.nodes.values() if node.error]
    return wall, (after.user - cpu.user) + (after.system - cpu.system)


def median(values: list[float]) -> float:
    """The median (benchmarks/statistics.py shadows the module of that name here)."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


@contextlib.contextmanager
def ray_address(address: str | None) -> Iterator[str]:
    if address is not None:
        yield address
        return
    from shipyard.testing.ray import running_ray_cluster

    with running_ray_cluster(num_cpus=2) as cluster:
        yield cluster.address


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--address", help="a running Ray cluster (default: start one)")
    args = parser.parse_args()
    shapes = {"chain": chain(), "fan-out": fan_out()}
    with ray_address(args.address) as address, tempfile.TemporaryDirectory() as tmp:
        engines = {
            "threads": open_engine("threads", max_workers=2),
            "processes": open_engine("processes", max_workers=2),
            "ray": open_engine("ray", address=address),
        }
        times: dict[tuple[str, str], list[tuple[float, float]]] = {}
        try:
            for name, engine in engines.items():  # warm up: workers started, code imported
                store, root = f"sqlite:///{tmp}/{name}.db", f"{tmp}/{name}"
                for pipeline in shapes.values():
                    timed(pipeline, engine, store, root)
            for _ in range(args.repeats):
                for name, engine in engines.items():
                    store, root = f"sqlite:///{tmp}/{name}.db", f"{tmp}/{name}"
                    for shape, pipeline in shapes.items():
                        times.setdefault((name, shape), []).append(
                            timed(pipeline, engine, store, root)
                        )
        finally:
            for engine in engines.values():
                engine.close()
    print(f"{'engine':<10} {'shape':<8} {'wall ms/node':>13} {'runner CPU ms/node':>19}")
    for (name, shape), runs in times.items():
        wall = median([w for w, _ in runs]) / NODES * 1000
        cpu = median([c for _, c in runs]) / NODES * 1000
        print(f"{name:<10} {shape:<8} {wall:>13.1f} {cpu:>19.1f}")


if __name__ == "__main__":
    main()
