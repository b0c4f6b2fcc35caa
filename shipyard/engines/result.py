"""`TaskResult`: what came of a task, as data that crosses processes (`to_json`, `from_json`).

An error crosses as its class, message and tracebacks: the user's exception object stays
where it was raised, and `ComponentFailed.exception_type` names its type.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shipyard import errors
from shipyard.engines.spec import ArtifactRef

if TYPE_CHECKING:
    from collections.abc import Mapping

TaskError = errors.ComponentFailed | errors.PlatformError


@dataclass(frozen=True)
class TaskResult:
    """What came of a task: its published outputs, or the error.

    Attributes:
        node: The task's node.
        duration_s: How long the component ran, outputs' publishing included.
        outputs: The published outputs by port, with fingerprints and properties. Set when
            the task succeeded, and when its component saved its outputs, then stopped the
            run (`stopped`).
        error: Why the task failed: the component raised (`ComponentFailed`), or the
            platform could not do its part (a `PlatformError` such as `StorageError`).
        stopped: The component raised `RunStopped` after saving its outputs in full.
        interrupted: The component stopped because the run was asked to (Ctrl-C).
    """

    node: str
    duration_s: float
    outputs: Mapping[str, ArtifactRef] = field(default_factory=dict)
    error: TaskError | None = None
    stopped: bool = False
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json(self) -> str:
        """The result as JSON; `from_json` reads it back."""
        return json.dumps(
            {
                "node": self.node,
                "duration_s": self.duration_s,
                "outputs": {port: ref.to_dict() for port, ref in self.outputs.items()},
                "error": None if self.error is None else error_to_dict(self.error),
                "stopped": self.stopped,
                "interrupted": self.interrupted,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> TaskResult:
        """Read a result written by `to_json`."""
        data = json.loads(text)
        return cls(
            node=data["node"],
            duration_s=data["duration_s"],
            outputs={port: ArtifactRef.from_dict(ref) for port, ref in data["outputs"].items()},
            error=None if data["error"] is None else error_from_dict(data["error"]),
            stopped=data["stopped"],
            interrupted=data["interrupted"],
        )


def error_to_dict(error: TaskError) -> dict[str, Any]:
    """A task's error as JSON-ready data; a platform fault keeps the component's traceback."""
    data: dict[str, Any] = {"class": type(error).__name__, "message": error.message}
    if isinstance(error, errors.ComponentFailed):
        data |= {
            "node": error.node,
            "traceback": error.user_traceback,
            "exception_type": error.exception_type,
        }
    else:
        data |= {"path": error.path, "hint": error.hint}
        if isinstance(error.__cause__, errors.ComponentFailed):
            data["component"] = error_to_dict(error.__cause__)
    return data


def error_from_dict(data: Mapping[str, Any]) -> TaskError:
    """Rebuild an error written by `error_to_dict`."""
    if data["class"] == "ComponentFailed":
        return errors.ComponentFailed(
            data["message"],
            node=data["node"],
            user_traceback=data["traceback"],
            exception_type=data.get("exception_type", ""),
        )
    cls = getattr(errors, data["class"], None)
    if not (isinstance(cls, type) and issubclass(cls, errors.PlatformError)):
        cls = errors.PlatformError
    error = cls(data["message"], path=data.get("path"), hint=data.get("hint"))
    if data.get("component") is not None:
        error.__cause__ = error_from_dict(data["component"])
    return error
