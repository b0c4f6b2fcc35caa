"""What runs on the Ray cluster: the task function, and the channel actor beside it.

`run_task` executes one `TaskSpec` (carried as its JSON text) on a Ray worker with
`shipyard.engines.task.execute_task`, as the `processes` engine's worker does on this
machine. Progress reports go out and stop requests come in through one `Channel` actor per
engine: the task reports with fire-and-forget calls, numbered, and ends with a numbered
`finish` marker it waits for. An async actor may run one caller's calls out of order, so
the channel hands each task's messages on in their numbers' order: the engine gets every
report of a task, in order, before its result. A thread of the task waits on
`Channel.wait_for_stop` (a call that returns when the run asks to stop, or when the task
finishes) and sets the flag the component polls: no polling crosses the network.

Imported on the Ray workers, so it imports only Ray and Shipyard's engine modules.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import ray

from shipyard.engines.spec import TaskSpec
from shipyard.engines.task import execute_task

if TYPE_CHECKING:
    from shipyard.dsl.context import LogEntry, Progress

PROGRESS = "progress"
LOG = "log"
FINISHED = "finished"


class Channel:
    """Progress out of the tasks, stop requests into them (an async Ray actor, no CPU).

    Messages are `(task id, kind, payload)`: `("progress", Progress as a dict)`, then one
    `("finished", None)` when the task has reported everything. A task numbers its calls
    from 0 (`seq`); a call that arrives before an earlier one waits for it.
    """

    def __init__(self) -> None:
        self._messages: list[tuple[int, str, Any]] = []
        self._next: dict[int, int] = {}  # per task: the number of the next message handed on
        self._early: dict[int, dict[int, tuple[str, Any]]] = {}  # arrived before their turn
        self._arrived = asyncio.Event()
        self._waiting: dict[int, asyncio.Event] = {}
        self._stopped: set[int] = set()
        self._finished: set[int] = set()

    async def report(self, task_id: int, seq: int, progress: dict[str, Any]) -> None:
        """A task's progress report, its call number `seq`."""
        self._put(task_id, seq, PROGRESS, progress)

    async def log(self, task_id: int, seq: int, entry: dict[str, Any]) -> None:
        """A log record of a task, its call number `seq`."""
        self._put(task_id, seq, LOG, entry)

    async def finish(self, task_id: int, seq: int) -> None:
        """The task has sent its last report (`seq` is this call's number); release its
        stop watcher."""
        self._put(task_id, seq, FINISHED, None)
        waiting = self._waiting.get(task_id)
        if waiting is None:  # its watcher has not called yet, or already returned
            self._finished.add(task_id)
        else:
            waiting.set()

    async def stop(self, task_id: int) -> None:
        """The run asks the task to stop."""
        self._stopped.add(task_id)
        self._waiting.setdefault(task_id, asyncio.Event()).set()

    async def wait_for_stop(self, task_id: int) -> bool:
        """Return True when the run asks the task to stop; False once the task finished."""
        if task_id in self._finished:
            self._finished.discard(task_id)
            return False
        await self._waiting.setdefault(task_id, asyncio.Event()).wait()
        del self._waiting[task_id]
        stopped = task_id in self._stopped
        self._stopped.discard(task_id)
        return stopped

    async def take(self, timeout_s: float) -> list[tuple[int, str, Any]]:
        """Return the messages that arrived, waiting up to `timeout_s` for the first."""
        if not self._messages:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), timeout_s)
        messages, self._messages = self._messages, []
        self._arrived.clear()
        return messages

    def _put(self, task_id: int, seq: int, kind: str, payload: Any) -> None:
        early = self._early.setdefault(task_id, {})
        early[seq] = (kind, payload)
        turn = self._next.get(task_id, 0)
        while turn in early:
            kind, payload = early.pop(turn)
            self._messages.append((task_id, kind, payload))
            turn += 1
        if kind == FINISHED and turn > seq:  # the task's last message is handed on
            self._next.pop(task_id, None)
            self._early.pop(task_id, None)
        else:
            self._next[task_id] = turn
        self._arrived.set()


def run_task(task_json: str, channel: Any, task_id: int) -> str:
    """Execute the task on this Ray worker; return its `TaskResult` as JSON.

    Args:
        task_json: The task (`TaskSpec.to_json`).
        channel: The engine's `Channel` actor.
        task_id: The task's number in the channel.
    """
    stop = threading.Event()

    def watch() -> None:
        with contextlib.suppress(Exception):  # the channel is gone: the engine closed
            if ray.get(channel.wait_for_stop.remote(task_id)):
                stop.set()

    threading.Thread(target=watch, name="shipyard-ray-stop", daemon=True).start()

    numbers = itertools.count()
    sending = threading.Lock()  # numbers follow the order of the calls

    def report(progress: Progress) -> None:
        with sending:
            channel.report.remote(task_id, next(numbers), asdict(progress))

    def log(entry: LogEntry) -> None:
        with sending:
            channel.log.remote(task_id, next(numbers), asdict(entry))

    try:
        result = execute_task(
            TaskSpec.from_json(task_json),
            engine="ray",
            on_progress=report,
            stop_requested=stop.is_set,
            on_log=log,
        )
    finally:
        with sending:
            last = channel.finish.remote(task_id, next(numbers))
        ray.get(last)
    return result.to_json()
