"""A job's values: what a client submits (`NewJob`) and what the queue records (`JobRecord`)."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal

if TYPE_CHECKING:
    from datetime import datetime

__all__ = [
    "ACTIVE_STATES",
    "DONE_STATES",
    "JOB_KINDS",
    "JOB_STATES",
    "JobKind",
    "JobRecord",
    "JobState",
    "LogChunk",
    "NewJob",
    "kind_of",
]

JobState = Literal["PENDING", "RUNNING", "SUCCEEDED", "FAILED", "STOPPED"]
JobKind = Literal["pipeline", "train", "command"]
JOB_STATES: Final[tuple[JobState, ...]] = ("PENDING", "RUNNING", "SUCCEEDED", "FAILED", "STOPPED")
JOB_KINDS: Final[tuple[JobKind, ...]] = ("pipeline", "train", "command")
ACTIVE_STATES: Final[frozenset[str]] = frozenset({"PENDING", "RUNNING"})
DONE_STATES: Final[frozenset[str]] = frozenset({"SUCCEEDED", "FAILED", "STOPPED"})


def kind_of(entrypoint: str) -> JobKind:
    """Return the kind of a job by its command line: `shipyard run` a pipeline, `shipyard
    train` a training, anything else a command."""
    words = shlex.split(entrypoint)
    if len(words) >= 2 and words[0] == "shipyard":
        if words[1] == "run":
            return "pipeline"
        if words[1] == "train":
            return "train"
    return "command"


@dataclass(frozen=True)
class NewJob:
    """A job to queue.

    Args:
        project: The project it runs in.
        submission_id: The client's idempotency key, unique in the project.
        submitter: The user submitting it.
        entrypoint: The command line to run (parsed with `shlex`, never by a shell).
        metadata: The client's labels, returned as given.
        package: The sha256 of the uploaded working directory, if any.
        resources: What the job asks for (`num_cpus`, `num_gpus`, `memory`).
        max_attempts: How many times a job whose worker died is tried in all.
    """

    project: str
    submission_id: str
    submitter: str
    entrypoint: str
    metadata: dict[str, str] = field(default_factory=dict)
    package: str | None = None
    resources: dict[str, float] = field(default_factory=dict)
    max_attempts: int = 3


@dataclass(frozen=True)
class JobRecord:
    """A job as the queue holds it; `message` says why it is in its state."""

    id: int
    project: str
    submission_id: str
    submitter: str
    kind: JobKind
    entrypoint: str
    metadata: dict[str, Any]
    package: str | None
    resources: dict[str, Any]
    state: JobState
    message: str
    stop_requested: bool
    attempts: int
    max_attempts: int
    lease_owner: str | None
    lease_expires_at: datetime | None
    exit_code: int | None
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None

    @property
    def done(self) -> bool:
        """Whether the job has ended (succeeded, failed or stopped)."""
        return self.state in DONE_STATES


@dataclass(frozen=True)
class LogChunk:
    """Output of a job, in the order written: `seq` counts from 1 over all its attempts."""

    seq: int
    attempt: int
    text: str
