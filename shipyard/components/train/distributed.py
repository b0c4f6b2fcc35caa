"""One training in several processes: the process group the loop trains in under DDP.

The loop (`loop.fit`) asks `current_group()`; outside a group it trains alone, as always. In
a group of `world_size` processes (ranks) it trains the same network under PyTorch's
`DistributedDataParallel`:

- every rank draws the same shuffled order (the same seeded generator) and takes its share
  of each batch, `batch[rank::world_size]` (DistributedSampler's interleaving), so
  `batch_size` stays the global batch and the steps, schedule and budget are those of one
  process; each rank's loss is weighted by its share of the batch, so the averaged gradient
  is the gradient of the whole batch;
- the eval split is sharded the same way and its sums are all-reduced, so every rank sees
  the same eval loss and takes the same early-stopping decision;
- rank 0 alone writes checkpoints; every rank resumes from them (a shared directory);
- a stop request (Ctrl-C) is rank 0's to decide: it broadcasts it every `STOP_EVERY` steps,
  so every rank stops before the same step.

The group follows the `torch.distributed` environment contract (`MASTER_ADDR`,
`MASTER_PORT`, `RANK`, `WORLD_SIZE`, `LOCAL_RANK`): `torchrun`, a Kubeflow `PyTorchJob` and
Shipyard's own launcher (`launch.py`) all set it. gloo on CPU, NCCL on CUDA, where rank `r`
of a machine uses `cuda:LOCAL_RANK` (written for, not tested on, a multi-GPU machine).
"""

from __future__ import annotations

import contextlib
import datetime
import os
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shipyard.errors import InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import torch
    from torch import nn

ENVIRONMENT = ("MASTER_ADDR", "MASTER_PORT", "RANK", "WORLD_SIZE")
"""The variables that say a process is one rank of a group (`LOCAL_RANK` defaults to RANK)."""

COLLECTIVE_TIMEOUT_S = float(os.environ.get("SHIPYARD_DDP_TIMEOUT_S", "300"))
"""How long a rank waits for the others in one collective before failing, not hanging."""

STOP_EVERY = 8
"""Steps between two broadcasts of rank 0's stop decision (a broadcast a step costs time)."""


@dataclass(frozen=True)
class Group:
    """This process's place in a training group.

    Attributes:
        rank: This process's rank, 0 to `world_size - 1`; rank 0 writes checkpoints.
        world_size: The number of processes training together.
        local_rank: The rank among this machine's processes (picks its GPU).
        device: The device this rank trains on (`cpu`, `cuda:LOCAL_RANK`).
    """

    rank: int
    world_size: int
    local_rank: int
    device: str

    @property
    def writes(self) -> bool:
        """Whether this rank writes (checkpoints, outputs): rank 0."""
        return self.rank == 0


_GROUP: ContextVar[Group | None] = ContextVar("shipyard_ddp_group", default=None)


def current_group() -> Group | None:
    """The group this process trains in, or None when it trains alone."""
    return _GROUP.get()


def environment_group() -> dict[str, int] | None:
    """The rank and world size the environment sets (torchrun, PyTorchJob), or None.

    Raises:
        InvalidParameterError: The variables are set but are not integers.
    """
    if not all(os.environ.get(name) for name in ENVIRONMENT):
        return None
    try:
        rank = int(os.environ["RANK"])
        world = int(os.environ["WORLD_SIZE"])
        local = int(os.environ.get("LOCAL_RANK", rank))
    except ValueError:
        values = ", ".join(f"{n}={os.environ.get(n)!r}" for n in (*ENVIRONMENT, "LOCAL_RANK"))
        raise InvalidParameterError(
            f"the torch.distributed environment must hold integer ranks; got {values}. Unset "
            f"them to train in this process, or launch with torchrun."
        ) from None
    return {"rank": rank, "world_size": world, "local_rank": local}


def group_device(device: str, local_rank: int) -> str:
    """The device of the rank `local_rank` of this machine for the configured `device`.

    `auto` and `cuda` become `cuda:LOCAL_RANK` when CUDA is available; `cpu` (and `auto`
    without CUDA) stay `cpu`; an explicit `cuda:N` is kept.
    """
    import torch

    if device == "cpu" or (device == "auto" and not torch.cuda.is_available()):
        return "cpu"
    if device in ("auto", "cuda"):
        return f"cuda:{local_rank}"
    return device


@contextlib.contextmanager
def joined(device: str) -> Iterator[Group]:
    """Join the group the environment describes for the block; leave it afterwards.

    A process group that is already initialized (by Ray Train, or the user's own launcher
    code) is used as it is and left open.

    Raises:
        InvalidParameterError: The environment describes no group.
    """
    import torch
    import torch.distributed as dist

    found = environment_group()
    if found is None:
        raise InvalidParameterError(
            f"joining a training group needs the torch.distributed environment "
            f"({', '.join(ENVIRONMENT)}); it is not set."
        )
    chosen = group_device(device, found["local_rank"])
    owned = not dist.is_initialized()
    if chosen.startswith("cuda"):  # NCCL's collectives use the current device
        torch.cuda.set_device(chosen)
    if owned:
        dist.init_process_group(
            "nccl" if chosen.startswith("cuda") else "gloo",
            init_method="env://",
            timeout=datetime.timedelta(seconds=COLLECTIVE_TIMEOUT_S),
        )
    group = Group(found["rank"], found["world_size"], found["local_rank"], chosen)
    token = _GROUP.set(group)
    try:
        yield group
    finally:
        _GROUP.reset(token)
        if owned:
            dist.destroy_process_group()


def wrap(network: nn.Module, group: Group | None) -> nn.Module:
    """The module the training step calls: `network` under DDP in a group, else itself.

    DDP broadcasts rank 0's parameters when it wraps them, so every rank starts alike.
    """
    if group is None:
        return network
    from torch.nn.parallel import DistributedDataParallel

    ids = [int(group.device.split(":")[1])] if group.device.startswith("cuda:") else None
    return DistributedDataParallel(network, device_ids=ids)


def share(rows: int, group: Group | None) -> tuple[slice, float]:
    """This rank's part of a batch of `rows`, and the weight of its mean loss.

    The part is `batch[rank::world_size]` (a batch smaller than the group gives a rank with
    no row its first row again); the weight, `part * world_size / parts`, makes DDP's
    average of the ranks' gradients the gradient of the whole batch's mean loss.
    """
    if group is None:
        return slice(None), 1.0
    sizes = [max(1, len(range(r, rows, group.world_size))) for r in range(group.world_size)]
    part = slice(group.rank, None, group.world_size) if rows > group.rank else slice(0, 1)
    return part, sizes[group.rank] * group.world_size / sum(sizes)


def smallest_share(rows: int, group: Group | None) -> int:
    """The fewest rows any rank gets of a batch of `rows` (the same on every rank)."""
    return rows if group is None else max(1, rows // group.world_size)


def sum_over_ranks(values: list[float], group: Group | None) -> list[float]:
    """Sum `values` over the group's ranks (every rank gets the sums); alone, `values`."""
    if group is None:
        return values
    import torch
    import torch.distributed as dist

    tensor = torch.tensor(values, dtype=torch.float64, device=_collective_device(group))
    dist.all_reduce(tensor)
    return [float(v) for v in tensor.cpu().tolist()]


def agreed_stop(
    stop_requested: Callable[[], bool] | None, group: Group | None
) -> Callable[[], bool] | None:
    """A stop flag every rank reads alike: rank 0's, broadcast every `STOP_EVERY` calls.

    The loop asks once a step on every rank, so the calls that broadcast are the same steps
    everywhere and every rank stops before the same step. Alone, `stop_requested` itself.
    """
    if group is None:
        return stop_requested
    return _AgreedStop(stop_requested, group)


class _AgreedStop:
    def __init__(self, stop_requested: Callable[[], bool] | None, group: Group) -> None:
        self._local = stop_requested
        self._group = group
        self._calls = 0

    def __call__(self) -> bool:
        import torch
        import torch.distributed as dist

        self._calls += 1
        if self._calls % STOP_EVERY:
            return False
        wanted = self._group.writes and self._local is not None and self._local()
        flag = torch.tensor([int(wanted)], device=_collective_device(self._group))
        dist.broadcast(flag, src=0)
        return bool(flag.item())


def _collective_device(group: Group) -> str:
    """NCCL reduces CUDA tensors only; gloo CPU ones."""
    return group.device if group.device.startswith("cuda") else "cpu"


def shard_rows(count: int, group: Group | None) -> torch.Tensor | slice:
    """The rows of a split of `count` rows this rank evaluates (all of them alone)."""
    if group is None:
        return slice(None)
    import torch

    return torch.arange(group.rank, count, group.world_size)
