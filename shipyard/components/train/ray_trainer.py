"""Launch a training's N ranks as a Ray Train `TorchTrainer` (`train(workers=N)` on `--engine ray`).

When the train node runs on the Ray engine (`current_task().engine == "ray"`), its Ray task
becomes the driver of a `ray.train.torch.TorchTrainer` with `ScalingConfig(num_workers=N)`:
Ray Train places the N ranks on the cluster, sets the `torch.distributed` environment
(`MASTER_ADDR`, `MASTER_PORT`, `RANK`, `WORLD_SIZE`, `LOCAL_RANK`) and initialises the
process group (gloo on CPU, NCCL on GPU) before the loop runs. Each rank calls the same
module-level training function as `launch.run_workers`' ranks; it finds the group
initialised and trains in it (`distributed.joined` uses an initialised group as it is).
The driver stays the component's execution, as the local launcher does:

- rank 0's epochs and its return value come back through a `Mailbox` actor (no CPU) and go to
  the execution's recorder (history, TensorBoard, the live progress relayed to the runner);
- a stop request of the run (Ctrl-C) reaches every rank through the mailbox; rank 0 decides
  and broadcasts it (`distributed.agreed_stop`), checkpoints, and every rank raises
  `ExecutionInterrupted`, raised here again;
- a rank that raises reports its error and traceback before Ray Train stops the others, so
  the error names the rank; a rank whose process dies is named from Ray Train's
  `WorkerGroupError`.

Placement: the node's own Ray task holds its slot (1 CPU by default) while the ranks ask for
1 CPU each (and 1 GPU each when training on CUDA). Ray releases the CPU of a task blocked in
`ray.get` (its rule for nested work), and the driver waits in `ray.get` for the whole
training, so the ranks need N CPUs of the cluster, not N + 1: `workers=2` trains on a 2-CPU
cluster. A cluster with fewer CPUs (or GPUs) than the ranks ask for in all is refused at
once, naming the node, rather than left pending forever.

Imports Ray; loaded only on the Ray engine, never on the embedded path.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import shutil
import tempfile
import threading
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from shipyard.components.train.distributed import COLLECTIVE_TIMEOUT_S
from shipyard.components.train.launch import (
    Place,
    Relay,
    portable,
    relay_epoch,
    reported_failure,
)
from shipyard.dsl.context import TaskContext, current_task, running_task
from shipyard.errors import PlatformError, ShipyardError, WorkerFailed

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from shipyard.components.train.loop import EpochCallback, TrainingResult

logger = logging.getLogger("shipyard.components.train")

T = TypeVar("T")

_TAKE_S = 0.5
"""How long one call for rank 0's messages waits on the mailbox."""


class Mailbox:
    """Rank 0's messages out to the driver, the run's stop request in to every rank.

    A Ray actor (async, no CPU) living as long as the training. Calls from one rank run in the
    order it made them, so rank 0's epochs arrive in order and before its `done`.
    """

    def __init__(self) -> None:
        import asyncio

        self._messages: list[tuple[Any, ...]] = []
        self._arrived = asyncio.Event()
        self._stop = asyncio.Event()
        self._stopped = False

    async def put(self, message: tuple[Any, ...]) -> None:
        """A rank's message: `("epoch", ...)`, `("done", ...)` or `("error", ...)`."""
        self._messages.append(message)
        self._arrived.set()

    async def take(self, timeout_s: float) -> list[tuple[Any, ...]]:
        """Return the messages that arrived, waiting up to `timeout_s` for the first."""
        import asyncio

        if not self._messages:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), timeout_s)
        messages, self._messages = self._messages, []
        self._arrived.clear()
        return messages

    async def stop(self, requested: bool) -> None:
        """Release the ranks' stop watchers: `requested` True when the run asks to stop."""
        self._stopped = self._stopped or requested
        self._stop.set()

    async def wait_for_stop(self) -> bool:
        """Return True when the run asks to stop; False once the training ended."""
        await self._stop.wait()
        return self._stopped


class _Outbox:
    """What rank 0's `Relay` puts its epochs into: the mailbox, fire and forget."""

    def __init__(self, mailbox: Any) -> None:
        self._mailbox = mailbox

    def put(self, message: tuple[Any, ...]) -> None:
        self._mailbox.put.remote(message)


def run_ray_trainer(
    workers: int,
    target: Callable[..., T],
    arguments: dict[str, Any],
    *,
    recorder: EpochCallback,
    device: str,
) -> T:
    """Call `target(**arguments, recorder=...)` in `workers` Ray Train ranks; return rank 0's value.

    Args:
        workers: The number of ranks (`ScalingConfig.num_workers`).
        target: A module-level function that trains in the group the environment describes.
        arguments: Its keyword arguments (they travel to the ranks through Ray's object store).
        recorder: Receives rank 0's epochs in this process; its `tensorboard_dir` is handed
            to the ranks.
        device: The training's `device` option: `cuda` (or `auto` on a cluster with GPUs)
            gives each rank a GPU.

    Raises:
        PlatformError: The cluster has fewer CPUs or GPUs than the ranks ask for in all, or
            Ray Train failed before any rank ran.
        WorkerFailed: A rank's process died, or a rank raised an error that is not a Shipyard
            error (the rank's exception is the `__cause__` when it pickles).
        ExecutionInterrupted: The run was asked to stop; rank 0 saved the checkpoint.
        ShipyardError: A rank raised it; its message names the rank.
    """
    import ray
    from ray.train import FailureConfig, RunConfig, ScalingConfig
    from ray.train.torch import TorchConfig, TorchTrainer

    task = current_task()
    offered = ray.cluster_resources()  # type: ignore[no-untyped-call]
    use_gpu = ranks_use_gpus(device, workers, task.node, offered)
    tensorboard_dir: Path = getattr(recorder, "tensorboard_dir")  # noqa: B009
    place = Place(task.node, _absolute(task.checkpoint_dir), _absolute(tensorboard_dir))
    mailbox: Any = ray.remote(num_cpus=0)(Mailbox).remote()
    storage = Path(tempfile.mkdtemp(prefix="shipyard-ray-train-"))
    trainer = TorchTrainer(
        _rank,
        train_loop_config={
            "target": target,
            "arguments": {k: _absolute(v) for k, v in arguments.items()},
            "place": place,
            "mailbox": mailbox,
            "cwd": os.getcwd(),
        },
        torch_config=TorchConfig(timeout_s=int(COLLECTIVE_TIMEOUT_S)),
        scaling_config=ScalingConfig(num_workers=workers, use_gpu=use_gpu),
        run_config=RunConfig(
            name=f"shipyard-{task.node or 'train'}",
            storage_path=str(storage),
            failure_config=FailureConfig(max_failures=0),  # the runner decides on retries
        ),
    )
    fitted: list[BaseException | None] = []

    def fit() -> None:
        try:
            trainer.fit()
        except BaseException as exc:  # raised in the execution's thread below
            fitted.append(exc)
        else:
            fitted.append(None)

    logger.info("training in %d Ray Train workers (TorchTrainer, %s)", workers, _backend(use_gpu))
    thread = threading.Thread(target=fit, name="shipyard-ray-train", daemon=True)
    thread.start()
    try:
        value: T = _supervise(
            thread, fitted, mailbox=mailbox, recorder=recorder, task=task, workers=workers
        )
        return value
    finally:
        with contextlib.suppress(Exception):
            ray.get(mailbox.stop.remote(False))
            ray.kill(mailbox)
        shutil.rmtree(storage, ignore_errors=True)


def _supervise(
    thread: threading.Thread,
    fitted: list[BaseException | None],
    *,
    mailbox: Any,
    recorder: EpochCallback,
    task: TaskContext,
    workers: int,
) -> Any:
    """Relay rank 0's epochs and the run's stop request until the trainer returned."""
    import ray

    fits: dict[int, TrainingResult] = {}
    errors: list[tuple[int, BaseException | None, str, str]] = []
    done: list[Any] = []
    stop_sent = False
    while True:
        ended = not thread.is_alive()  # before taking: what a finished rank sent is there
        for message in ray.get(mailbox.take.remote(0.0 if ended else _TAKE_S)):
            kind, rank, *rest = message
            if kind == "epoch":
                relay_epoch(fits, recorder, rest)
            elif kind == "done":
                done.append(pickle.loads(rest[0]))  # noqa: S301 - our own rank's bytes
            else:
                errors.append((rank, *rest))
        if not stop_sent and task.interrupted:
            stop_sent = True
            mailbox.stop.remote(True)
        if ended:
            break
    thread.join()
    [failure] = fitted
    died = _died(failure, reported={rank for rank, *_ in errors})
    if failure is not None and (died or not errors):
        # a rank that died unreported comes first: the others' errors follow from it
        raise _trainer_failure(failure, died, workers, task) from failure
    if errors:
        raise reported_failure(errors, workers) from None
    if not done:
        raise PlatformError(
            f"Ray Train finished node {task.node!r}'s training, but rank 0 of {workers} "
            f"returned no result.",
            hint="Run again; if it persists, report it with the Ray worker logs.",
        )
    return done[0]


def _died(failure: BaseException | None, *, reported: set[int]) -> dict[int, BaseException]:
    """The ranks Ray Train saw fail that reported no error of their own: their process died."""
    failures: dict[int, BaseException] = getattr(failure, "worker_failures", None) or {}
    return {rank: error for rank, error in failures.items() if rank not in reported}


def _trainer_failure(
    error: BaseException, died: dict[int, BaseException], workers: int, task: TaskContext
) -> ShipyardError:
    """The error for a training Ray Train ended without a rank's own report (a rank died)."""
    saved = f" in {task.checkpoint_dir}" if task.checkpoint_dir is not None else ""
    if died:
        rank = min(died)
        cause = died[rank]
        first = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
        return WorkerFailed(
            f"training worker rank {rank} of {workers} (a Ray Train worker) failed: "
            f"{type(cause).__name__}: {first}; the other workers were stopped.",
            rank=rank,
            hint=f"Run again: training resumes from rank 0's last checkpoint{saved}.",
        )
    first = (str(error).strip().splitlines() or [""])[0]
    return PlatformError(
        f"Ray Train could not run node {task.node!r}'s {workers} training workers: "
        f"{type(error).__name__}: {first}",
        hint="Check the Ray cluster's resources and worker logs; run again to resume"
        f"{' from the checkpoint' + saved if saved else ''}.",
    )


def ranks_use_gpus(device: str, workers: int, node: str, offered: Mapping[str, float]) -> bool:
    """Whether each rank asks for a GPU; refuse a cluster that can never hold the ranks.

    Args:
        device: The training's `device`: `cuda...` asks for GPUs, `auto` when the cluster
            has them, `cpu` never.
        workers: The number of ranks, each asking for 1 CPU (and 1 GPU).
        node: The pipeline node, for the message.
        offered: The cluster's resources (`ray.cluster_resources()`).

    Raises:
        PlatformError: The cluster has fewer CPUs (or GPUs) than the ranks ask for in all.
    """
    gpus = offered.get("GPU", 0.0)
    use_gpu = device.startswith("cuda") or (device == "auto" and gpus >= 1)
    short = [
        f"{workers} {unit}s (it has {have:g})"
        for unit, have, wanted in (("CPU", offered.get("CPU", 0.0), True), ("GPU", gpus, use_gpu))
        if wanted and have < workers
    ]
    if short:
        raise PlatformError(
            f"Node {node!r} trains in {workers} Ray Train workers, each asking for 1 CPU"
            f"{' and 1 GPU' if use_gpu else ''}; the Ray cluster offers too few: needs "
            f"{' and '.join(short)}.",
            hint="Lower train(workers=...), train on device='cpu', or add nodes to the cluster.",
        )
    return use_gpu


def _backend(use_gpu: bool) -> str:
    return "NCCL on GPUs" if use_gpu else "gloo on CPUs"


def _absolute(value: Any) -> Any:
    """`value` made absolute if it is a path: Ray Train runs the ranks in their own directory."""
    return value.resolve() if isinstance(value, Path) else value


def _rank(config: dict[str, Any]) -> None:
    """One Ray Train rank: run `target` in the group Ray Train made; report to the driver."""
    import ray
    import ray.train

    context = ray.train.get_context()
    rank = context.get_world_rank()
    mailbox = config["mailbox"]
    try:
        value = _train_rank(config, rank, context.get_world_size())
    except BaseException as exc:  # reported to the driver, which names the rank
        message = ("error", rank, portable(exc), type(exc).__name__, traceback.format_exc())
        ray.get(mailbox.put.remote(message))
        raise
    if rank == 0:
        ray.get(mailbox.put.remote(("done", rank, pickle.dumps(value))))


def _train_rank(config: dict[str, Any], rank: int, world: int) -> Any:
    """Call the target in the node's directory, with the run's stop flag, in Ray's group."""
    import ray
    import torch.distributed as dist

    from shipyard.components.train.distributed import environment_group

    if not dist.is_initialized() or environment_group() is None:
        raise PlatformError(
            f"Ray Train started rank {rank} of {world} without a torch.distributed process "
            f"group and its environment (MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE).",
            hint="Use ray.train.torch.TorchTrainer's default TorchConfig(init_method='env').",
        )
    if Path(config["cwd"]).is_dir():  # Ray Train starts the ranks in a directory of its own
        os.chdir(config["cwd"])
    place: Place = config["place"]
    mailbox = config["mailbox"]
    stop = threading.Event()

    def watch() -> None:
        with contextlib.suppress(Exception):  # the mailbox is gone: the training ended
            if ray.get(mailbox.wait_for_stop.remote()):
                stop.set()

    threading.Thread(target=watch, name="shipyard-ray-train-stop", daemon=True).start()
    task = TaskContext(
        node=place.node,
        checkpoint_dir=place.checkpoint_dir,
        stop_requested=stop.is_set,
        engine="ray",
    )
    relay = Relay(_Outbox(mailbox) if rank == 0 else None, place.tensorboard_dir)
    with running_task(task):
        return config["target"](**config["arguments"], recorder=relay)
