"""`ThreadEngine` (`--engine threads`, the default): tasks on a pool of threads in this process."""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, ClassVar

from shipyard.engines.task import execute_task

if TYPE_CHECKING:
    from collections.abc import Callable

    from shipyard.dsl.context import LogEntry, Progress
    from shipyard.engines.result import TaskResult
    from shipyard.engines.spec import TaskSpec


class ThreadEngine:
    """Runs tasks concurrently on threads; the heavy libraries release the GIL.

    The cheapest engine: no process starts, components defined in a notebook or a function
    work, and progress and stop requests are plain calls. A running thread cannot be stopped
    from outside: on Ctrl-C a component stops where it polls `TaskContext.interrupted`.

    Args:
        max_workers: Tasks run at once (default: the number of CPUs, at least 2).
    """

    name: ClassVar[str] = "threads"

    def __init__(self, max_workers: int | None = None) -> None:
        self._max_workers = max_workers or max(2, os.cpu_count() or 1)
        self._pool = ThreadPoolExecutor(self._max_workers, thread_name_prefix="shipyard-task")

    @property
    def max_parallel(self) -> int:
        return self._max_workers

    @property
    def in_process(self) -> bool:
        return True

    def submit(
        self,
        task: TaskSpec,
        *,
        on_progress: Callable[[Progress], None] | None = None,
        stop_requested: Callable[[], bool] | None = None,
        on_log: Callable[[LogEntry], None] | None = None,
    ) -> Future[TaskResult]:
        return self._pool.submit(
            execute_task,
            task,
            engine=self.name,
            on_progress=on_progress,
            stop_requested=stop_requested,
            on_log=on_log,
        )

    def terminate(self) -> None:
        """Threads cannot be stopped: running tasks finish on their own."""

    def close(self) -> None:
        self._pool.shutdown(wait=True)
