"""Trigger firings and trigger leases: what `shipyard schedule` records in the store.

A *firing* is one decision of a trigger to start a run of a pipeline: the trigger's name and
kind, why it fired, and the run it started (lineage). It is recorded before the run starts,
keyed by the trigger and an idempotency key (the scheduled time, a fingerprint of the new
data, the alerts), so a scheduler that is killed and restarted, or two schedulers on one
store, never record one firing twice. A *lease* says which scheduler evaluates a trigger,
where its schedule was last checked (`cursor`) and what it has seen (new files, alerts).

`FiringLog` is a protocol apart from `MetadataStore`, so that a store plugin without it still
runs pipelines; `shipyard schedule` asks for it. `SqlStore` implements both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from shipyard.store.records import JSON

FiringState = Literal[
    "requested", "pending", "running", "complete", "failed", "interrupted", "skipped"
]
"""requested: asked for by `shipyard trigger`, not yet admitted by a scheduler; pending:
admitted, its run not started; running; then complete, failed or interrupted as its run
ended; skipped: not run (the pipeline was at its limit of runs, or in its cool-down)."""
FiringKind = Literal["schedule", "new_data", "monitor", "manual"]
FireOutcome = Literal["fired", "duplicate", "blocked"]

ACTIVE_STATES: tuple[FiringState, ...] = ("pending", "running")
"""Firings that hold one of their pipeline's concurrent runs."""
FINAL_STATES: tuple[FiringState, ...] = ("complete", "failed", "interrupted", "skipped")


@dataclass(frozen=True)
class PipelineLimits:
    """How often a pipeline may start: at most `max_concurrent` runs at once, and at least
    `cooldown_s` seconds between the starts of two of its firings."""

    max_concurrent: int = 1
    cooldown_s: float = 0.0


@dataclass(frozen=True)
class NewFiring:
    """A firing about to be recorded.

    Attributes:
        trigger: The trigger's name (unique in a store).
        kind: Its condition's kind.
        key: Its idempotency key: one firing per trigger and key, ever.
        pipeline: The pipeline it runs (its file, and its name in the file if given): the
            unit of the limits.
        reason: Why it fired, for people.
        properties: What the launcher needs (`run`: file, pipeline, params, cwd) and facts.
    """

    trigger: str
    kind: FiringKind
    key: str
    pipeline: str
    reason: str
    properties: JSON = field(default_factory=dict)


@dataclass(frozen=True)
class FiringRecord:
    """A recorded firing; `run_id` is the run it started, once that run is registered."""

    id: int
    trigger: str
    kind: FiringKind
    key: str
    pipeline: str
    reason: str
    state: FiringState
    fired_at: datetime
    ended_at: datetime | None
    run_id: str | None
    attempts: int
    properties: JSON
    error: str | None


@dataclass(frozen=True)
class FireResult:
    """What `FiringLog.fire` did: "fired" (`firing` is the new pending firing), "duplicate"
    (`firing` is the one recorded before with the key), or "blocked" (`reason` says why;
    `firing` is the skipped firing when it was recorded)."""

    outcome: FireOutcome
    firing: FiringRecord | None
    reason: str | None = None


@dataclass(frozen=True)
class TriggerLease:
    """Which scheduler evaluates a trigger, until when, and what the trigger has seen.

    Attributes:
        trigger: The trigger's name.
        holder: The scheduler holding it (host, pid and a random token), or None.
        properties: The holder's host, pid, pid start and triggers file.
        expires_at: When the holder's claim lapses unless renewed.
        cursor: Until when the trigger's schedule was checked.
        seen: What the trigger's condition has seen (files and sizes, spans, alerts).
    """

    trigger: str
    holder: str | None
    properties: JSON
    expires_at: datetime | None
    cursor: datetime | None
    seen: JSON


@runtime_checkable
class FiringLog(Protocol):
    """Records trigger firings and leases; every write is one transaction.

    Limits are checked and a firing inserted in one transaction serialised with every other
    firing of the same pipeline, so two schedulers never both start a pipeline past its limit.
    """

    def fire(
        self,
        new: NewFiring,
        *,
        limits: PipelineLimits,
        now: datetime,
        record_blocked: bool,
        seen: JSON | None = None,
    ) -> FireResult:
        """Record a pending firing unless its key was recorded or its pipeline is at a limit.

        Args:
            new: The firing.
            limits: Its pipeline's limits.
            now: The time of the firing (the scheduler's clock).
            record_blocked: Record a blocked firing as skipped (a scheduled time, which
                must not run later) rather than leave it to be fired again (new data).
            seen: When given, what the trigger has now seen, written with the firing.

        Raises:
            InvalidParameterError: `properties` or `seen` is not plain JSON.
        """
        ...

    def request_firing(self, new: NewFiring, *, now: datetime) -> FiringRecord:
        """Record a "requested" firing for a scheduler to admit (`shipyard trigger`).

        Raises:
            InvalidParameterError: A firing of the trigger with the key exists.
        """
        ...

    def admit_firing(self, firing_id: int, *, limits: PipelineLimits, now: datetime) -> FireResult:
        """Turn a requested firing pending, or skipped if its pipeline is at a limit.

        Raises:
            NotFoundError: There is no firing `firing_id`.
            StoreError: It is not requested.
        """
        ...

    def start_firing(self, firing_id: int, *, launcher: JSON) -> FiringRecord | None:
        """Mark a pending firing running, recording who runs it; None if it is not pending
        (another launcher took it).

        Raises:
            NotFoundError: There is no firing `firing_id`.
        """
        ...

    def link_firing(self, firing_id: int, run_id: str) -> None:
        """Record the run a firing started (lineage).

        Raises:
            NotFoundError: There is no firing `firing_id` or no run `run_id`.
        """
        ...

    def finish_firing(
        self, firing_id: int, state: FiringState, *, error: str | None = None
    ) -> FiringRecord:
        """End a pending or running firing: "complete", "failed", "interrupted" or "skipped".

        Raises:
            InvalidParameterError: `state` is not a final state.
            NotFoundError: There is no firing `firing_id`.
            StoreError: It has ended already.
        """
        ...

    def retry_firing(self, firing_id: int) -> FiringRecord:
        """Make an interrupted firing pending again, counting one more attempt.

        Raises:
            NotFoundError: There is no firing `firing_id`.
            StoreError: It is not interrupted.
        """
        ...

    def get_firing(self, firing_id: int) -> FiringRecord:
        """Return one firing.

        Raises:
            NotFoundError: There is no firing `firing_id`.
        """
        ...

    def list_firings(
        self,
        *,
        trigger: str | None = None,
        states: Sequence[FiringState] | None = None,
        limit: int | None = None,
    ) -> list[FiringRecord]:
        """Return firings, newest first, of one trigger or all, in the given states."""
        ...

    def get_lease(self, trigger: str) -> TriggerLease | None:
        """Return a trigger's lease, or None for a trigger never evaluated."""
        ...

    def claim_lease(
        self,
        trigger: str,
        *,
        holder: str,
        properties: JSON,
        expires_at: datetime,
        now: datetime,
        take_from: str | None = None,
    ) -> TriggerLease | None:
        """Hold (or renew) a trigger's lease until `expires_at`; None if another holds it.

        The lease is free when nobody holds it, its holder's lease has lapsed by `now`, or
        its holder is `take_from` (a holder the caller found dead).
        """
        ...

    def renew_leases(
        self, triggers: Sequence[str], *, holder: str, expires_at: datetime
    ) -> set[str]:
        """Extend, in one transaction, the leases of `triggers` that `holder` still holds;
        return their names (a lease another scheduler took is left as it is)."""
        ...

    def update_lease(
        self,
        trigger: str,
        *,
        holder: str,
        cursor: datetime | None = None,
        seen: JSON | None = None,
    ) -> bool:
        """Move the cursor, or replace what was seen, of a lease `holder` holds; False if
        it does not hold it (any more)."""
        ...

    def release_lease(self, trigger: str, *, holder: str) -> None:
        """Let go of a lease `holder` holds, keeping its cursor and what it has seen."""
        ...
