"""The audit log: entries in order, filtered by project and time, and never rewritten."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import delete, update

from shipyard.errors import StoreError
from shipyard.platform.auth.records import Actor
from shipyard.store.sql.tables import audit_events

if TYPE_CHECKING:
    from shipyard.platform.auth.audit import AuditLog
    from shipyard.platform.database import Database

ANA = Actor("ana", request_id="r-1", client="127.0.0.1")


def test_entries_keep_who_what_where_and_how_it_ended(audit: AuditLog) -> None:
    before = datetime.now(UTC)
    audit.record(ANA, "job.stop", project="taxi", target="42", detail={"reason": "mine"})
    audit.record(Actor(None), "GET /api/users", outcome="denied")
    audit.record(ANA, "job.submit", project="fraud", outcome="failed")
    first, second, third = audit.events()
    assert (first.actor, first.action, first.outcome) == ("ana", "job.stop", "ok")
    assert (first.project, first.target, first.detail) == ("taxi", "42", {"reason": "mine"})
    assert (first.request_id, first.client) == ("r-1", "127.0.0.1")
    assert before <= first.at <= second.at <= third.at
    assert (second.actor, second.outcome) == (None, "denied")
    assert [e.action for e in audit.events(project="fraud")] == ["job.submit"]
    assert audit.events(since=datetime.now(UTC) + timedelta(seconds=1)) == []
    assert len(audit.events(limit=2)) == 2


@pytest.mark.parametrize(
    "change", [update(audit_events).values(outcome="ok"), delete(audit_events)]
)
def test_the_database_refuses_to_change_or_delete_entries(
    audit: AuditLog, database: Database, change: object
) -> None:
    audit.record(ANA, "grant", outcome="denied")
    with pytest.raises(StoreError, match="append-only"), database.write() as conn:
        conn.execute(change)  # type: ignore[call-overload]
    [kept] = audit.events()
    assert kept.outcome == "denied"


def test_the_audit_log_has_no_code_path_that_rewrites_it() -> None:
    from pathlib import Path

    import shipyard.platform

    package = Path(shipyard.platform.__file__).parent
    for source in package.rglob("*.py"):
        text = source.read_text(encoding="utf-8")
        if "audit_events" in text:
            assert "update(audit_events" not in text and "delete(audit_events" not in text
