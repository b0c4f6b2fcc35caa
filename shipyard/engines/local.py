"""`LocalEngine`: runs tasks on a pool of threads in this process."""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, ClassVar

from shipyard.engines.task import execute_task

if TYPE_CHECKING:
    from shipyard.engines.protocol import TaskResult, TaskSpec


class LocalEngine:
    """Runs tasks concurrently on threads; the heavy libraries release the GIL.

    Args:
        max_workers: Tasks run at once (default: the number of CPUs, at least 2).
    """

    name: ClassVar[str] = "local"

    def __init__(self, max_workers: int | None = None) -> None:
        self._max_workers = max_workers or max(2, os.cpu_count() or 1)
        self._pool = ThreadPoolExecutor(self._max_workers, thread_name_prefix="shipyard-task")

    @property
    def max_parallel(self) -> int:
        return self._max_workers

    def submit(self, task: TaskSpec) -> Future[TaskResult]:
        return self._pool.submit(execute_task, task)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
