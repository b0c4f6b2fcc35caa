"""`train(workers=2)` (Shipyard's loop under DDP, gloo on CPU) against a hand-written DDP loop.

Both spawn 2 processes (torch.multiprocessing, spawn), join a gloo group on 127.0.0.1 and
train the same network (`build_estimator("dnn", ...)`, hidden units 64, 32) on the same
tensors (synthetic: 8 float features, 3 classes) with Adam, the same global batch (each rank
half of it), the same epochs and an eval pass over a sharded eval split after every epoch.
The hand-written loop is what a PyTorch user writes: `DistributedDataParallel`, a seeded
permutation sharded `[rank::2]`, `torch.optim.Adam`, `dist.all_reduce` of the eval sums.
Wall time includes the spawn (both pay it); CPU time is user+sys of the children. Target:
Shipyard <= 1.1x the hand-written loop's wall time. Runs interleave (ours, theirs, ours...).

With `--ray`, a third row: the same `fit` in 2 ranks of a Ray Train `TorchTrainer`, launched
by `ray_trainer.run_ray_trainer` (what `train(workers=2)` does on `--engine ray`) on a local
Ray cluster of 2 CPUs started before the timings (as a user's cluster is already running).
Its wall time includes Ray Train's start (controller, worker actors, process group); its CPU
time is user+sys of the two rank processes at the end of training (Ray's own processes, the
GCS, raylet and controller, are not counted).

    python benchmarks/ddp.py [--repeats 5] [--rows 20000] [--epochs 5] [--batch-size 256] [--ray]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import logging
import os
import resource
import time
from typing import Any

import torch

from shipyard.components.train.data import Problem, Split
from shipyard.components.train.estimators import FeatureSpec, build_estimator
from shipyard.components.train.launch import run_workers
from shipyard.components.train.loop import LoopConfig, fit, seed_everything
from shipyard.dsl.context import TaskContext, running_task
from shipyard.io.ports import free_port

FEATURES = [FeatureSpec(f"x{i}", "float") for i in range(8)]
PROBLEM = Problem(FEATURES, "label", "multiclass", ["a", "b", "c"])
HIDDEN = [64, 32]


def make_split(rows: int, seed: int) -> Split:
    generator = torch.Generator().manual_seed(seed)
    columns = torch.randn(rows, len(FEATURES), generator=generator)
    label = ((columns[:, 0] > 0).long() + (columns[:, 1] + columns[:, 2] > 0.5).long()).clamp(max=2)
    return Split(tuple(columns[:, i : i + 1].contiguous() for i in range(8)), label)


def network() -> torch.nn.Module:
    seed_everything(0)
    return build_estimator("dnn", FEATURES, 3, hidden_units=HIDDEN)


class _Quiet:
    """The launcher's recorder, recording nothing."""

    tensorboard_dir = None

    def __call__(self, row: dict[str, float], result: Any) -> None:
        pass


def ours_rank(*, train: Split, evaluation: Split, config: LoopConfig, recorder: Any) -> int:
    from shipyard.components.train.distributed import joined

    with joined("cpu"):
        result = fit(network(), PROBLEM, train, evaluation, config, on_epoch=recorder)
    return result.steps


def ray_rank(
    *, train: Split, evaluation: Split, config: LoopConfig, cpu_dir: str, recorder: Any
) -> int:
    """`ours_rank` in a Ray Train worker; leaves the rank process's CPU seconds in `cpu_dir`."""
    from pathlib import Path

    steps = ours_rank(train=train, evaluation=evaluation, config=config, recorder=recorder)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    rank = os.environ["RANK"]
    (Path(cpu_dir) / f"rank-{rank}").write_text(str(usage.ru_utime + usage.ru_stime))
    return steps


def theirs_rank(
    rank: int, port: int, train: Split, evaluation: Split, epochs: int, batch_size: int
) -> None:
    import torch.distributed as dist
    from torch.nn import functional
    from torch.nn.parallel import DistributedDataParallel

    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo",
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=2,
        timeout=datetime.timedelta(seconds=300),
    )
    model = DistributedDataParallel(network())
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(0)
    features = train.features
    for _ in range(epochs):
        model.train()
        order = torch.randperm(train.rows, generator=generator)
        for start in range(0, train.rows, batch_size):
            index = order[start : start + batch_size][rank::2]
            optimizer.zero_grad()
            loss = functional.cross_entropy(
                model(*(f[index] for f in features)), train.label[index]
            )
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            rows = torch.arange(rank, evaluation.rows, 2)
            scores = model.module(*(f[rows] for f in evaluation.features))
            target = evaluation.label[rows]
            sums = torch.tensor(
                [
                    float(functional.cross_entropy(scores, target)) * len(rows),
                    float((scores.argmax(1) == target).sum()),
                    len(rows),
                ],
                dtype=torch.float64,
            )
            dist.all_reduce(sums)
    dist.destroy_process_group()


def _median(values: Any) -> float:
    """The median (the stdlib's `statistics` is shadowed by benchmarks/statistics.py)."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    return float(
        ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    )


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_ours(train: Split, evaluation: Split, config: LoopConfig) -> tuple[float, float]:
    cpu, start = _children_cpu_s(), time.perf_counter()
    with running_task(TaskContext("benchmark")):
        run_workers(
            2,
            ours_rank,
            {"train": train, "evaluation": evaluation, "config": config},
            recorder=_Quiet(),
        )
    return time.perf_counter() - start, _children_cpu_s() - cpu


def time_theirs(train: Split, evaluation: Split, config: LoopConfig) -> tuple[float, float]:
    import torch.multiprocessing as mp

    cpu, start = _children_cpu_s(), time.perf_counter()
    mp.spawn(
        theirs_rank,
        args=(free_port(), train, evaluation, config.epochs, config.batch_size),
        nprocs=2,
    )
    return time.perf_counter() - start, _children_cpu_s() - cpu


def time_ray(train: Split, evaluation: Split, config: LoopConfig) -> tuple[float, float]:
    import tempfile
    from pathlib import Path

    from shipyard.components.train.ray_trainer import run_ray_trainer

    with tempfile.TemporaryDirectory() as cpu_dir:
        arguments = {"train": train, "evaluation": evaluation, "config": config, "cpu_dir": cpu_dir}
        start = time.perf_counter()
        with running_task(TaskContext("benchmark", engine="ray")):
            run_ray_trainer(2, ray_rank, arguments, recorder=_Quiet(), device="cpu")
        wall = time.perf_counter() - start
        cpu = sum(float(f.read_text()) for f in Path(cpu_dir).iterdir())
    return wall, cpu


def _line(name: str, runs: list[tuple[float, float]]) -> str:
    walls = [w for w, _ in runs]
    cpus = [c for _, c in runs]
    return (
        f"{name:<26} wall min {min(walls):6.2f} s  median {_median(walls):6.2f} s  "
        f"max {max(walls):6.2f} s   CPU (user+sys) median {_median(cpus):6.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--ray", action="store_true", help="add the Ray Train row")
    options = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    train, evaluation = make_split(options.rows, 1), make_split(options.rows // 4, 2)
    config = LoopConfig(
        epochs=options.epochs,
        batch_size=options.batch_size,
        learning_rate=1e-3,
        early_stopping_patience=None,
        threads=1,
        checkpoint_interval_s=1e9,
    )
    ours: list[tuple[float, float]] = []
    theirs: list[tuple[float, float]] = []
    on_ray: list[tuple[float, float]] = []
    with contextlib.ExitStack() as stack:
        if options.ray:
            import ray

            from shipyard.testing.ray import running_ray_cluster

            cluster = stack.enter_context(running_ray_cluster(num_cpus=2))
            ray.init(address=cluster.address, logging_level=logging.WARNING)
            stack.callback(ray.shutdown)
            time_ray(train, evaluation, config)  # warm the cluster's workers
        time_theirs(train, evaluation, config)  # warm the page cache of both
        for _ in range(options.repeats):
            ours.append(time_ours(train, evaluation, config))
            theirs.append(time_theirs(train, evaluation, config))
            if options.ray:
                on_ray.append(time_ray(train, evaluation, config))
    steps = options.epochs * -(-options.rows // options.batch_size)
    print(f"2 workers, gloo, {options.rows:,} rows, {options.epochs} epochs, {steps} steps")
    print(_line("shipyard train(workers=2)", ours))
    print(_line("hand-written DDP", theirs))
    ratio = _median(w for w, _ in ours) / _median(w for w, _ in theirs)
    cpu = _median(c for _, c in ours) / _median(c for _, c in theirs)
    print(f"ratio (median wall) {ratio:.2f}x, (median CPU) {cpu:.2f}x; target <= 1.1x")
    if on_ray:
        print(_line("train(workers=2) Ray Train", on_ray))
        ratio = _median(w for w, _ in on_ray) / _median(w for w, _ in theirs)
        cpu = _median(c for _, c in on_ray) / _median(c for _, c in theirs)
        print(f"Ray Train / hand-written: (median wall) {ratio:.2f}x, (median CPU) {cpu:.2f}x")


if __name__ == "__main__":
    main()
