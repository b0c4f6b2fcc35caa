"""The job queue, in the store's database: submit, claim, lease, stop, retry, logs.

There is no broker: a worker claims the oldest pending job in one write transaction. On
PostgreSQL it reads it with `SELECT ... FOR UPDATE SKIP LOCKED`, so claimers pass over the
rows others are claiming instead of waiting for them; on SQLite the transaction begins with
`BEGIN IMMEDIATE` (see `shipyard.store.sql.connection`), so claimers take turns. A claim
holds a lease that the worker renews while the job runs; every claim first puts back the
jobs whose lease expired (their worker died): pending again, one attempt used, or failed
once `max_attempts` are used. Renewals, finishing and log writes name the worker, so a
worker whose lease was taken from it changes nothing.

A job is never run twice at once: only the holder of a live lease runs it, and a lease is
taken back only once it has expired.

Placement: a worker records what it has (`job_workers`, refreshed as it claims) and
claims only the oldest pending job whose requested resources fit what its running jobs
leave free, a test in the claim's own statement. A pending job that no live worker (seen in
the last `placement.WORKER_LIVE_S`) could ever hold says so in its message.

A client's change (submit, stop, retry, delete) and its audit-log entry (`job.submit`...)
are written in one transaction: neither is kept without the other.
"""

from __future__ import annotations

from bisect import bisect_left
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from shipyard.errors import NotFoundError, ShipyardError
from shipyard.platform.auth.audit import append
from shipyard.platform.database import Database, retry_lost_races
from shipyard.platform.jobs.capacity import RESOURCES, Capacity, shortfall
from shipyard.platform.jobs.placement import (
    OLDEST,
    OLDEST_FITTING,
    forget_worker,
    live_workers,
    record_worker,
)
from shipyard.platform.jobs.records import DONE_STATES, JobRecord, LogChunk, kind_of
from shipyard.store.sql.tables import job_logs, jobs

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.engine import Connection

    from shipyard.platform.auth.records import Actor
    from shipyard.platform.jobs.records import JobState, NewJob

__all__ = ["WAITING", "JobConflict", "JobQueue", "LeaseLost"]

WAITING: Final = "waiting for a worker"
_MAX_LIST: Final = 1000


class LeaseLost(Exception):
    """The worker no longer holds the job's lease (it expired and was taken back)."""


class JobConflict(ShipyardError, ValueError):
    """The job is not in a state that allows the request (e.g. deleting a running job)."""

    headline = "Job conflict"


def _now() -> datetime:
    return datetime.now(UTC)


class JobQueue:
    """The queue of jobs in the database at `url` (the server's store).

    Args:
        url: The store's URL (`sqlite:///...` or `postgresql://...`); it is migrated.

    Example:
        >>> queue = JobQueue("sqlite:///.shipyard/store.db")
        >>> job, created = queue.submit(NewJob("taxi", "k1", "ada", "python -c pass"))
        >>> queue.claim("worker-1", lease_s=30).id == job.id
        True
    """

    def __init__(self, url: str) -> None:
        self.database = Database(url)
        self._postgres = url.startswith(("postgresql", "postgres"))
        self._read = self.database.read
        self._write = self.database.write

    @property
    def url(self) -> str:
        """The database's URL, with any password masked."""
        return self.database.url

    def close(self) -> None:
        """Release the queue's connections."""
        self.database.close()

    # Clients -------------------------------------------------------------------------------
    def submit(self, job: NewJob, *, actor: Actor | None = None) -> tuple[JobRecord, bool]:
        """Queue `job` unless its project already has a job with its submission id.

        Args:
            job: The job.
            actor: Who submits it, for the audit log's `job.submit` (None: no entry).

        Returns:
            The job, and whether it was created now (False: the earlier job with the key).
        """
        key = (jobs.c.project == job.project) & (jobs.c.submission_id == job.submission_id)
        row = {
            "project": job.project,
            "submission_id": job.submission_id,
            "submitter": job.submitter,
            "kind": kind_of(job.entrypoint),
            "entrypoint": job.entrypoint,
            "metadata": dict(job.metadata),
            "package": job.package,
            "resources": dict(job.resources),
            "state": "PENDING",
            "message": WAITING,
            "stop_requested": False,
            "attempts": 0,
            "max_attempts": job.max_attempts,
            "created_at": _now(),
        }
        try:
            with self._write() as conn:
                found = conn.execute(select(jobs.c.id).where(key)).scalar()
                if found is not None:
                    return self._record(conn, found), False
                job_id = conn.execute(insert(jobs).values(**row).returning(jobs.c.id)).scalar_one()
                if actor is not None:
                    detail = {"entrypoint": job.entrypoint, "submission_id": job.submission_id}
                    _audit(conn, actor, "job.submit", job.project, job_id, detail=detail)
                return self._record(conn, job_id), True
        except Exception as exc:  # two PostgreSQL submitters of one key: the loser reads it
            if not isinstance(exc.__cause__, IntegrityError):
                raise
        with self._read() as conn:
            return self._record(
                conn, conn.execute(select(jobs.c.id).where(key)).scalar_one()
            ), False

    def get(self, job_id: int) -> JobRecord:
        """Return the job `job_id`.

        Raises:
            NotFoundError: There is no such job.
        """
        with self._read() as conn:
            return self._record(conn, job_id)

    def list_jobs(
        self,
        *,
        projects: Sequence[str] | None = None,
        states: Sequence[JobState] | None = None,
        limit: int = 100,
    ) -> list[JobRecord]:
        """Return the newest jobs first, of `projects` (None: all) in `states` (None: any)."""
        query = select(jobs).order_by(jobs.c.id.desc()).limit(min(limit, _MAX_LIST))
        if projects is not None:
            query = query.where(jobs.c.project.in_(list(projects)))
        if states:
            query = query.where(jobs.c.state.in_(list(states)))
        with self._read() as conn:
            rows = [dict(r._mapping) for r in conn.execute(query)]
            waiting = any(r["state"] == "PENDING" for r in rows)
            pending = _pending_ids(conn) if waiting else []
            workers = live_workers(conn) if waiting else []
        return [_to_record(row, pending, workers) for row in rows]

    def request_stop(self, job_id: int, by: Actor) -> JobRecord:
        """Stop a job: a pending one at once, a running one by its worker (within seconds).

        A job that has ended is returned as it is. The request is audited (`job.stop`).
        """
        with self._write() as conn:
            job = self._locked(conn, job_id)
            _audit(conn, by, "job.stop", job["project"], job_id)
            if job["state"] == "PENDING":
                conn.execute(
                    update(jobs)
                    .where(jobs.c.id == job_id)
                    .values(state="STOPPED", message=f"stopped by {by.name} before it started",
                            ended_at=_now())
                )  # fmt: skip
            elif job["state"] == "RUNNING" and not job["stop_requested"]:
                conn.execute(
                    update(jobs)
                    .where(jobs.c.id == job_id)
                    .values(
                        stop_requested=True,
                        message=f"stop requested by {by.name}; waiting for worker "
                        f"{job['lease_owner']} to end it",
                    )
                )
            return self._record(conn, job_id)

    def retry(self, job_id: int, by: Actor) -> JobRecord:
        """Queue a job that has ended again, with all its attempts; its logs are kept
        (audited: `job.retry`).

        Raises:
            JobConflict: The job is still pending or running.
        """
        with self._write() as conn:
            project = self._ended(conn, job_id, "retried")
            _audit(conn, by, "job.retry", project, job_id)
            conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id)
                .values(
                    state="PENDING", message=f"retried by {by.name}; {WAITING}", attempts=0,
                    stop_requested=False, exit_code=None, started_at=None, ended_at=None,
                    lease_owner=None, lease_expires_at=None,
                )
            )  # fmt: skip
            return self._record(conn, job_id)

    def delete(self, job_id: int, by: Actor) -> None:
        """Delete a job that has ended, with its logs (audited: `job.delete`).

        Raises:
            JobConflict: The job is still pending or running.
        """
        with self._write() as conn:
            project = self._ended(conn, job_id, "deleted")
            _audit(conn, by, "job.delete", project, job_id)
            conn.execute(delete(job_logs).where(job_logs.c.job_id == job_id))
            conn.execute(delete(jobs).where(jobs.c.id == job_id))

    def read_log(self, job_id: int, *, after: int = 0, limit: int = 1000) -> list[LogChunk]:
        """Return the job's log chunks numbered above `after`, in order."""
        query = (
            select(job_logs.c.seq, job_logs.c.attempt, job_logs.c.text)
            .where(job_logs.c.job_id == job_id, job_logs.c.seq > after)
            .order_by(job_logs.c.seq)
            .limit(limit)
        )
        with self._read() as conn:
            return [LogChunk(seq, attempt, text) for seq, attempt, text in conn.execute(query)]

    # Workers -------------------------------------------------------------------------------
    def claim(
        self,
        worker: str,
        *,
        lease_s: float,
        capacity: Capacity | None = None,
        free: Capacity | None = None,
    ) -> JobRecord | None:
        """Take the oldest pending job for `worker` that fits `free`, leased for `lease_s` s.

        Jobs whose lease expired are put back first (see `expire_leases`).

        Args:
            worker: The worker's name.
            lease_s: How long the claim lasts without renewal.
            capacity: What the worker has, recorded as it claims (None: not recorded).
            free: What its running jobs leave free: a job asking for more is passed over
                (None: any job).

        Returns:
            The job, now RUNNING with one more attempt, or None when none is pending.
        """
        with self._write() as conn:
            now = _now()
            self._expire(conn, now)
            if capacity is not None:
                record_worker(conn, worker, capacity, now)
            query = OLDEST if free is None else OLDEST_FITTING
            if self._postgres:
                query = query.with_for_update(skip_locked=True)
            limits = {} if free is None else {f"free_{n}": getattr(free, n) for n in RESOURCES}
            row = conn.execute(query, limits).first()
            if row is None:
                return None
            job = dict(row._mapping)
            attempt = job["attempts"] + 1
            conn.execute(
                update(jobs)
                .where(jobs.c.id == job["id"])
                .values(
                    state="RUNNING", attempts=attempt, lease_owner=worker,
                    lease_expires_at=now + timedelta(seconds=lease_s), started_at=now,
                    message=f"running on worker {worker} (attempt {attempt} of "
                    f"{job['max_attempts']})",
                )
            )  # fmt: skip
            return self._record(conn, job["id"])

    def renew(self, job_id: int, worker: str, *, lease_s: float) -> bool:
        """Extend the worker's lease on a running job.

        Returns:
            Whether a stop was requested (the worker ends the job).

        Raises:
            LeaseLost: The worker no longer holds the job.
        """
        with self._write() as conn:
            stop = conn.execute(
                update(jobs)
                .where(self._held(job_id, worker))
                .values(lease_expires_at=_now() + timedelta(seconds=lease_s))
                .returning(jobs.c.stop_requested)
            ).scalar()
        if stop is None:
            raise LeaseLost(f"worker {worker} no longer holds job {job_id}")
        return bool(stop)

    def finish(
        self, job_id: int, worker: str, *, state: JobState, message: str, exit_code: int | None
    ) -> None:
        """Record how a job the worker holds ended.

        Raises:
            LeaseLost: The worker no longer holds the job (nothing is recorded).
        """
        with self._write() as conn:
            done = conn.execute(
                update(jobs)
                .where(self._held(job_id, worker))
                .values(state=state, message=message, exit_code=exit_code, ended_at=_now(),
                        lease_expires_at=None)
            ).rowcount  # fmt: skip
        if not done:
            raise LeaseLost(f"worker {worker} no longer holds job {job_id}")

    def hand_back(self, job_id: int, worker: str, reason: str) -> None:
        """Put a job the worker holds back in the queue without using an attempt."""
        with self._write() as conn:
            conn.execute(
                update(jobs)
                .where(self._held(job_id, worker))
                .values(state="PENDING", attempts=jobs.c.attempts - 1, lease_owner=None,
                        lease_expires_at=None, started_at=None, message=f"{reason}; {WAITING}")
            )  # fmt: skip

    def append_log(self, job_id: int, worker: str, attempt: int, text: str) -> None:
        """Append output of the worker's attempt to the job's log.

        Raises:
            LeaseLost: The worker no longer holds the job (nothing is written).
        """
        with self._write() as conn:
            if conn.execute(select(jobs.c.id).where(self._held(job_id, worker))).first() is None:
                raise LeaseLost(f"worker {worker} no longer holds job {job_id}")
            last = conn.execute(
                select(func.max(job_logs.c.seq)).where(job_logs.c.job_id == job_id)
            ).scalar()
            conn.execute(
                insert(job_logs).values(job_id=job_id, seq=(last or 0) + 1, attempt=attempt,
                                        text=text)
            )  # fmt: skip

    def advertise(self, worker: str, capacity: Capacity) -> None:
        """Record that `worker` is live and has `capacity` (a busy worker, between claims)."""
        with self._write() as conn:
            record_worker(conn, worker, capacity, _now())

    def retire(self, worker: str) -> None:
        """Forget a worker that stops: it no longer counts as live."""
        with self._write() as conn:
            forget_worker(conn, worker)

    def create_schema(self, schema: str) -> None:
        """Create a PostgreSQL schema (a project's runs) if it is missing; nothing on SQLite.
        (`IF NOT EXISTS` loses to a concurrent creation: the loser runs it again, a no-op.)"""
        if not self._postgres:
            return
        statement = text('CREATE SCHEMA IF NOT EXISTS "{}"'.format(schema.replace('"', "")))

        def create() -> None:
            with self._write() as conn:
                conn.execute(statement)

        retry_lost_races(create)

    def expire_leases(self) -> int:
        """Put back the running jobs whose lease expired; return how many."""
        with self._write() as conn:
            return self._expire(conn, _now())

    # Inside transactions -------------------------------------------------------------------
    @staticmethod
    def _held(job_id: int, worker: str) -> Any:
        return (jobs.c.id == job_id) & (jobs.c.lease_owner == worker) & (jobs.c.state == "RUNNING")

    def _expire(self, conn: Connection, now: datetime) -> int:
        query = select(jobs.c.id, jobs.c.lease_owner, jobs.c.attempts, jobs.c.max_attempts).where(
            jobs.c.state == "RUNNING", jobs.c.lease_expires_at < now
        )
        if self._postgres:
            query = query.with_for_update(skip_locked=True)
        expired = [dict(r._mapping) for r in conn.execute(query)]
        for job in expired:
            lost = (
                f"worker {job['lease_owner']} stopped renewing its lease during attempt "
                f"{job['attempts']} of {job['max_attempts']}"
            )
            if job["attempts"] < job["max_attempts"]:
                values: dict[str, Any] = {
                    "state": "PENDING", "message": f"{lost}; {WAITING} to retry it",
                    "started_at": None,
                }  # fmt: skip
            else:
                values = {
                    "state": "FAILED",
                    "message": f"{lost}; no attempts left",
                    "ended_at": now,
                }
            conn.execute(
                update(jobs)
                .where(jobs.c.id == job["id"])
                .values(lease_owner=None, lease_expires_at=None, **values)
            )
        return len(expired)

    def _locked(self, conn: Connection, job_id: int) -> dict[str, Any]:
        query = select(jobs).where(jobs.c.id == job_id)
        if self._postgres:
            query = query.with_for_update()
        row = conn.execute(query).first()
        if row is None:
            raise NotFoundError(f"There is no job {job_id}.")
        return dict(row._mapping)

    def _ended(self, conn: Connection, job_id: int, verb: str) -> str:
        """Check that the job has ended (locking it); return its project."""
        job = self._locked(conn, job_id)
        state = job["state"]
        if state not in DONE_STATES:
            raise JobConflict(
                f"Job {job_id} is {state}; only a job that has ended can be {verb}.",
                hint=f"Stop it first: shipyard jobs stop {job_id}",
            )
        return str(job["project"])

    def _record(self, conn: Connection, job_id: int) -> JobRecord:
        row = conn.execute(select(jobs).where(jobs.c.id == job_id)).first()
        if row is None:
            raise NotFoundError(f"There is no job {job_id}.")
        job = dict(row._mapping)
        if job["state"] != "PENDING":
            return JobRecord(**job)
        ahead = conn.execute(
            select(func.count()).where(jobs.c.state == "PENDING", jobs.c.id < job_id)
        ).scalar_one()
        return _pending_record(job, ahead, live_workers(conn))


def _audit(
    conn: Connection,
    actor: Actor,
    action: str,
    project: str,
    job_id: int,
    *,
    detail: dict[str, Any] | None = None,
) -> None:
    append(conn, actor, action, project=project, target=str(job_id), detail=detail or {})


def _pending_ids(conn: Connection) -> list[int]:
    return list(
        conn.execute(select(jobs.c.id).where(jobs.c.state == "PENDING").order_by(jobs.c.id))
        .scalars()
        .all()
    )


def _to_record(row: dict[str, Any], pending: list[int], workers: list[Capacity]) -> JobRecord:
    """Build a record (see `_pending_record` for a pending job's message)."""
    if row["state"] == "PENDING":
        return _pending_record(row, bisect_left(pending, row["id"]), workers)
    return JobRecord(**row)


def _pending_record(row: dict[str, Any], ahead: int, workers: list[Capacity]) -> JobRecord:
    """A pending job's message ends with how many pending jobs are ahead, or says that no
    live worker could ever run it."""
    unplaceable = shortfall(Capacity.of(row["resources"]), workers)
    if unplaceable is not None:
        return JobRecord(**{**row, "message": f"{unplaceable}; {WAITING} that large"})
    return JobRecord(**{**row, "message": f"{row['message']} ({_ahead(ahead)})"})


def _ahead(count: int) -> str:
    if count == 0:
        return "next in line"
    return f"{count} job{'s' if count != 1 else ''} ahead"
