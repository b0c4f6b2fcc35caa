"""Claims on a cache key: at most one running execution per key, taken in one transaction.

`SqlStore.claim_execution` looks for an execution that already answers for the key (a
complete one whose outputs are live, or a running one) and registers a new running execution
only when there is none, all in one write transaction. Two claimers never both see the key
free: on SQLite, write transactions begin with `BEGIN IMMEDIATE` and so run one at a time; on
PostgreSQL, a transaction-scoped advisory lock on the key serialises the claimers of that key
(and only them) until the transaction ends, and one statement reads what holds the key:
completing an execution takes no claim lock, so two statements could see it in neither state.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from shipyard.store.records import Claim, ExecutionRecord
from shipyard.store.sql import statements as sql

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.engine import Connection

    from shipyard.store.records import JSON

__all__ = ["find_holder", "outcome", "running_row"]


def find_holder(conn: Connection, cache_key: str, *, reuse: bool) -> Claim | None:
    """Lock `cache_key` for this transaction and return what already answers for it.

    Args:
        conn: A connection inside a write transaction.
        cache_key: The key to claim.
        reuse: Whether a complete execution with live outputs answers for the key (the
            caller would reuse it); False when the caller executes anyway (`--from`,
            `--no-cache`) and waits only for a running execution.

    Returns:
        A "cached" claim naming the newest complete execution (with `reuse`), else a "held"
        claim naming the oldest running execution with the key, else None: the key is free.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(_lock_id(cache_key))))
    found = [
        ExecutionRecord(**row._mapping)
        for row in conn.execute(sql.HOLDERS, {"cache_key": cache_key}).all()
    ]
    complete = [e for e in found if e.state == "complete"]
    if reuse and complete:
        newest = max(complete, key=lambda e: (e.ended_at.timestamp() if e.ended_at else 0.0, e.id))
        return Claim("cached", newest)
    running = [e for e in found if e.state == "running"]
    if running:
        return Claim("held", min(running, key=lambda e: e.id))
    return None


def _lock_id(cache_key: str) -> int:
    """A signed 64-bit advisory lock id for the key, apart from the migrations' lock id."""
    digest = hashlib.sha256(b"shipyard.claim:" + cache_key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def running_row(
    node: str, component: str, parameters: JSON, cache_key: str, now: datetime
) -> dict[str, Any]:
    """Return the `executions` row of an execution starting now."""
    return {
        "node": node,
        "component": component,
        "parameters": dict(parameters),
        "cache_key": cache_key,
        "state": "running",
        "started_at": now,
    }


def outcome(run_id: str, row: dict[str, Any], inserted: tuple[str, int] | Claim) -> Claim:
    """Return the claim of an insert: the holder found, or the execution `row` started."""
    if isinstance(inserted, Claim):
        return inserted
    pipeline, execution_id = inserted
    return Claim("started", ExecutionRecord(
        id=execution_id, run_id=run_id, pipeline=pipeline, ended_at=None, error=None,
        cached_from=None, **row,
    ))  # fmt: skip
