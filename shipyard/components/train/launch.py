"""Launch a training as N local processes (`train(workers=N)`) and supervise them.

`run_workers` spawns N processes (torch.multiprocessing, spawn: nothing but picklable
arguments and module-level functions cross) with the `torch.distributed` environment set
(`MASTER_ADDR=127.0.0.1`, a free `MASTER_PORT`, `RANK`, `WORLD_SIZE`, `LOCAL_RANK`); each
calls the same module-level training function, which joins the group the environment
describes (`distributed.joined`) exactly as under torchrun. The calling process stays the
component's execution:

- rank 0's epochs come back over a queue and go to the execution's recorder (history,
  TensorBoard, the live progress display), and rank 0's return value is the result;
- a stop request of the run (Ctrl-C) is handed to the ranks, which stop at the same step
  (rank 0 checkpoints first) and raise `ExecutionInterrupted`, raised here again;
- a rank that raises, exits or is killed stops the others within `GRACE_S` seconds; the error
  names the rank and carries its traceback (the rank's own error when it pickles).
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import queue
import signal
import threading
import time
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from shipyard.dsl.context import TaskContext, current_task, running_task
from shipyard.errors import ExecutionInterrupted, ShipyardError, WorkerFailed
from shipyard.io.ports import free_port

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from multiprocessing.process import BaseProcess
    from multiprocessing.queues import Queue
    from multiprocessing.synchronize import Event
    from pathlib import Path

    from shipyard.components.train.loop import EpochCallback, TrainingResult

logger = logging.getLogger("shipyard.components.train")

T = TypeVar("T")

GRACE_S = 2.0
"""After the first rank fails, how long the others get to report their own error."""

_POLL_S = 0.05


def run_workers(
    workers: int,
    target: Callable[..., T],
    arguments: dict[str, Any],
    *,
    recorder: EpochCallback,
) -> T:
    """Call `target(**arguments, recorder=...)` in `workers` processes; return rank 0's value.

    Args:
        workers: The number of processes (ranks).
        target: A module-level function (it is pickled by name) that trains in the group
            the environment describes.
        arguments: Its picklable keyword arguments.
        recorder: Receives rank 0's epochs in this process; its `tensorboard_dir` is handed
            to the ranks (a `run_fn` may read it).

    Raises:
        WorkerFailed: A rank exited or was killed, or raised an error that is not a Shipyard
            error (the rank's exception is the `__cause__` when it pickles).
        ExecutionInterrupted: The run was asked to stop; rank 0 saved the checkpoint.
        ShipyardError: A rank raised it (a `DataError` when training diverged, ...); its
            message names the rank.
    """
    import torch.multiprocessing as mp

    task = current_task()
    context = mp.get_context("spawn")
    messages: Queue[tuple[Any, ...]] = context.Queue()
    stop = context.Event()
    port = free_port()
    tensorboard_dir: Path = getattr(recorder, "tensorboard_dir")  # noqa: B009
    place = Place(task.node, task.checkpoint_dir, tensorboard_dir)
    processes = [
        context.Process(
            target=_worker,
            args=(rank, workers, port, target),
            kwargs={"arguments": arguments, "place": place, "messages": messages, "stop": stop},
            name=f"shipyard-train-rank-{rank}",
            daemon=True,
        )
        for rank in range(workers)
    ]
    for process in processes:
        process.start()
    logger.info("training in %d processes (DDP on 127.0.0.1:%d)", workers, port)
    try:
        return _supervise(processes, messages, stop, recorder, task)  # type: ignore[no-any-return]
    finally:
        _stop_all(processes)
        messages.close()


def _supervise(
    processes: Sequence[BaseProcess],
    messages: Queue[tuple[Any, ...]],
    stop: Event,
    recorder: EpochCallback,
    task: TaskContext,
) -> Any:
    """Relay messages until rank 0 returned and every rank exited, or until a rank failed."""

    fits: dict[int, TrainingResult] = {}
    errors: list[tuple[int, BaseException | None, str, str]] = []
    done: list[Any] = []
    failed_at: float | None = None
    draining = False
    while True:
        if task.interrupted and not stop.is_set():
            stop.set()
        try:
            message = messages.get(timeout=_POLL_S)
        except queue.Empty:
            message = None
        if message is not None:
            kind, rank, *rest = message
            if kind == "epoch":
                relay_epoch(fits, recorder, rest)
            elif kind == "done":
                done.append(pickle.loads(rest[0]))  # noqa: S301 - our own rank's bytes
            else:
                errors.append((rank, *rest))
            continue  # drain the queue before looking at the processes
        exits = [process.exitcode for process in processes]
        settled = all(code is not None for code in exits)
        if settled and not done and not errors and not draining:
            draining = True  # the last messages may still be in the pipe: read them first
            continue
        if settled and all(code == 0 for code in exits) and done:
            return done[0]
        if errors or settled or any(code not in (None, 0) for code in exits):
            failed_at = time.monotonic() if failed_at is None else failed_at
            if settled or time.monotonic() - failed_at > GRACE_S:
                raise _failure(processes, exits, errors, task)


def relay_epoch(
    fits: dict[int, TrainingResult],
    recorder: EpochCallback,
    message: list[Any],
) -> None:
    """Hand one of rank 0's epochs to the recorder, as `fit` in this process would."""
    key, row, restored, resumed_from_epoch = message
    from shipyard.components.train.loop import TrainingResult

    if key not in fits:
        fits[key] = TrainingResult(history=[*(restored or []), row])
    result = fits[key]
    result.resumed_from_epoch = resumed_from_epoch
    recorder(row, result)


def _failure(
    processes: Sequence[BaseProcess],
    exits: list[int | None],
    errors: list[tuple[int, BaseException | None, str, str]],
    task: TaskContext,
) -> ShipyardError:
    """The error to raise for the first rank that failed (a killed rank before the errors
    the others then raised; rank 0's interrupt before the others')."""
    world = len(processes)
    reported = {rank for rank, *_ in errors}
    for rank, code in enumerate(exits):
        if code not in (None, 0) and rank not in reported:
            how = (
                f"was killed by {signal.Signals(-code).name}"
                if code < 0
                else f"exited with code {code}"
            )
            saved = f" in {task.checkpoint_dir}" if task.checkpoint_dir is not None else ""
            return WorkerFailed(
                f"training worker rank {rank} of {world} (pid {processes[rank].pid}) {how}; "
                f"the other workers were stopped.",
                rank=rank,
                hint=f"Run again: training resumes from rank 0's last checkpoint{saved}.",
            )
    return reported_failure(errors, world)


def reported_failure(
    errors: Sequence[tuple[int, BaseException | None, str, str]], world: int
) -> ShipyardError:
    """The error to raise for the errors ranks reported, `(rank, error, type name,
    traceback)`: rank 0's interrupt before the others', else the first reported.

    A Shipyard error keeps its type, its message prefixed with the rank; any other becomes
    `WorkerFailed` with the rank's traceback (the rank's exception as `__cause__`).
    """
    interrupts = sorted(
        (e for e in errors if isinstance(e[1], ExecutionInterrupted)), key=lambda e: e[0]
    )
    rank, error, kind, text = interrupts[0] if interrupts else errors[0]
    where = f"training worker rank {rank} of {world}"
    if isinstance(error, ShipyardError):
        error.message = f"{where}: {error.message}"
        error.add_note(f"Traceback of {where}:\n{text}")
        return error
    failure = WorkerFailed(
        f"{where} raised {kind}; the other workers were stopped.\n{text.rstrip()}",
        rank=rank,
        worker_traceback=text,
    )
    failure.__cause__ = error
    return failure


def _stop_all(processes: Sequence[BaseProcess]) -> None:
    """Terminate the ranks still running; kill those that do not exit within a second."""
    for process in processes:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + 1.0
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join()


class Outbox(Protocol):
    """Where a rank puts its messages for the launcher (a queue, or a Ray actor's inbox)."""

    def put(self, message: tuple[Any, ...]) -> None:
        """Send one message: `("epoch", ...)`, `("done", ...)` or `("error", ...)`."""


class Relay:
    """A rank's `EpochRecorder`: keeps the history; rank 0's sends each epoch to the launcher."""

    def __init__(
        self, messages: Outbox | Queue[tuple[Any, ...]] | None, tensorboard_dir: Path
    ) -> None:
        self.history: list[dict[str, float]] = []
        self.tensorboard_dir = tensorboard_dir
        self._messages = messages
        self._fits: set[int] = set()

    def __call__(self, row: dict[str, float], result: TrainingResult) -> None:
        first = id(result) not in self._fits
        self._fits.add(id(result))
        restored = [dict(r) for r in result.history[:-1]] if first else None
        self.history.extend([*(restored or []), dict(row)])
        if self._messages is not None:
            self._messages.put(
                ("epoch", 0, id(result), dict(row), restored, result.resumed_from_epoch)
            )


@dataclass(frozen=True)
class Place:
    """What a rank needs of the execution: the node, its checkpoint and TensorBoard dirs."""

    node: str
    checkpoint_dir: Path | None
    tensorboard_dir: Path


def _worker(
    rank: int,
    world: int,
    port: int,
    target: Callable[..., Any],
    *,
    arguments: dict[str, Any],
    place: Place,
    messages: Queue[tuple[Any, ...]],
    stop: Event,
) -> None:
    """One rank: set the environment contract, call `target`, report its value or error."""
    os.environ.update(
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        RANK=str(rank),
        WORLD_SIZE=str(world),
        LOCAL_RANK=str(rank),
        LOCAL_WORLD_SIZE=str(world),
    )
    _exit_with_parent()
    context = TaskContext(
        node=place.node, checkpoint_dir=place.checkpoint_dir, stop_requested=stop.is_set
    )
    relay = Relay(messages if rank == 0 else None, place.tensorboard_dir)
    try:
        with running_task(context):
            value = target(**arguments, recorder=relay)
    except BaseException as exc:  # reported to the launcher, which raises it there
        text = traceback.format_exc()
        messages.put(("error", rank, portable(exc), type(exc).__name__, text))
        messages.close()
        messages.join_thread()
        raise SystemExit(1) from None
    if rank == 0:
        # Pickled here, by value: torch's queue would share tensors through this process,
        # which is about to exit.
        messages.put(("done", rank, pickle.dumps(value)))
    messages.close()
    messages.join_thread()


def portable(error: BaseException) -> BaseException | None:
    """`error` if it survives pickling (it crosses to the launcher), else None."""
    with contextlib.suppress(Exception):
        copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own process's bytes
        if isinstance(copy, BaseException):
            return copy
    return None


def _exit_with_parent() -> None:
    """End this rank when the launching process is gone (killed with `kill -9`)."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="shipyard-parent-watch", daemon=True).start()
