"""Boosted trees in a training group: LightGBM's own data-parallel training over its sockets.

`boosted_trees.fit_trees` asks `distributed.current_group()`, as `loop.fit` does. In a group
of N ranks (`train(workers=N)`'s launcher, torchrun, a Kubeflow PyTorchJob) every rank calls
`fit_trees` with the whole splits and LightGBM grows one ensemble from all of them:

- **Rows.** Rank r keeps rows `r::N` of the train and eval splits (DistributedSampler's
  interleaving, as the networks' DDP does) and LightGBM is told the data is partitioned
  (`pre_partition`).
- **Network.** Each rank picks a free port on the address its peers reach it at (the one
  that routes to `MASTER_ADDR`) and the ranks swap `host:port` over the torch.distributed
  group (gloo): that is LightGBM's `machines` list, with `tree_learner=data` and
  `num_machines=N`. LightGBM then finds the feature bins together (each rank bins a share of
  the features from its own rows; the bins are all-gathered) and sums the histograms of
  every split search over its sockets, so every rank grows the same trees.
- **Metrics.** LightGBM evaluates each rank's own rows. After each round the ranks sum
  `rows x metric` and the rows (one all-reduce), so every rank sees the metrics of the
  whole splits: the history, early stopping and the kept round are those of all the rows,
  decided alike on every rank. The same all-reduce carries rank 0's stop request (Ctrl-C):
  every rank stops after the same round.
- **Timeouts.** LightGBM's sockets give up after `COLLECTIVE_TIMEOUT_S` (rounded up to
  minutes, LightGBM's unit) and the all-reduce after `COLLECTIVE_TIMEOUT_S`: a lost peer fails
  the training instead of hanging it.
- **Threads.** Each rank grows trees with `threads`, else the cores of this machine divided
  among its ranks (`LOCAL_WORLD_SIZE`, which torchrun and Shipyard's launcher set).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import socket
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shipyard.components.train.distributed import COLLECTIVE_TIMEOUT_S, sum_over_ranks
from shipyard.errors import DataError
from shipyard.io.ports import free_port

if TYPE_CHECKING:
    from collections.abc import Iterator

    from shipyard.components.train.data import Split
    from shipyard.components.train.distributed import Group

SPLITS = ("train", "eval")
"""The names LightGBM evaluates, in the order of the all-reduced values."""

_NATIVE = logging.getLogger("shipyard.components.train.lightgbm")


@dataclass(frozen=True)
class TreesNetwork:
    """This rank's part in LightGBM's data-parallel training.

    Attributes:
        group: The training group (its torch.distributed process group carries the metrics).
        params: LightGBM's network parameters (`machines`, `local_listen_port`, ...).
        rows: This rank's rows of each split (`train`, `eval`).
    """

    group: Group
    params: dict[str, Any]
    rows: dict[str, int]


def join_network(
    group: Group, train: Split, evaluation: Split | None, *, threads: int | None
) -> tuple[TreesNetwork, Split, Split | None]:
    """Take this rank's rows and agree on LightGBM's machines list with the other ranks.

    Every rank of the group must call it (it gathers the ranks' addresses).

    Args:
        group: The training group of this process.
        train: The whole train split (every rank holds it).
        evaluation: The whole eval split, or None.
        threads: LightGBM's threads per rank (None: this machine's cores over its ranks).

    Returns:
        The network, and this rank's rows of `train` and `evaluation` (None when it has none).

    Raises:
        DataError: The train split has fewer rows than the group has ranks.
    """
    import torch.distributed as dist

    world = group.world_size
    if train.rows < world:
        raise DataError(
            f"the train split has {train.rows} rows, fewer than the {world} workers that "
            f"share them; train with workers=1 (or at most {max(train.rows, 1)} workers)."
        )
    mine = shard(train, group)
    theirs = shard(evaluation, group) if evaluation is not None else None
    host = _own_address()
    port = free_port(host)
    machines: list[Any] = [None] * world
    dist.all_gather_object(machines, (host, port))
    # LightGBM reports its connection attempts as info and warnings: keep them out of the run
    import lightgbm

    lightgbm.register_logger(_NATIVE, info_method_name="debug", warning_method_name="debug")
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    params = {
        "tree_learner": "data",
        "num_machines": world,
        "machines": ",".join(f"{h}:{p}" for h, p in machines),
        "local_listen_port": port,
        "pre_partition": True,
        "time_out": max(1, math.ceil(COLLECTIVE_TIMEOUT_S / 60)),
        "num_threads": threads or max(1, (cores or 1) // max(1, local_world)),
    }
    rows = {"train": mine.rows, "eval": theirs.rows if theirs is not None else 0}
    return TreesNetwork(group, params, rows), mine, theirs if rows["eval"] else None


def shard(split: Split, group: Group) -> Split:
    """This rank's rows of `split`: rows `rank::world_size`."""
    from shipyard.components.train.data import Split

    part = slice(group.rank, None, group.world_size)
    return Split(tuple(f[part] for f in split.features), split.label[part])


def agree(
    network: TreesNetwork, evaluations: list[Any], metrics: list[str], *, stop: bool
) -> tuple[list[tuple[str, str, float, bool]], bool]:
    """Combine the ranks' metrics of one round into those of all rows; agree on stopping.

    Args:
        network: This rank's network.
        evaluations: LightGBM's `(split, metric, value, higher_is_better)` of this rank's rows.
        metrics: The metrics LightGBM computes, in the same order on every rank.
        stop: Whether this rank asks to stop (rank 0's request is the one that counts).

    Returns:
        The evaluations over all ranks' rows (LightGBM's shape), and whether to stop now.
    """
    local = {(str(e[0]), str(e[1])): float(e[2]) for e in evaluations}
    keys = [(name, metric) for name in SPLITS for metric in metrics]
    values = [network.rows[n] * local[(n, m)] if (n, m) in local else 0.0 for n, m in keys]
    asks = stop and network.group.writes
    sums = sum_over_ranks(
        [*values, *(float(network.rows[n]) for n in SPLITS), float(asks)], network.group
    )
    totals = dict(zip(SPLITS, sums[len(keys) : len(keys) + len(SPLITS)], strict=True))
    combined = [
        (name, metric, total / totals[name], False)
        for (name, metric), total in zip(keys, sums, strict=False)
        if totals[name] > 0
    ]
    return combined, sums[-1] > 0


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Send what is written to this process's stdout (file descriptor 1) to stderr.

    LightGBM's socket threads print `[LightGBM] [Info] Listening...` whatever the verbosity
    (its log level and log callback are per thread): on stdout it would corrupt the output of
    `shipyard train --json`, whose ranks share the command's stdout.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _own_address() -> str:
    """The address of this machine that its peers reach: the one routing to MASTER_ADDR."""
    master = os.environ.get("MASTER_ADDR", "127.0.0.1")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect((master, int(os.environ.get("MASTER_PORT", "29500"))))  # sends nothing
        return str(probe.getsockname()[0])
