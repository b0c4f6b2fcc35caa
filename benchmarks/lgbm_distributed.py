"""Boosted trees in 1 process against `workers=2` (LightGBM's data-parallel learner).

Both fit the same LightGBM ensemble (`fit_trees`, 100 rounds, no early stopping) on the same
synthetic binary data (float features, a non-linear label). One worker trains in this
process with `threads` cores; two workers are spawned by `launch.run_workers` (the path of
`train(workers=2)`), each with its half of the rows and `threads // 2` cores, exchanging
histograms over LightGBM's sockets on 127.0.0.1. Wall time of two workers includes the
spawn; CPU time is user+sys of this process and its children. Runs interleave (one, two,
one, ...) so a busy machine weighs on both alike.

    python benchmarks/lgbm_distributed.py [--repeats 3] [--rows 200000] [--features 20]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time
from dataclasses import replace
from typing import Any

import torch

from shipyard.components.train.boosted_trees import TreesConfig, fit_trees
from shipyard.components.train.data import Problem, Split
from shipyard.components.train.estimators import FeatureSpec
from shipyard.components.train.launch import run_workers
from shipyard.dsl.context import TaskContext, running_task


def make_split(rows: int, features: int, seed: int) -> Split:
    generator = torch.Generator().manual_seed(seed)
    columns = torch.randn(rows, features, generator=generator)
    score = columns[:, 0] + columns[:, 1] * columns[:, 2] + 0.5 * torch.randn(rows)
    return Split(tuple(columns[:, [i]] for i in range(features)), (score > 0).float())


def trees_rank(
    *, problem: Problem, train: Split, evaluation: Split, config: TreesConfig, recorder: Any
) -> dict[str, float]:
    """One rank (module-level: spawn pickles it by name)."""
    from shipyard.components.train.distributed import joined

    with joined("cpu"):
        _, result = fit_trees(problem, train, evaluation, config, on_epoch=recorder)
        return result.metrics


class _Sink:
    tensorboard_dir = "unused"

    def __call__(self, row: dict[str, float], result: Any) -> None:
        pass


def cpu_s() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    args = parser.parse_args()
    problem = Problem(
        [FeatureSpec(f"x{i}", "float") for i in range(args.features)], "y", "binary", ["0", "1"]
    )
    train, evaluation = (
        make_split(args.rows, args.features, 0),
        make_split(args.rows // 4, args.features, 1),
    )
    config = TreesConfig(num_trees=100, early_stopping_patience=None, threads=args.threads)
    halves = replace(config, threads=max(1, args.threads // 2))
    times: dict[str, list[tuple[float, float]]] = {"1 worker": [], "2 workers": []}
    losses: dict[str, float] = {}
    for _ in range(args.repeats):
        for name, runs in times.items():
            wall, cpu = time.perf_counter(), cpu_s()
            if name == "1 worker":
                _, result = fit_trees(problem, train, evaluation, config)
                metrics = result.metrics
            else:
                arguments = {
                    "problem": problem,
                    "train": train,
                    "evaluation": evaluation,
                    "config": halves,
                }
                with running_task(TaskContext("bench")):
                    metrics = run_workers(2, trees_rank, arguments, recorder=_Sink())
            runs.append((time.perf_counter() - wall, cpu_s() - cpu))
            losses[name] = metrics["eval_loss"]
    print(f"{args.rows} rows x {args.features} features, 100 rounds, {args.threads} threads")
    for name, runs in times.items():
        print(
            f"{name:>9}: wall {statistics.median(w for w, _ in runs):6.2f} s  "
            f"cpu {statistics.median(c for _, c in runs):6.2f} s  "
            f"eval_loss {losses[name]:.5f}  (median of {len(runs)})"
        )


if __name__ == "__main__":
    main()
