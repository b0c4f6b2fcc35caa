"""The jobs REST API, shaped like Ray's Jobs API: Starlette routes the server mounts.

Every handler first asks the request's principal whether it may (`Principal.require`): to
read a job, `read` in its project (a job of a project the principal may not read is a 404,
as if it did not exist); to submit, `submit`; to stop, retry or delete one's own job,
`submit`, and anyone's, `manage_jobs`. Each change is written to the audit log (`job.submit`,
`job.stop`, `job.retry`, `job.delete`: by the queue, in the change's own transaction;
`package.upload` once the package is kept); the auth middleware and its denial handlers
answer and record the refusals.
"""

from __future__ import annotations

import asyncio
import functools
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from anyio import to_thread
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from shipyard.errors import NotFoundError
from shipyard.platform.access import Action
from shipyard.platform.auth.denials import actor_of
from shipyard.platform.auth.middleware import principal_of
from shipyard.platform.jobs.job_json import job_json, log_json
from shipyard.platform.jobs.packages import PackageRejected
from shipyard.platform.jobs.records import JOB_STATES
from shipyard.platform.jobs.submission import parse_submission
from shipyard.ui.problems import BadParameter

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from starlette.requests import Request
    from starlette.routing import BaseRoute

    from shipyard.platform.auth.accounts import Accounts
    from shipyard.platform.auth.audit import AuditLog
    from shipyard.platform.jobs.packages import PackageStore
    from shipyard.platform.jobs.queue import JobQueue
    from shipyard.platform.jobs.records import JobRecord, JobState

__all__ = ["JobService", "job_routes"]

TAIL_POLL_S: Final = 0.25
_MAX_LIMIT: Final = 1000


@dataclass(frozen=True)
class JobService:
    """What the jobs API works with, kept on `app.state.jobs`.

    Attributes:
        queue: The job queue.
        packages: The uploaded working directories.
        accounts: The projects (a job's project must exist).
        audit: Where each change is written.
    """

    queue: JobQueue
    packages: PackageStore
    accounts: Accounts
    audit: AuditLog

    def record(
        self, request: Request, action: str, project: str, target: str, **detail: Any
    ) -> None:
        """Write a change to the audit log: who, `action` (`job.submit`...), where, on what."""
        self.audit.record(
            actor_of(request), action, project=project, target=target, detail=dict(detail)
        )


def job_routes() -> list[BaseRoute]:
    """The routes of the jobs API (the app keeps a `JobService` on `app.state.jobs`)."""
    return [
        Route("/api/packages", upload_package, methods=["POST"]),
        Route("/api/jobs", submit_job, methods=["POST"]),
        Route("/api/jobs/", submit_job, methods=["POST"]),
        Route("/api/jobs", list_jobs, methods=["GET"]),
        Route("/api/jobs/", list_jobs, methods=["GET"]),
        Route("/api/jobs/{job_id:int}", get_job, methods=["GET"]),
        Route("/api/jobs/{job_id:int}", delete_job, methods=["DELETE"]),
        Route("/api/jobs/{job_id:int}/logs", job_logs, methods=["GET"]),
        Route("/api/jobs/{job_id:int}/logs/tail", tail_job_logs, methods=["GET"]),
        Route("/api/jobs/{job_id:int}/stop", stop_job, methods=["POST"]),
        Route("/api/jobs/{job_id:int}/retry", retry_job, methods=["POST"]),
    ]


def _service(request: Request) -> JobService:
    service: JobService = request.app.state.jobs
    return service


def _json(value: Any, status_code: int = 200) -> Response:
    return Response(json.dumps(value), status_code=status_code, media_type="application/json")


def _readable_job(request: Request) -> JobRecord:
    principal = principal_of(request)
    job = _service(request).queue.get(request.path_params["job_id"])
    principal.require(Action.READ, job.project)
    return job


def _changeable_job(request: Request) -> JobRecord:
    principal = principal_of(request)
    job = _service(request).queue.get(request.path_params["job_id"])
    own = job.submitter == principal.name
    principal.require(Action.SUBMIT if own else Action.MANAGE_JOBS, job.project)
    return job


# Packages ----------------------------------------------------------------------------------
async def upload_package(request: Request) -> Response:
    """Keep a tar.gz of a working directory: `?project=P`, the archive as the body."""
    principal = principal_of(request)
    project = request.query_params.get("project")
    if not project:
        raise BadParameter("project", "must name the project the package is for.")
    principal.require(Action.SUBMIT, project)
    packages = _service(request).packages
    received = bytearray()
    async for part in request.stream():
        received += part
        if len(received) > packages.max_bytes:
            raise PackageRejected(
                f"The package is over the server's limit of {packages.max_bytes:,} bytes.",
                hint="Leave data and build outputs out (.gitignore them), or raise the "
                "server's --max-package-bytes.",
                too_large=True,
            )
    sha = await to_thread.run_sync(packages.put, bytes(received))
    await to_thread.run_sync(
        functools.partial(
            _service(request).record, request, "package.upload", project, sha,
            size_bytes=len(received),
        )
    )  # fmt: skip
    return _json({"working_dir": sha, "size_bytes": len(received)}, 201)


# Jobs --------------------------------------------------------------------------------------
async def submit_job(request: Request) -> Response:
    """Queue a job; a submission id the project already used answers with that job."""
    principal = principal_of(request)
    try:
        body = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadParameter("body", f"must be JSON: {exc}.") from None
    new = parse_submission(body, submitter=principal.name)
    principal.require(Action.SUBMIT, new.project)
    service = _service(request)
    await to_thread.run_sync(service.accounts.get_project, new.project)
    packages = service.packages  # on an object store, `has` is a request: off the loop
    if new.package is not None and not await to_thread.run_sync(packages.has, new.package):
        raise BadParameter(
            "runtime_env.working_dir",
            f"names no uploaded package ({new.package!r}); upload it with POST /api/packages.",
        )
    submit = functools.partial(service.queue.submit, new, actor=actor_of(request))
    job, created = await to_thread.run_sync(submit)
    return _json({"job_id": job.id, "submission_id": job.submission_id}, 201 if created else 200)


def list_jobs(request: Request) -> Response:
    """The newest jobs of `?project=` (default: every project the principal may read)."""
    principal = principal_of(request)
    project = request.query_params.get("project")
    projects: list[str] | None
    if project:
        principal.require(Action.READ, project)
        projects = [project]
    else:
        projects = (
            None if principal.superuser else principal.readable_projects(list(principal.roles))
        )
    states = _states(request.query_params.get("status", ""))
    limit = _limit(request.query_params.get("limit", "100"))
    found = _service(request).queue.list_jobs(projects=projects, states=states, limit=limit)
    return _json({"jobs": [job_json(job) for job in found]})


def get_job(request: Request) -> Response:
    """One job, with the message saying why it is in its state."""
    return _json(job_json(_readable_job(request)))


def stop_job(request: Request) -> Response:
    """Stop a job: a pending one at once, a running one within seconds."""
    job = _changeable_job(request)
    stopped = _service(request).queue.request_stop(job.id, actor_of(request))
    return _json(
        {"stopped": stopped.state == "STOPPED" or stopped.stop_requested, **job_json(stopped)}
    )


def retry_job(request: Request) -> Response:
    """Queue a job that has ended again."""
    job = _changeable_job(request)
    retried = _service(request).queue.retry(job.id, actor_of(request))
    return _json(job_json(retried))


def delete_job(request: Request) -> Response:
    """Delete a job that has ended, with its logs."""
    job = _changeable_job(request)
    _service(request).queue.delete(job.id, actor_of(request))
    return _json({"job_id": job.id, "deleted": True})


def job_logs(request: Request) -> Response:
    """The job's log so far (after `?after=SEQ`), and the last chunk's number."""
    job = _readable_job(request)
    after = _limit(request.query_params.get("after", "0"), name="after", low=0, high=2**31)
    return _json(log_json(_service(request).queue.read_log(job.id, after=after, limit=100_000)))


async def tail_job_logs(request: Request) -> Response:
    """The job's log as server-sent events, live: `log` events, then `end` with the job.

    Each `log` event's id is its chunk's number: a client that lost the stream resumes after
    the last one it got (`Last-Event-ID`, or `?after=`). A job deleted meanwhile ends the
    stream with a `deleted` event.
    """
    job = await to_thread.run_sync(_readable_job, request)
    resumed = request.headers.get("last-event-id") or request.query_params.get("after", "0")
    after = _limit(resumed, name="after", low=0, high=2**31)
    queue = _service(request).queue
    return StreamingResponse(
        _tail(queue, job.id, after),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache"},
    )


async def _tail(queue: JobQueue, job_id: int, after: int) -> AsyncIterator[str]:
    while True:
        try:  # the job's state first: once it has ended, every chunk it wrote is readable
            job = await to_thread.run_sync(queue.get, job_id)
        except NotFoundError:
            yield f"event: deleted\ndata: {json.dumps({'job_id': job_id})}\n\n"
            return
        while True:
            read = functools.partial(queue.read_log, job_id, after=after)
            chunks = await to_thread.run_sync(read)
            if not chunks:
                break
            after = chunks[-1].seq
            for chunk in chunks:
                yield f"event: log\nid: {chunk.seq}\ndata: {json.dumps(chunk.text)}\n\n"
        if job.done:
            yield f"event: end\ndata: {json.dumps(job_json(job))}\n\n"
            return
        await asyncio.sleep(TAIL_POLL_S)


def _states(text: str) -> list[JobState] | None:
    if not text:
        return None
    wanted = [s.strip().upper() for s in text.split(",")]
    bad = [s for s in wanted if s not in JOB_STATES]
    if bad:
        raise BadParameter(
            "status", f"must be states among {', '.join(JOB_STATES)}. Got {bad[0]!r}."
        )
    return [s for s in JOB_STATES if s in wanted]


def _limit(text: str, *, name: str = "limit", low: int = 1, high: int = _MAX_LIMIT) -> int:
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise BadParameter(name, f"must be an int from {low} to {high}. Got {text!r} instead.")
    return value
