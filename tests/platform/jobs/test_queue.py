"""The job queue on SQLite and PostgreSQL: submission, claims, leases, stop, retry, logs."""

from __future__ import annotations

import threading
import time

import pytest

from shipyard.errors import NotFoundError
from shipyard.platform.auth.records import Actor
from shipyard.platform.jobs.queue import JobConflict, JobQueue, LeaseLost
from shipyard.platform.jobs.records import NewJob, kind_of


def _job(key: str, entrypoint: str = "python -c pass", **fields: object) -> NewJob:
    return NewJob("demo", key, "ada", entrypoint, **fields)  # type: ignore[arg-type]


def test_a_submission_id_names_one_job_per_project(queue: JobQueue) -> None:
    first, created = queue.submit(_job("k1"))
    again, created_again = queue.submit(_job("k1", "python -c 'print(2)'"))
    other = queue.submit(NewJob("other", "k1", "bob", "true"))[0]
    assert created and not created_again
    assert again.id == first.id and again.entrypoint == "python -c pass"
    assert other.id != first.id


def test_a_pending_job_says_how_many_jobs_are_ahead(queue: JobQueue) -> None:
    first = queue.submit(_job("a"))[0]
    queue.submit(_job("b"))
    third = queue.submit(_job("c"))[0]
    assert first.message == "waiting for a worker (next in line)"
    assert queue.get(third.id).message == "waiting for a worker (2 jobs ahead)"
    listed = {job.id: job.message for job in queue.list_jobs()}
    assert listed[third.id] == "waiting for a worker (2 jobs ahead)"
    queue.claim("w1", lease_s=30)
    assert queue.get(third.id).message == "waiting for a worker (1 job ahead)"


def test_claims_take_the_oldest_job_and_lease_it(queue: JobQueue) -> None:
    first = queue.submit(_job("a"))[0]
    second = queue.submit(_job("b"))[0]
    claimed = queue.claim("w1", lease_s=30)
    assert claimed is not None and claimed.id == first.id
    assert claimed.state == "RUNNING" and claimed.attempts == 1 and claimed.lease_owner == "w1"
    assert claimed.message == "running on worker w1 (attempt 1 of 3)"
    assert queue.claim("w2", lease_s=30).id == second.id  # type: ignore[union-attr]
    assert queue.claim("w3", lease_s=30) is None


def test_concurrent_claimers_take_each_job_exactly_once(queue: JobQueue) -> None:
    submitted = {queue.submit(_job(f"k{i}"))[0].id for i in range(30)}
    taken: list[int] = []
    lock = threading.Lock()

    def claim_all(worker: str) -> None:
        while (job := queue.claim(worker, lease_s=60)) is not None:
            with lock:
                taken.append(job.id)

    threads = [threading.Thread(target=claim_all, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(taken) == sorted(submitted)


def test_an_expired_lease_puts_the_job_back_then_fails_it(queue: JobQueue) -> None:
    job = queue.submit(_job("k", max_attempts=2))[0]
    queue.claim("w1", lease_s=0.05)
    time.sleep(0.1)
    assert queue.expire_leases() == 1
    back = queue.get(job.id)
    assert back.state == "PENDING" and back.attempts == 1 and back.lease_owner is None
    assert back.message.startswith(
        "worker w1 stopped renewing its lease during attempt 1 of 2; waiting for a worker"
    )
    with pytest.raises(LeaseLost):
        queue.renew(job.id, "w1", lease_s=30)
    with pytest.raises(LeaseLost):
        queue.finish(job.id, "w1", state="SUCCEEDED", message="done", exit_code=0)
    again = queue.claim("w2", lease_s=0.05)
    assert again is not None and again.attempts == 2
    time.sleep(0.1)
    assert queue.claim("w3", lease_s=30) is None  # the claim expired it: no attempts left
    failed = queue.get(job.id)
    assert failed.state == "FAILED" and failed.ended_at is not None
    assert failed.message == (
        "worker w2 stopped renewing its lease during attempt 2 of 2; no attempts left"
    )


def test_renewing_keeps_the_lease_and_reports_a_stop_request(queue: JobQueue) -> None:
    job = queue.submit(_job("k"))[0]
    queue.claim("w1", lease_s=0.3)
    for _ in range(3):
        time.sleep(0.15)
        assert queue.renew(job.id, "w1", lease_s=0.3) is False
    assert queue.expire_leases() == 0
    stopping = queue.request_stop(job.id, Actor("bob"))
    assert stopping.state == "RUNNING" and stopping.stop_requested
    assert stopping.message == "stop requested by bob; waiting for worker w1 to end it"
    assert queue.renew(job.id, "w1", lease_s=30) is True
    queue.finish(job.id, "w1", state="STOPPED", message="stopped", exit_code=-15)
    assert queue.get(job.id).state == "STOPPED"


def test_a_pending_job_stops_at_once(queue: JobQueue) -> None:
    job = queue.submit(_job("k"))[0]
    stopped = queue.request_stop(job.id, Actor("bob"))
    assert stopped.state == "STOPPED" and stopped.message == "stopped by bob before it started"
    assert queue.claim("w1", lease_s=30) is None


def test_retry_queues_an_ended_job_again_and_keeps_its_logs(queue: JobQueue) -> None:
    job = queue.submit(_job("k"))[0]
    with pytest.raises(JobConflict, match="only a job that has ended can be retried"):
        queue.retry(job.id, Actor("ada"))
    queue.claim("w1", lease_s=30)
    queue.append_log(job.id, "w1", 1, "first\n")
    queue.finish(job.id, "w1", state="FAILED", message="exited with code 1", exit_code=1)
    retried = queue.retry(job.id, Actor("ada"))
    assert retried.state == "PENDING" and retried.attempts == 0 and retried.exit_code is None
    assert retried.message == "retried by ada; waiting for a worker (next in line)"
    queue.claim("w2", lease_s=30)
    queue.append_log(job.id, "w2", 1, "second\n")
    chunks = queue.read_log(job.id)
    assert [c.text for c in chunks] == ["first\n", "second\n"]
    assert [c.text for c in queue.read_log(job.id, after=chunks[0].seq)] == ["second\n"]


def test_only_the_lease_holder_writes_logs(queue: JobQueue) -> None:
    job = queue.submit(_job("k"))[0]
    queue.claim("w1", lease_s=30)
    with pytest.raises(LeaseLost):
        queue.append_log(job.id, "intruder", 1, "nope\n")
    assert queue.read_log(job.id) == []


def test_hand_back_returns_the_attempt(queue: JobQueue) -> None:
    job = queue.submit(_job("k"))[0]
    queue.claim("w1", lease_s=30)
    queue.hand_back(job.id, "w1", "worker w1 shut down")
    back = queue.get(job.id)
    assert back.state == "PENDING" and back.attempts == 0
    assert back.message == "worker w1 shut down; waiting for a worker (next in line)"


def test_delete_removes_an_ended_job_and_its_logs(queue: JobQueue) -> None:
    job = queue.submit(_job("k"))[0]
    with pytest.raises(JobConflict):
        queue.delete(job.id, Actor("ada"))
    queue.request_stop(job.id, Actor("ada"))
    queue.delete(job.id, Actor("ada"))
    with pytest.raises(NotFoundError, match="no job"):
        queue.get(job.id)


def test_lists_filter_by_project_and_state(queue: JobQueue) -> None:
    queue.submit(_job("a"))
    queue.submit(NewJob("other", "b", "bob", "true"))
    queue.claim("w1", lease_s=30)
    assert [j.project for j in queue.list_jobs(projects=["other"])] == ["other"]
    assert [j.state for j in queue.list_jobs(states=["RUNNING"])] == ["RUNNING"]
    assert queue.list_jobs(projects=[]) == []


@pytest.mark.parametrize(
    ("entrypoint", "kind"),
    [
        ("shipyard run pipeline.py", "pipeline"),
        ("shipyard train data.csv --label y", "train"),
        ("python train.py", "command"),
    ],
)
def test_the_kind_comes_from_the_entrypoint(entrypoint: str, kind: str) -> None:
    assert kind_of(entrypoint) == kind


def test_a_change_and_its_audit_entry_are_written_together(
    queue: JobQueue, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shipyard.platform.auth.audit import AuditLog
    from shipyard.platform.jobs import queue as queue_module

    log = AuditLog(queue.database)
    ada = Actor("ada", request_id="r1")
    job = queue.submit(_job("k1"), actor=ada)[0]
    queue.request_stop(job.id, ada)
    queue.retry(job.id, ada)
    assert [(e.action, e.target, e.request_id) for e in log.events()] == [
        ("job.submit", str(job.id), "r1"),
        ("job.stop", str(job.id), "r1"),
        ("job.retry", str(job.id), "r1"),
    ]
    with pytest.raises(JobConflict):  # the change fails: no entry
        queue.delete(job.id, ada)
    assert len(log.events()) == 3

    def failing(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the audit log is unwritable")

    monkeypatch.setattr(queue_module, "append", failing)  # the entry fails: no change
    with pytest.raises(RuntimeError):
        queue.submit(_job("k2"), actor=ada)
    with pytest.raises(RuntimeError):
        queue.request_stop(job.id, ada)
    assert [j.submission_id for j in queue.list_jobs()] == ["k1"]
    assert queue.get(job.id).state == "PENDING"
    monkeypatch.undo()
    queue.request_stop(job.id, ada)
    with pytest.raises(RuntimeError):
        monkeypatch.setattr(queue_module, "append", failing)
        queue.delete(job.id, ada)
    assert queue.get(job.id).state == "STOPPED"
    assert len(log.events()) == 4
