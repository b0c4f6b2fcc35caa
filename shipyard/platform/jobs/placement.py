"""The queue's placement statements: the oldest pending job that fits, and the live workers.

A worker records what it has in `job_workers` as it claims (every few seconds); the workers
seen in the last `WORKER_LIVE_S` are live, and a pending job that none of them could hold
says so (`capacity.shortfall`). The fit test is part of the claim's own statement: a
resource a job does not name counts as 0, and `free_NAME` (a bound parameter) is what the
claiming worker has free.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

from sqlalchemy import bindparam, delete, func, insert, select, update

from shipyard.platform.jobs.capacity import RESOURCES, Capacity
from shipyard.store.sql.tables import job_workers, jobs

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

__all__ = [
    "OLDEST",
    "OLDEST_FITTING",
    "WORKER_LIVE_S",
    "forget_worker",
    "live_workers",
    "record_worker",
]

WORKER_LIVE_S: Final = 30.0
"""A worker that has not recorded itself for this long no longer counts as live."""
_FORGOTTEN_AFTER: Final = timedelta(days=1)

OLDEST: Final = select(jobs).where(jobs.c.state == "PENDING").order_by(jobs.c.id).limit(1)
"""The oldest pending job."""
OLDEST_FITTING: Final = OLDEST.where(
    *(
        func.coalesce(jobs.c.resources[name].as_float(), 0.0) <= bindparam(f"free_{name}")
        for name in RESOURCES
    )
)
"""The oldest pending job whose resources fit in `free_num_cpus`, `free_num_gpus`,
`free_memory`."""


def record_worker(conn: Connection, worker: str, capacity: Capacity, now: datetime) -> None:
    """Record that `worker` is live with `capacity`; a new one first forgets the workers
    gone for a day (each restart of a worker has a new name)."""
    values = {**capacity.as_dict(), "seen_at": now}
    found = conn.execute(
        update(job_workers).where(job_workers.c.name == worker).values(**values)
    ).rowcount
    if not found:
        conn.execute(delete(job_workers).where(job_workers.c.seen_at < now - _FORGOTTEN_AFTER))
        conn.execute(insert(job_workers).values(name=worker, **values))


def forget_worker(conn: Connection, worker: str) -> None:
    """Forget a worker that stops."""
    conn.execute(delete(job_workers).where(job_workers.c.name == worker))


def live_workers(conn: Connection) -> list[Capacity]:
    """What each live worker has."""
    since = datetime.now(UTC) - timedelta(seconds=WORKER_LIVE_S)
    query = select(*(job_workers.c[name] for name in RESOURCES)).where(
        job_workers.c.seen_at >= since
    )
    return [Capacity(*row) for row in conn.execute(query)]
