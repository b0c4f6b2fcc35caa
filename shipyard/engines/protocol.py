"""The `Engine` protocol and the task it runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from concurrent.futures import Future
    from pathlib import Path

    from shipyard.artifacts import Artifact
    from shipyard.dsl import Component
    from shipyard.dsl.context import Progress
    from shipyard.errors import ComponentFailed


@dataclass(frozen=True)
class TaskSpec:
    """One execution of a component: its input artifacts, empty output artifacts, parameters.

    Attributes:
        node: The node's name, for messages.
        component: The component to call.
        inputs: Input artifacts by port; their `path` is readable where the task runs.
        outputs: Output artifacts by port; their `path` is an empty staging directory.
        parameters: Parameter values as recorded (JSON).
        checkpoint_dir: Where the component may keep checkpoints that outlive a failure
            (`shipyard.dsl.context.TaskContext.checkpoint_dir`).
        on_progress: Receives the component's progress reports.
        stop_requested: Tells the component whether the run was asked to stop
            (`shipyard.dsl.context.TaskContext.stop_requested`).
    """

    node: str
    component: Component[Any]
    inputs: Mapping[str, Artifact]
    outputs: Mapping[str, Artifact]
    parameters: Mapping[str, Any]
    checkpoint_dir: Path | None = None
    on_progress: Callable[[Progress], None] | None = None
    stop_requested: Callable[[], bool] | None = None


@dataclass(frozen=True)
class TaskResult:
    """What came of a task: the outputs with fingerprints and properties, or the error.

    Both when the component saved its outputs, then stopped the run (`RunStopped`).
    `interrupted` when the component stopped because the run was asked to (Ctrl-C).
    """

    node: str
    duration_s: float
    outputs: Mapping[str, Artifact] = field(default_factory=dict)
    error: ComponentFailed | None = None
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


@runtime_checkable
class Engine(Protocol):
    """Runs one execution somewhere; knows nothing of pipelines or the store."""

    name: ClassVar[str]

    @property
    def max_parallel(self) -> int:
        """How many tasks it runs at once."""
        ...

    def submit(self, task: TaskSpec) -> Future[TaskResult]:
        """Start a task; the future never raises: failures come back as `TaskResult.error`."""
        ...

    def close(self) -> None:
        """Wait for running tasks and release workers."""
        ...
