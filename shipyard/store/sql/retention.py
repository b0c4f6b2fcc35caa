"""The queries and the lock that keep `shipyard gc` from deleting what a run is using.

Deleting artifacts and recording that an execution uses some are serialised by one lock: on
SQLite every write transaction already holds the database's write lock (`BEGIN IMMEDIATE`);
on PostgreSQL both take the transaction-scoped advisory lock `GC_LOCK_KEY`. Inside the lock,
the deleting transaction sees every use committed before it, and the using transaction sees
every deletion committed before it, so no run can record a use of a deleted artifact.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from sqlalchemy import bindparam, select, text

from shipyard.errors import ArtifactDeletedError
from shipyard.store.sql.statements import chunk
from shipyard.store.sql.tables import artifacts, contexts, events, executions

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

__all__ = ["GC_LOCK_KEY", "USERS", "require_live", "take_gc_lock"]

GC_LOCK_KEY: Final = 0x5348_4950_5941_5244 & 0x7FFF_FFFF_FFFF_FFFF  # "SHIPYARD"
"""The PostgreSQL advisory lock key that artifact deletion and artifact use share."""

NOT_LIVE: Final = select(artifacts.c.id, artifacts.c.name).where(
    artifacts.c.id.in_(bindparam("ids", expanding=True)), artifacts.c.state != "live"
)
USERS: Final = (
    select(events.c.artifact_id, contexts.c.name)
    .join(executions, events.c.execution_id == executions.c.id)
    .join(contexts, executions.c.run_id == contexts.c.id)
    .where(events.c.artifact_id.in_(bindparam("ids", expanding=True)))
    .distinct()
)
_ADVISORY_LOCK: Final = text("SELECT pg_advisory_xact_lock(:key)")


def take_gc_lock(conn: Connection) -> None:
    """Hold the lock that artifact deletion and artifact use share until the transaction ends.

    SQLite's write transactions already exclude each other, so this does nothing there.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(_ADVISORY_LOCK, {"key": GC_LOCK_KEY})


def require_live(conn: Connection, artifact_ids: list[int], url: str) -> None:
    """Raise if an artifact a new execution uses was deleted (by a `gc` just before).

    Args:
        conn: A write transaction that holds the lock (`take_gc_lock`).
        artifact_ids: The artifacts the execution reads or reuses.
        url: The store's masked URL, for the message.

    Raises:
        ArtifactDeletedError: One of them is deleted; the message names each.
    """
    gone: list[tuple[int, str]] = []
    for ids in chunk(list(dict.fromkeys(artifact_ids))):
        gone.extend((id_, name) for id_, name in conn.execute(NOT_LIVE, {"ids": ids}))
    if gone:
        listed = ", ".join(f"#{id_} {name}" for id_, name in sorted(gone))
        raise ArtifactDeletedError(
            f"Cannot record an execution using artifact(s) {listed} in {url}: "
            "they were deleted by `shipyard gc` after this run looked them up.",
            hint="Run the pipeline again; it recomputes what is gone.",
        )
