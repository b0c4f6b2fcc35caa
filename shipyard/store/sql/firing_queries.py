"""The trigger half of `SqlStore`: firings and trigger leases (`shipyard.store.firings`).

A firing's limits are checked and the firing inserted in one write transaction. On SQLite
every write transaction holds the database's write lock (`BEGIN IMMEDIATE`); on PostgreSQL a
transaction-scoped advisory lock on the pipeline serialises the firings of that pipeline,
one on the trigger the claims of its lease, and a row lock the changes of one firing.
The unique (trigger, key) constraint makes a second firing with one key a duplicate, found
before inserting (a lookup under the same lock).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, NoReturn

from sqlalchemy import bindparam, func, insert, select, update

from shipyard.errors import InvalidParameterError, NotFoundError, StoreError
from shipyard.store.firings import (
    ACTIVE_STATES,
    FINAL_STATES,
    FireResult,
    FiringRecord,
    TriggerLease,
)
from shipyard.store.sql.tables import contexts, firings, trigger_leases

if TYPE_CHECKING:
    from collections.abc import Sequence
    from contextlib import AbstractContextManager

    from sqlalchemy.engine import Connection

    from shipyard.store.firings import FiringState, NewFiring, PipelineLimits
    from shipyard.store.records import JSON

__all__ = ["FiringQueries"]

_FIRING_COLUMNS: Final = (
    firings.c.id,
    firings.c.trigger,
    firings.c.kind,
    firings.c.key,
    firings.c.pipeline,
    firings.c.reason,
    firings.c.state,
    firings.c.fired_at,
    firings.c.ended_at,
    contexts.c.name.label("run_id"),
    firings.c.attempts,
    firings.c.properties,
    firings.c.error,
)
_SELECT_FIRINGS: Final = select(*_FIRING_COLUMNS).select_from(
    firings.outerjoin(contexts, firings.c.run_id == contexts.c.id)
)
_FIRING: Final = _SELECT_FIRINGS.where(firings.c.id == bindparam("firing_id"))
# Writes read the firing they change with its row locked (PostgreSQL; SQLite's writes hold
# the database's write lock already), so two launchers never both start a firing.
_FIRING_TO_CHANGE: Final = _FIRING.with_for_update(of=firings)
_BY_KEY: Final = _SELECT_FIRINGS.where(
    firings.c.trigger == bindparam("trigger"), firings.c.key == bindparam("key")
)
_ACTIVE: Final = select(func.count()).where(
    firings.c.pipeline == bindparam("pipeline"), firings.c.state.in_(ACTIVE_STATES)
)
_LAST_START: Final = select(func.max(firings.c.fired_at)).where(
    firings.c.pipeline == bindparam("pipeline"),
    firings.c.state.not_in(("requested", "skipped")),
)
_INSERT: Final = insert(firings).returning(firings.c.id)
_SET_STATE: Final = (
    update(firings)
    .where(firings.c.id == bindparam("firing_id"), firings.c.state == bindparam("expected"))
    .values(state=bindparam("new_state"))
)
_LEASE: Final = select(
    trigger_leases.c.trigger,
    trigger_leases.c.holder,
    trigger_leases.c.properties,
    trigger_leases.c.expires_at,
    trigger_leases.c.cursor,
    trigger_leases.c.seen,
).where(trigger_leases.c.trigger == bindparam("trigger"))


class FiringQueries:
    """The `FiringLog` methods, for `SqlStore` (see `shipyard.store.firings`)."""

    _url: str

    if TYPE_CHECKING:

        def _read(self) -> AbstractContextManager[Connection]: ...

        def _write(self) -> AbstractContextManager[Connection]: ...

        def _run_context(self, conn: Connection, run_id: str) -> tuple[int, str]: ...

    # Firings ------------------------------------------------------------------------------
    def fire(
        self,
        new: NewFiring,
        *,
        limits: PipelineLimits,
        now: datetime,
        record_blocked: bool,
        seen: JSON | None = None,
    ) -> FireResult:
        """Record a pending firing unless its key was recorded or its pipeline is at a limit."""
        with self._write() as conn:
            _lock_pipeline(conn, new.pipeline)
            found = conn.execute(_BY_KEY, {"trigger": new.trigger, "key": new.key}).one_or_none()
            if found is not None:
                return FireResult("duplicate", FiringRecord(**found._mapping))
            blocked = _blocked(conn, new.pipeline, limits, now)
            if blocked is not None and not record_blocked:
                return FireResult("blocked", None, blocked)
            state: FiringState = "pending" if blocked is None else "skipped"
            firing_id = self._insert(conn, new, state, now, error=blocked)
            if seen is not None:
                _set_seen(conn, new.trigger, seen)
            record = FiringRecord(**conn.execute(_FIRING, {"firing_id": firing_id}).one()._mapping)
        return FireResult("fired" if blocked is None else "blocked", record, blocked)

    def request_firing(self, new: NewFiring, *, now: datetime) -> FiringRecord:
        """Record a "requested" firing for a scheduler to admit (`shipyard trigger`)."""
        with self._write() as conn:
            if conn.execute(_BY_KEY, {"trigger": new.trigger, "key": new.key}).first():
                raise InvalidParameterError(
                    f"Trigger {new.trigger!r} fired with the key {new.key!r} already in "
                    f"{self._url}."
                )
            firing_id = self._insert(conn, new, "requested", now)
            return FiringRecord(**conn.execute(_FIRING, {"firing_id": firing_id}).one()._mapping)

    def admit_firing(self, firing_id: int, *, limits: PipelineLimits, now: datetime) -> FireResult:
        """Turn a requested firing pending, or skipped if its pipeline is at a limit."""
        with self._write() as conn:
            firing = self._firing(conn, firing_id, lock=True)
            if firing.state != "requested":
                self._wrong_state(firing, "admit", "requested")
            _lock_pipeline(conn, firing.pipeline)
            blocked = _blocked(conn, firing.pipeline, limits, now)
            values: dict[str, Any] = {"state": "pending", "fired_at": now}
            if blocked is not None:
                values = {"state": "skipped", "ended_at": now, "error": blocked}
            conn.execute(update(firings).where(firings.c.id == firing_id).values(**values))
            record = self._firing(conn, firing_id)
        return FireResult("fired" if blocked is None else "blocked", record, blocked)

    def start_firing(self, firing_id: int, *, launcher: JSON) -> FiringRecord | None:
        """Mark a pending firing running, recording who runs it; None if it is not pending."""
        with self._write() as conn:
            firing = self._firing(conn, firing_id, lock=True)
            if firing.state != "pending":
                return None
            properties = {**firing.properties, "launcher": dict(launcher)}
            conn.execute(
                update(firings)
                .where(firings.c.id == firing_id)
                .values(state="running", properties=properties)
            )
            return self._firing(conn, firing_id)

    def link_firing(self, firing_id: int, run_id: str) -> None:
        """Record the run a firing started (lineage)."""
        with self._write() as conn:
            self._firing(conn, firing_id, lock=True)
            run_pk, _ = self._run_context(conn, run_id)
            conn.execute(update(firings).where(firings.c.id == firing_id).values(run_id=run_pk))

    def finish_firing(
        self, firing_id: int, state: FiringState, *, error: str | None = None
    ) -> FiringRecord:
        """End a pending or running firing."""
        if state not in FINAL_STATES:
            raise InvalidParameterError(
                "The 'state' parameter of finish_firing must be 'complete', 'failed', "
                f"'interrupted' or 'skipped'. Got {state!r} instead."
            )
        with self._write() as conn:
            firing = self._firing(conn, firing_id, lock=True)
            if firing.state not in ACTIVE_STATES:
                self._wrong_state(firing, "finish", "pending or running")
            conn.execute(
                update(firings)
                .where(firings.c.id == firing_id)
                .values(state=state, ended_at=datetime.now(UTC), error=error)
            )
            return self._firing(conn, firing_id)

    def retry_firing(self, firing_id: int) -> FiringRecord:
        """Make an interrupted firing pending again, counting one more attempt."""
        with self._write() as conn:
            firing = self._firing(conn, firing_id, lock=True)
            if firing.state != "interrupted":
                self._wrong_state(firing, "retry", "interrupted")
            conn.execute(
                update(firings)
                .where(firings.c.id == firing_id)
                .values(state="pending", ended_at=None, attempts=firing.attempts + 1)
            )
            return self._firing(conn, firing_id)

    def get_firing(self, firing_id: int) -> FiringRecord:
        """Return one firing."""
        with self._read() as conn:
            return self._firing(conn, firing_id)

    def list_firings(
        self,
        *,
        trigger: str | None = None,
        states: Sequence[FiringState] | None = None,
        limit: int | None = None,
    ) -> list[FiringRecord]:
        """Return firings, newest first, of one trigger or all, in the given states."""
        query = _SELECT_FIRINGS.order_by(firings.c.id.desc()).limit(limit)
        if trigger is not None:
            query = query.where(firings.c.trigger == trigger)
        if states is not None:
            query = query.where(firings.c.state.in_(list(states)))
        with self._read() as conn:
            return [FiringRecord(**row._mapping) for row in conn.execute(query)]

    # Leases -------------------------------------------------------------------------------
    def get_lease(self, trigger: str) -> TriggerLease | None:
        """Return a trigger's lease, or None for a trigger never evaluated."""
        with self._read() as conn:
            row = conn.execute(_LEASE, {"trigger": trigger}).one_or_none()
        return None if row is None else TriggerLease(**row._mapping)

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
        """Hold (or renew) a trigger's lease until `expires_at`; None if another holds it."""
        values = {"holder": holder, "properties": dict(properties), "expires_at": expires_at}
        with self._write() as conn:
            _advisory_lock(conn, "shipyard.lease:" + trigger)  # claimers of one trigger queue
            row = conn.execute(_LEASE, {"trigger": trigger}).one_or_none()
            if row is None:
                conn.execute(insert(trigger_leases).values(trigger=trigger, seen={}, **values))
            else:
                lease = TriggerLease(**row._mapping)
                free = (
                    lease.holder in (None, holder, take_from)
                    or lease.expires_at is None
                    or lease.expires_at <= now
                )
                if not free:
                    return None
                conn.execute(
                    update(trigger_leases)
                    .where(trigger_leases.c.trigger == trigger)
                    .values(**values)
                )
            return TriggerLease(**conn.execute(_LEASE, {"trigger": trigger}).one()._mapping)

    def renew_leases(
        self, triggers: Sequence[str], *, holder: str, expires_at: datetime
    ) -> set[str]:
        """Extend the leases of `triggers` that `holder` still holds; return their names."""
        if not triggers:
            return set()
        names = list(triggers)
        mine = (trigger_leases.c.trigger.in_(names), trigger_leases.c.holder == holder)
        with self._write() as conn:
            conn.execute(update(trigger_leases).where(*mine).values(expires_at=expires_at))
            return set(conn.scalars(select(trigger_leases.c.trigger).where(*mine)))

    def update_lease(
        self,
        trigger: str,
        *,
        holder: str,
        cursor: datetime | None = None,
        seen: JSON | None = None,
    ) -> bool:
        """Move the cursor, or replace what was seen, of a lease `holder` holds."""
        values: dict[str, Any] = {}
        if cursor is not None:
            values["cursor"] = cursor
        if seen is not None:
            values["seen"] = dict(seen)
        if not values:
            return True
        with self._write() as conn:
            changed = conn.execute(
                update(trigger_leases)
                .where(trigger_leases.c.trigger == trigger, trigger_leases.c.holder == holder)
                .values(**values)
            ).rowcount
        return bool(changed)

    def release_lease(self, trigger: str, *, holder: str) -> None:
        """Let go of a lease `holder` holds, keeping its cursor and what it has seen."""
        with self._write() as conn:
            conn.execute(
                update(trigger_leases)
                .where(trigger_leases.c.trigger == trigger, trigger_leases.c.holder == holder)
                .values(holder=None, expires_at=None)
            )

    # Internals ----------------------------------------------------------------------------
    def _insert(
        self,
        conn: Connection,
        new: NewFiring,
        state: FiringState,
        now: datetime,
        *,
        error: str | None = None,
    ) -> int:
        row = {
            "trigger": new.trigger,
            "kind": new.kind,
            "key": new.key,
            "pipeline": new.pipeline,
            "reason": new.reason,
            "state": state,
            "fired_at": now,
            "ended_at": now if state == "skipped" else None,
            "attempts": 0,
            "properties": dict(new.properties),
            "error": error,
        }
        firing_id: int = conn.execute(_INSERT, row).scalar_one()
        return firing_id

    def _firing(self, conn: Connection, firing_id: int, *, lock: bool = False) -> FiringRecord:
        query = _FIRING_TO_CHANGE if lock else _FIRING
        row = conn.execute(query, {"firing_id": firing_id}).one_or_none()
        if row is None:
            raise NotFoundError(f"No trigger firing with id {firing_id} in {self._url}.")
        return FiringRecord(**row._mapping)

    def _wrong_state(self, firing: FiringRecord, verb: str, expected: str) -> NoReturn:
        raise StoreError(
            f"Cannot {verb} firing {firing.id} of trigger {firing.trigger!r} in {self._url}: "
            f"it is {firing.state}, not {expected}."
        )


def _blocked(conn: Connection, pipeline: str, limits: PipelineLimits, now: datetime) -> str | None:
    """Why `pipeline` may not start a run at `now`, or None."""
    active = conn.scalar(_ACTIVE, {"pipeline": pipeline}) or 0
    if active >= limits.max_concurrent:
        return (
            f"pipeline {pipeline} has {active} run{'s' if active != 1 else ''} going "
            f"(max_concurrent {limits.max_concurrent})"
        )
    last: datetime | None = conn.scalar(_LAST_START, {"pipeline": pipeline})
    if last is not None and limits.cooldown_s > 0:
        ready = last + timedelta(seconds=limits.cooldown_s)
        if now < ready:
            return (
                f"pipeline {pipeline} is cooling down until {ready.isoformat(timespec='seconds')} "
                f"(cooldown {limits.cooldown_s:g} s after its last firing)"
            )
    return None


def _lock_pipeline(conn: Connection, pipeline: str) -> None:
    """On PostgreSQL, serialise this transaction with every other firing of `pipeline`."""
    _advisory_lock(conn, "shipyard.firing:" + pipeline)


def _advisory_lock(conn: Connection, name: str) -> None:
    """On PostgreSQL, take a transaction-scoped advisory lock named `name`."""
    if conn.dialect.name == "postgresql":
        digest = hashlib.sha256(name.encode("utf-8")).digest()
        lock_id = int.from_bytes(digest[:8], "big", signed=True)
        conn.execute(select(func.pg_advisory_xact_lock(lock_id)))


def _set_seen(conn: Connection, trigger: str, seen: JSON) -> None:
    conn.execute(
        update(trigger_leases).where(trigger_leases.c.trigger == trigger).values(seen=dict(seen))
    )
