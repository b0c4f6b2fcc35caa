"""What a component can ask of the run executing it: a checkpoint directory, progress reports,
and whether the run was asked to stop (Ctrl-C).

Inside a run, `current_task()` returns the context the engine set for this execution; outside
one (calling `component.fn` in a unit test) it returns a context without a checkpoint
directory whose reports go nowhere and that is never interrupted, so components need no
special case.
"""

from __future__ import annotations

import contextlib
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from shipyard.errors import ExecutionInterrupted

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path


@dataclass(frozen=True)
class Progress:
    """A component's progress: `done` of `total` units, and live values such as the loss.

    Attributes:
        done: Units done so far, those of an earlier, interrupted execution included.
        total: Units planned, if known.
        unit: What is counted ("epoch", "steps", "rows").
        values: Live values, such as the loss.
        resumed_from: The unit an interrupted execution had finished, when this execution
            resumed from its checkpoint; None when it started from scratch.
    """

    done: int
    total: int | None = None
    unit: str = "steps"
    values: dict[str, float] = field(default_factory=dict)
    resumed_from: int | None = None

    def describe(self) -> str:
        """One line: `epoch 9/50 · loss 0.312 · eval_loss 0.298 · resumed from epoch 7`."""
        count = f"{self.done}/{self.total}" if self.total else str(self.done)
        values = "".join(f" · {k} {v:.4g}" for k, v in self.values.items())
        resumed = ""
        if self.resumed_from is not None:
            resumed = f" · resumed from {self.unit} {self.resumed_from}"
        return f"{self.unit} {count}{values}{resumed}"


@dataclass(frozen=True)
class LogEntry:
    """A log record a component emitted (through `logging`), as it crosses to the runner.

    Attributes:
        time_s: When (seconds since the epoch).
        level: `WARNING`, `INFO`, ...
        logger: The logger's name.
        message: The formatted message, with the exception's traceback if it had one.
    """

    time_s: float
    level: str
    logger: str
    message: str


@dataclass(frozen=True)
class TaskContext:
    """The execution a component runs in.

    Attributes:
        node: The node's name ("" outside a run).
        checkpoint_dir: A directory that outlives a failed or killed execution and is
            handed to the next execution with the same cache key (same code, parameters and
            inputs), so long work resumes; deleted once the node completes. None outside a run.
        on_progress: Receives progress reports (the live display).
        stop_requested: Tells whether the run was asked to stop (a first Ctrl-C); a long
            component polls it through `interrupted` or `check_interrupted()`.
        engine: The name of the engine running the execution (`threads`, `processes`,
            `ray`), so a data component can use the engine's own data layer; "" outside a run.
    """

    node: str = ""
    checkpoint_dir: Path | None = None
    on_progress: Callable[[Progress], None] | None = None
    stop_requested: Callable[[], bool] | None = None
    engine: str = ""

    @property
    def interrupted(self) -> bool:
        """Whether the run was asked to stop: save a checkpoint and return or raise soon."""
        return self.stop_requested is not None and self.stop_requested()

    def check_interrupted(self) -> None:
        """Raise `ExecutionInterrupted` if the run was asked to stop; call it between steps.

        Save what lets the work resume (in `checkpoint_dir`) before calling it, or catch the
        error, save, and raise it again. The runner waits a few seconds for running nodes to
        stop this way, then leaves them behind.

        Raises:
            ExecutionInterrupted: The run was asked to stop (Ctrl-C).

        Example:
            >>> for step in range(steps):
            ...     train_step()
            ...     current_task().check_interrupted()
        """
        if self.interrupted:
            where = f"node {self.node!r}" if self.node else "the component"
            raise ExecutionInterrupted(
                f"{where} stopped: the run was interrupted (Ctrl-C).",
                hint="Run the same command again to resume; finished nodes come from the cache.",
            )

    def progress(
        self,
        done: int,
        total: int | None = None,
        *,
        unit: str = "steps",
        resumed_from: int | None = None,
        **values: float,
    ) -> None:
        """Report progress: `context.progress(epoch, epochs, unit="epoch", loss=0.31)`.

        Pass `resumed_from` (the last unit an interrupted execution finished) when the work
        resumed from `checkpoint_dir`, so the live display says so.
        """
        if self.on_progress is not None:
            self.on_progress(Progress(done, total, unit, dict(values), resumed_from))


_CURRENT: ContextVar[TaskContext] = ContextVar("shipyard_task", default=TaskContext())  # noqa: B039


def current_task() -> TaskContext:
    """Return the context of the execution calling it."""
    return _CURRENT.get()


@contextlib.contextmanager
def running_task(context: TaskContext) -> Iterator[TaskContext]:
    """Make `context` current while an engine runs a component (in this thread)."""
    token = _CURRENT.set(context)
    try:
        yield context
    finally:
        _CURRENT.reset(token)
