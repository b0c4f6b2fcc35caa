"""The `Engine` protocol: where tasks run. It knows nothing of pipelines or the store."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Protocol, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from concurrent.futures import Future

    from shipyard.dsl.context import LogEntry, Progress
    from shipyard.engines.result import TaskResult
    from shipyard.engines.spec import TaskSpec


@runtime_checkable
class Engine(Protocol):
    """Runs tasks somewhere: threads of this process, worker processes, a cluster.

    A task is plain data (`TaskSpec`); an engine carries it to where it runs, calls
    `shipyard.engines.task.execute_task` there, and brings the `TaskResult` back, with the
    component's progress reports and log records on the way and the run's request to stop on
    the way out.
    `shipyard.testing.check_engine` is the conformance suite every engine passes.
    """

    name: ClassVar[str]

    @property
    def max_parallel(self) -> int:
        """How many tasks it runs at once."""
        ...

    @property
    def in_process(self) -> bool:
        """Whether tasks run in this process (components defined in a function work)."""
        ...

    def submit(
        self,
        task: TaskSpec,
        *,
        on_progress: Callable[[Progress], None] | None = None,
        stop_requested: Callable[[], bool] | None = None,
        on_log: Callable[[LogEntry], None] | None = None,
    ) -> Future[TaskResult]:
        """Start a task; the future never raises: failures come back as `TaskResult.error`.

        Args:
            task: The task.
            on_progress: Called in this process with the component's progress reports.
            stop_requested: Polled in this process; once it returns True the running task
                sees `TaskContext.interrupted`.
            on_log: Called in this process with the records the component logs.
        """
        ...

    def terminate(self) -> None:
        """Stop running tasks now, where the engine can (threads cannot be stopped)."""
        ...

    def close(self) -> None:
        """Wait for running tasks and release workers."""
        ...


@runtime_checkable
class Preloader(Protocol):
    """An engine that can import tasks' slow modules ahead of the tasks (optional for engines).

    The runner calls `preload` when a run will likely execute nodes whose component declares
    `@component(preload=...)` (`TaskSpec.preload`), before their upstream nodes run; it may
    call it again later in the run. The `threads` engine starts its warm worker process at
    the first call and ignores the others (docs/engines.md).
    """

    def preload(self, modules: Sequence[str]) -> None:
        """Start importing `modules` where the tasks that declare them will run.

        Never raises for a module or a process that cannot be loaded or started: the tasks
        then run as they would have without it.
        """
        ...
