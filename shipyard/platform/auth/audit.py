"""The audit log: every change and every denied request, who, what, when, where, how it ended.

The log is append-only: this module inserts and reads, nothing updates or deletes an entry,
and the database refuses UPDATE and DELETE on the table (triggers created with it, see
`shipyard.store.sql.tables`). A change and its entry are written in one transaction
(`append`), so the log never misses a change nor tells of one that did not happen.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final, TypedDict, Unpack

from sqlalchemy import insert, select

from shipyard.platform.auth.records import AuditEvent
from shipyard.store.sql.tables import audit_events

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from shipyard.platform.auth.records import Actor, Outcome
    from shipyard.platform.database import Database
    from shipyard.store.records import JSON


__all__ = ["AuditLog", "EntryFields", "append"]

_MAX_TARGET_CHARS: Final = 1000


class EntryFields(TypedDict, total=False):
    """What an entry may say besides who and what (see `AuditEvent`)."""

    outcome: Outcome
    """`ok` (the default), `denied` or `failed`."""
    project: str | None
    """The project it happened in."""
    target: str | None
    """What it acted on."""
    detail: JSON
    """Anything else worth keeping, as JSON."""


def append(conn: Connection, actor: Actor, action: str, **fields: Unpack[EntryFields]) -> None:
    """Add an entry to the log in the transaction of `conn` (the change it tells of)."""
    target = fields.get("target")
    conn.execute(
        insert(audit_events).values(
            at=datetime.now(UTC),
            actor=actor.name,
            action=action[:64],
            outcome=fields.get("outcome", "ok"),
            project=fields.get("project"),
            target=None if target is None else target[:_MAX_TARGET_CHARS],
            request_id=actor.request_id,
            client=actor.client,
            detail=fields.get("detail", {}),
        )
    )


class AuditLog:
    """The audit log in the platform's database.

    Example:
        >>> log = AuditLog(database)
        >>> log.record(Actor("ana"), "job.stop", project="taxi", target="42")
        >>> [event.action for event in log.events(project="taxi")]
        ['job.stop']
    """

    def __init__(self, database: Database) -> None:
        self._database = database

    def record(self, actor: Actor, action: str, **fields: Unpack[EntryFields]) -> None:
        """Add an entry of its own to the log (a denied request, or a change made elsewhere).

        Args:
            actor: Who.
            action: What: `job.submit`, `grant`, or the request's method and path.
            **fields: `outcome`, `project`, `target`, `detail` (see `EntryFields`).
        """
        with self._database.write() as conn:
            append(conn, actor, action, **fields)

    def events(
        self,
        *,
        project: str | None = None,
        since: datetime | None = None,
        after: int | None = None,
        limit: int | None = None,
    ) -> list[AuditEvent]:
        """Return the entries, oldest first.

        Args:
            project: Only those of this project.
            since: Only those at or after this time.
            after: Only those after the entry with this id (the next page).
            limit: At most this many, the oldest.
        """
        query = select(*audit_events.c).order_by(audit_events.c.id)
        if project is not None:
            query = query.where(audit_events.c.project == project)
        if since is not None:
            query = query.where(audit_events.c.at >= since)
        if after is not None:
            query = query.where(audit_events.c.id > after)
        if limit is not None:
            query = query.limit(limit)
        with self._database.read() as conn:
            return [AuditEvent(**row._mapping) for row in conn.execute(query)]
