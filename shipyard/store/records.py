"""Value objects the metadata store reads and writes, in the model of ML Metadata."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from datetime import datetime

ArtifactState = Literal["live", "deleted"]
ExecutionState = Literal[
    "running", "complete", "cached", "failed", "skipped", "interrupted", "abandoned"
]
RunState = Literal["running", "complete", "failed", "interrupted", "abandoned"]
FailureState = Literal["failed", "interrupted"]
"""How an execution ended without outputs: its code failed, or the run stopped it (Ctrl-C)."""
EventKind = Literal["input", "output"]
ClaimOutcome = Literal["started", "held", "cached"]

JSON = dict[str, Any]


@dataclass(frozen=True)
class NewArtifact:
    """An artifact about to be registered: its files are already published at `uri`."""

    type_name: str
    uri: str
    fingerprint: str
    name: str
    properties: JSON = field(default_factory=dict)


@dataclass(frozen=True)
class ArtifactRecord:
    """A registered artifact. `name` is its path `pipeline/run/node/output`."""

    id: int
    type_name: str
    uri: str
    name: str
    state: ArtifactState
    fingerprint: str
    properties: JSON
    created_at: datetime


@dataclass(frozen=True)
class RunRecord:
    """One run of a pipeline: a context grouping its executions and artifacts."""

    id: str
    pipeline: str
    state: RunState
    started_at: datetime
    ended_at: datetime | None
    properties: JSON

    @property
    def duration_s(self) -> float | None:
        return _duration_s(self.started_at, self.ended_at)


@dataclass(frozen=True)
class ExecutionRecord:
    """One execution of a node's component within a run."""

    id: int
    run_id: str
    pipeline: str
    node: str
    component: str
    parameters: JSON
    cache_key: str
    state: ExecutionState
    started_at: datetime
    ended_at: datetime | None
    error: str | None
    cached_from: int | None

    @property
    def duration_s(self) -> float | None:
        return _duration_s(self.started_at, self.ended_at)


@dataclass(frozen=True)
class Event:
    """An artifact going into (`input`) or out of (`output`) an execution, under a port name."""

    artifact_id: int
    execution_id: int
    kind: EventKind
    name: str


@dataclass(frozen=True)
class Claim:
    """What `MetadataStore.claim_execution` found for a cache key.

    Attributes:
        outcome: "started": the key was free and `execution` is the new running execution;
            "held": `execution` is another running execution with the same key, which the
            caller waits for; "cached": `execution` is a complete execution with the key
            whose outputs are all live, which the caller reuses.
        execution: The execution the outcome names.
    """

    outcome: ClaimOutcome
    execution: ExecutionRecord


def _duration_s(started_at: datetime, ended_at: datetime | None) -> float | None:
    return None if ended_at is None else (ended_at - started_at).total_seconds()


RUN_ORDERS = ("started_at", "duration_s")
"""What runs sort by besides a metric (`RunQuery.order_by`, or `metrics.NAME`)."""


@dataclass(frozen=True)
class RunQuery:
    """Which runs `MetadataStore.find_runs` returns, in which order, and which page of them.

    Attributes:
        pipeline: Only runs of this pipeline.
        states: Only runs in one of these states; empty for all.
        search: Only runs whose id, pipeline or properties (parameters included) contain this
            text, ignoring case.
        order_by: "started_at", "duration_s" (a running run counts as not ended: last), or
            "metrics.NAME": the metric NAME recorded when the run ended
            (`MetadataStore.finish_run`); runs without it (running ones too) come last.
        descending: Largest first (newest, longest, highest).
        offset: How many matching runs to skip.
        limit: At most this many runs; None for all.
    """

    pipeline: str | None = None
    states: tuple[str, ...] = ()
    search: str | None = None
    order_by: str = "started_at"
    descending: bool = True
    offset: int = 0
    limit: int | None = None

    @property
    def metric(self) -> str | None:
        """The metric sorted by, or None."""
        prefix = "metrics."
        return self.order_by[len(prefix) :] if self.order_by.startswith(prefix) else None


@dataclass(frozen=True)
class RunPage:
    """One page of runs and how many runs match the query in all."""

    runs: list[RunRecord]
    total: int


@dataclass(frozen=True)
class RunOutput:
    """An output artifact of a run: the node and port that output it, in a run listing."""

    run_id: str
    node: str
    port: str
    artifact: ArtifactRecord
