"""`ThreadEngine` (`--engine threads`, the default): tasks on a pool of threads in this process.

A task whose component declares slow imports (`@component(preload=("torch",))`) runs in
the engine's warm worker instead, when the runner asked for one (`preload`) and it is free:
one worker process of `shipyard.engines.warm`, started while the nodes upstream still run,
so that importing PyTorch overlaps them on another core instead of holding this process's
GIL for seconds.
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, ClassVar

from shipyard.engines.task import execute_task

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from shipyard.dsl.context import LogEntry, Progress
    from shipyard.engines.result import TaskResult
    from shipyard.engines.spec import TaskSpec
    from shipyard.engines.warm import WarmWorker

logger = logging.getLogger("shipyard.engines")


class ThreadEngine:
    """Runs tasks concurrently on threads; the heavy libraries release the GIL.

    The cheapest engine: no process starts, components defined in a notebook or a function
    work, and progress and stop requests are plain calls. A running thread cannot be stopped
    from outside: on Ctrl-C a component stops where it polls `TaskContext.interrupted`.

    After `preload(modules)`, a task that declares `preload` runs in the warm worker when
    that worker is free and the component can be imported there (defined at the top level
    of a module or of a pipeline file, not of a script run as `__main__`); every other task
    runs on a thread.

    Args:
        max_workers: Tasks run at once (default: the number of CPUs, at least 2).
    """

    name: ClassVar[str] = "threads"

    def __init__(self, max_workers: int | None = None) -> None:
        self._max_workers = max_workers or max(2, os.cpu_count() or 1)
        self._pool = ThreadPoolExecutor(self._max_workers, thread_name_prefix="shipyard-task")
        self._lock = threading.Lock()
        self._warm: WarmWorker | None = None
        self._warm_tried = False
        self._warm_busy = False

    @property
    def max_parallel(self) -> int:
        return self._max_workers

    @property
    def in_process(self) -> bool:
        return True

    def preload(self, modules: Sequence[str]) -> None:
        """Start the warm worker importing `modules` (once; later calls do nothing).

        Where no process can be started, tasks run on threads, and the reason is logged.
        """
        with self._lock:
            if self._warm_tried:
                return
            self._warm_tried = True
        from shipyard.engines.warm import WarmWorker

        try:
            warm = WarmWorker(modules)
        except OSError as exc:
            logger.warning(
                "cannot start a worker process to import %s ahead (%s); nodes run on threads",
                ", ".join(modules),
                exc,
            )
            return
        with self._lock:
            self._warm = warm

    def submit(
        self,
        task: TaskSpec,
        *,
        on_progress: Callable[[Progress], None] | None = None,
        stop_requested: Callable[[], bool] | None = None,
        on_log: Callable[[LogEntry], None] | None = None,
    ) -> Future[TaskResult]:
        warm = self._take_warm(task)
        if warm is not None:
            future = warm.submit(
                task, on_progress=on_progress, stop_requested=stop_requested, on_log=on_log
            )
            future.add_done_callback(self._release_warm)
            return future
        return self._pool.submit(
            execute_task,
            task,
            engine=self.name,
            on_progress=on_progress,
            stop_requested=stop_requested,
            on_log=on_log,
        )

    def terminate(self) -> None:
        """End the warm worker now: its task, if any, comes back interrupted, and later tasks
        run on threads. Threads cannot be stopped: they finish on their own."""
        with self._lock:
            warm, self._warm = self._warm, None
        if warm is not None:
            warm.terminate()
            warm.close()

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        with self._lock:
            warm, self._warm = self._warm, None
        if warm is not None:
            warm.close()

    def _take_warm(self, task: TaskSpec) -> WarmWorker | None:
        """The warm worker, marked busy, if `task` should run there; else None."""
        if not task.preload or task.component.importable is not None:
            return None
        local = task.component.local
        if local is not None and local.fn.__module__ == "__main__":  # importing runs the script
            return None
        with self._lock:
            if self._warm is None or self._warm_busy:
                return None
            self._warm_busy = True
            return self._warm

    def _release_warm(self, _: Future[TaskResult]) -> None:
        with self._lock:
            self._warm_busy = False
