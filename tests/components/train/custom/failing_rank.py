"""A `run_fn` whose rank 1 fails: the error of a distributed training names the rank."""

from __future__ import annotations

import os

import torch.distributed as dist
from torch import nn

from shipyard.components.train.custom import TrainContext


def fails_on_rank_1(context: TrainContext) -> nn.Module:
    if os.environ.get("RANK") == "1":
        raise RuntimeError("rank 1 cannot read its shard")
    dist.barrier()  # rank 0 waits for rank 1, which never comes: the launcher must stop it
    raise AssertionError("unreachable: rank 1 failed before the barrier")


def exits_on_rank_1(context: TrainContext) -> nn.Module:
    if os.environ.get("RANK") == "1":
        os._exit(3)  # the process dies without a word, as when it runs out of memory
    dist.barrier()
    raise AssertionError("unreachable: rank 1 died before the barrier")
