"""One node executed by every rank of a training group (torchrun, a Kubeflow PyTorchJob).

A distributed training node of a compiled pipeline runs `shipyard execute-node --pipeline
FILE --node NAME --run-id ID` in every rank, with the `torch.distributed` environment set.
Rank 0 alone touches the metadata store: it joins the run, reuses the cache or claims the
execution and registers the outputs (`shipyard.runners.run_node`), with `RankZeroEngine`
as its engine. The other ranks follow (`follow`): they train, publishing and recording
nothing. Rank 0's decision reaches them over the group itself: before executing, its engine
broadcasts the task (plain data, `TaskSpec`), so every rank executes the same task (same
inputs, parameters and checkpoint directory); when rank 0 executes nothing (the node came
from the cache, or a retried task's node had completed), `release` broadcasts None and the
followers exit at once instead of waiting for a group that never trains.

The group is created here, before the component runs, with gloo for CPU tensors and NCCL
for CUDA ones; the training loop's `distributed.joined` finds it and trains in it.
"""

from __future__ import annotations

import datetime
import os
from typing import TYPE_CHECKING, ClassVar

from shipyard.engines.task import execute_task
from shipyard.engines.threads import ThreadEngine

if TYPE_CHECKING:
    from collections.abc import Callable
    from concurrent.futures import Future

    from shipyard.dsl.context import LogEntry, Progress
    from shipyard.engines.result import TaskResult
    from shipyard.engines.spec import TaskSpec

TIMEOUT_S = float(os.environ.get("SHIPYARD_DDP_TIMEOUT_S", "1800"))
"""How long a rank waits for rank 0's decision (rank 0 may first wait for another run)."""


def start_group() -> int:
    """Join the group the environment describes; return this process's rank.

    Raises:
        InvalidParameterError: The `torch.distributed` environment is not set or not valid.
    """
    import torch
    import torch.distributed as dist

    from shipyard.components.train.distributed import ENVIRONMENT, environment_group
    from shipyard.errors import InvalidParameterError

    found = environment_group()
    if found is None:
        raise InvalidParameterError(
            f"a rank of a training group needs {', '.join(ENVIRONMENT)} set (torchrun and "
            f"the Kubeflow PyTorchJob set them); they are not."
        )
    if not dist.is_initialized():
        backend = "cpu:gloo,cuda:nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(
            backend, init_method="env://", timeout=datetime.timedelta(seconds=TIMEOUT_S)
        )
    return found["rank"]


def stop_group() -> None:
    """Leave the group `start_group` joined."""
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()


class RankZeroEngine(ThreadEngine):
    """Rank 0's engine: hands each task to the other ranks, then executes it here."""

    name: ClassVar[str] = "kubeflow"

    def __init__(self) -> None:
        super().__init__(max_workers=1)
        self.announced = False

    def submit(
        self,
        task: TaskSpec,
        *,
        on_progress: Callable[[Progress], None] | None = None,
        stop_requested: Callable[[], bool] | None = None,
        on_log: Callable[[LogEntry], None] | None = None,
    ) -> Future[TaskResult]:
        _broadcast(task.to_json())
        self.announced = True
        return super().submit(
            task, on_progress=on_progress, stop_requested=stop_requested, on_log=on_log
        )

    def release(self) -> None:
        """Tell the other ranks there is nothing to execute, if no task was announced."""
        if not self.announced:
            _broadcast(None)
            self.announced = True


def follow(
    on_progress: Callable[[Progress], None] | None = None,
) -> TaskResult | None:
    """A rank other than 0: execute the task rank 0 announces, publishing nothing.

    Returns:
        The task's result (no outputs), or None when rank 0 executes nothing.
    """
    from shipyard.engines.spec import TaskSpec

    text = _broadcast(None)
    if text is None:
        return None
    return execute_task(
        TaskSpec.from_json(text),
        engine=RankZeroEngine.name,
        on_progress=on_progress,
        publish=False,
    )


def _broadcast(text: str | None) -> str | None:
    """Rank 0's `text`, on every rank of the group."""
    import torch.distributed as dist

    message: list[str | None] = [text]
    dist.broadcast_object_list(message, src=0)
    return message[0]
