"""The jobs REST API over a real socket: Ray's shapes, roles, problem documents, live logs."""

from __future__ import annotations

import io
import sys
import tarfile
from typing import TYPE_CHECKING

import pytest

from shipyard.platform.jobs.client import JobsClient
from tests.platform.jobs.platform_server import Platform, running_platform
from tests.platform.jobs.workers import wait_for, worker_thread

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

PROBLEM = "application/problem+json"


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    with running_platform(tmp_path) as running:
        yield running


def _submit(platform: Platform, user: str = "rune", **fields: object) -> int:
    body = {"entrypoint": "python -c pass", "project": "demo", **fields}
    answer = platform.call("POST", "/api/jobs/", user=user, body=body)
    assert answer.status in (200, 201), answer.text
    return int(answer.json()["job_id"])


def _tar(name: str = "job.py", data: bytes = b"print(1)\n") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_a_submission_answers_like_ray_and_is_idempotent(platform: Platform) -> None:
    body = {"entrypoint": "python -c pass", "project": "demo", "submission_id": "nightly-1",
            "metadata": {"team": "risk"}, "entrypoint_num_cpus": 2}  # fmt: skip
    first = platform.call("POST", "/api/jobs/", user="rune", body=body)
    again = platform.call("POST", "/api/jobs/", user="rune", body=body)
    assert (first.status, again.status) == (201, 200)
    assert first.json() == again.json() == {"job_id": 1, "submission_id": "nightly-1"}
    job = platform.call("GET", "/api/jobs/1", user="vera").json()
    assert job["status"] == "PENDING" and job["message"] == "waiting for a worker (next in line)"
    assert (job["submitter"], job["metadata"], job["resources"]) == (
        "rune",
        {"team": "risk"},
        {"num_cpus": 2},
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"project": "demo"}, "entrypoint"),
        ({"entrypoint": "x 'unclosed", "project": "demo"}, "entrypoint"),
        ({"entrypoint": "true"}, "project"),
        ({"entrypoint": "true", "project": "../etc"}, "project"),
        ({"entrypoint": "true", "project": "demo", "colour": "red"}, "colour"),
        ({"entrypoint": "true", "project": "demo", "max_attempts": 0}, "max_attempts"),
        (
            {"entrypoint": "true", "project": "demo", "entrypoint_num_cpus": -1},
            "entrypoint_num_cpus",
        ),
        (
            {"entrypoint": "true", "project": "demo", "runtime_env": {"working_dir": "f" * 64}},
            "runtime_env.working_dir",
        ),
        ([1, 2], "body"),
    ],
)
def test_a_bad_submission_is_a_400_naming_the_field(
    platform: Platform, body: object, field: str
) -> None:
    answer = platform.call("POST", "/api/jobs/", user="rune", body=body)
    assert answer.status == 400 and answer.headers["content-type"] == PROBLEM, answer.text
    assert answer.json()["parameter"] == field


def test_requests_without_a_token_are_401(platform: Platform) -> None:
    for method, path in [("GET", "/api/jobs/"), ("POST", "/api/jobs/"), ("GET", "/api/jobs/1")]:
        answer = platform.call(method, path, body={} if method == "POST" else None)
        assert answer.status == 401, (method, path)
        assert answer.headers["www-authenticate"].startswith("Bearer")
        assert answer.headers["content-type"] == PROBLEM


def test_roles_decide_who_may_do_what(platform: Platform) -> None:
    job = _submit(platform, "rune")
    assert platform.call("POST", "/api/jobs/", user="vera",
                         body={"entrypoint": "true", "project": "demo"}).status == 403  # fmt: skip
    assert platform.call("GET", f"/api/jobs/{job}", user="vera").status == 200
    hidden = platform.call("GET", f"/api/jobs/{job}", user="olga")  # another project's id
    assert hidden.status == 404 and hidden.json()["detail"] == "no such resource in project 'demo'"
    assert platform.call("GET", "/api/jobs/?project=demo", user="olga").status == 404
    assert platform.call("GET", "/api/jobs/", user="olga").json() == {"jobs": []}
    assert platform.call("POST", f"/api/jobs/{job}/stop", user="rita").status == 403  # not hers
    assert platform.call("POST", f"/api/jobs/{job}/stop", user="vera").status == 403
    stopped = platform.call("POST", f"/api/jobs/{job}/stop", user="rune").json()
    assert stopped["stopped"] and stopped["status"] == "STOPPED"
    assert platform.call("POST", f"/api/jobs/{job}/retry", user="eddy").status == 200  # editor
    assert [
        j["job_id"] for j in platform.call("GET", "/api/jobs/", user="root").json()["jobs"]
    ] == [job]


def test_state_conflicts_are_409_and_unknown_jobs_404(platform: Platform) -> None:
    job = _submit(platform)
    conflict = platform.call("DELETE", f"/api/jobs/{job}", user="rune")
    assert conflict.status == 409 and "only a job that has ended" in conflict.json()["detail"]
    assert platform.call("POST", f"/api/jobs/{job}/retry", user="rune").status == 409
    platform.call("POST", f"/api/jobs/{job}/stop", user="rune")
    assert platform.call("DELETE", f"/api/jobs/{job}", user="rune").json() == {
        "job_id": job,
        "deleted": True,
    }
    assert platform.call("GET", f"/api/jobs/{job}", user="root").status == 404
    assert (
        platform.call("GET", "/api/jobs/?status=DONE", user="root").json()["parameter"] == "status"
    )


def test_packages_upload_with_limits_and_checks(platform: Platform) -> None:
    ok = platform.call("POST", "/api/packages?project=demo", user="rune", data=_tar(),
                       content_type="application/gzip")  # fmt: skip
    assert ok.status == 201 and len(ok.json()["working_dir"]) == 64
    unsafe = platform.call("POST", "/api/packages?project=demo", user="rune",
                           data=_tar("../escape.py"), content_type="application/gzip")  # fmt: skip
    assert unsafe.status == 400 and "leads out of the package" in unsafe.json()["detail"]
    big = platform.call("POST", "/api/packages?project=demo", user="rune", data=b"x" * 2_000_000,
                        content_type="application/gzip")  # fmt: skip
    assert (
        big.status == 413 and "over the server's limit of 1,000,000 bytes" in big.json()["detail"]
    )
    assert (
        platform.call("POST", "/api/packages?project=demo", user="vera", data=_tar()).status == 403
    )
    assert (
        platform.call("POST", "/api/packages", user="rune", data=_tar()).json()["parameter"]
        == "project"
    )


def test_logs_are_kept_and_streamed_live_until_the_job_ends(platform: Platform) -> None:
    script = "import time; print('one', flush=True); time.sleep(0.5); print('two')"
    command = f'{sys.executable} -c "{script}"'
    job = _submit(platform, entrypoint=command)
    client = JobsClient(platform.url, token=platform.tokens["rune"])
    with worker_thread(platform.queue, platform.store_url, platform.root):
        events = list(client.tail(job))
        wait_for(platform.queue, job, "SUCCEEDED")
    assert "".join(data for event, data in events if event == "log") == "one\ntwo\n"
    assert events[-1][0] == "end" and events[-1][1]["status"] == "SUCCEEDED"
    assert client.logs(job) == "one\ntwo\n"
    assert platform.call("GET", f"/api/jobs/{job}/logs/tail", user="olga").status == 404


def test_the_openapi_document_describes_every_jobs_route(platform: Platform) -> None:
    document = platform.call("GET", "/api/openapi.json", user="vera").json()
    assert document["openapi"] == "3.1.0"
    jobs = "/api/jobs/{job_id}"
    for path in ("/api/jobs/", jobs, f"{jobs}/logs/tail", f"{jobs}/stop", f"{jobs}/retry"):
        assert path in document["paths"], path
    assert document["security"] == [{"bearer": []}]
    assert "/api/runs" not in document["paths"]  # served with a project's UI only


def test_each_change_and_each_refusal_is_in_the_audit_log(platform: Platform) -> None:
    job = _submit(platform, "rune", submission_id="k")
    _submit(platform, "rune", submission_id="k")  # the same job: no change
    platform.call("POST", f"/api/jobs/{job}/stop", user="rune")
    platform.call("POST", f"/api/jobs/{job}/retry", user="eddy")
    assert platform.call("POST", f"/api/jobs/{job}/stop", user="vera").status == 403
    changes = [(e.actor, e.action, e.target) for e in platform.auth.audit.events(project="demo")]
    assert changes[-3:] == [
        ("rune", "job.submit", str(job)),
        ("rune", "job.stop", str(job)),
        ("eddy", "job.retry", str(job)),
    ]
    denied = [e for e in platform.auth.audit.events() if e.outcome == "denied"]
    assert [(e.actor, e.action) for e in denied] == [("vera", f"POST /api/jobs/{job}/stop")]


def test_a_job_needs_an_existing_project(platform: Platform) -> None:
    answer = platform.call(
        "POST", "/api/jobs/", user="root", body={"entrypoint": "true", "project": "nope"}
    )
    assert answer.status == 404 and "nope" in answer.json()["detail"]


def test_a_tail_resumes_after_the_last_chunk_and_tells_of_a_deletion(platform: Platform) -> None:
    job = _submit(platform)
    queue = platform.queue
    queue.claim("w1", lease_s=30)
    for text in ("one\n", "two\n", "three\n"):
        queue.append_log(job, "w1", 1, text)
    queue.finish(job, "w1", state="SUCCEEDED", message="exited with code 0", exit_code=0)
    resumed = platform.call("GET", f"/api/jobs/{job}/logs/tail?after=1", user="vera").text
    assert '"one' not in resumed and 'id: 2\ndata: "two\\n"' in resumed
    assert resumed.rstrip().splitlines()[-2] == "event: end"
    platform.call("DELETE", f"/api/jobs/{job}", user="rune")
    assert platform.call("GET", f"/api/jobs/{job}/logs/tail", user="vera").status == 404


def test_a_job_deleted_while_followed_ends_its_stream_with_a_deleted_event(
    platform: Platform,
) -> None:
    import asyncio

    from shipyard.platform.jobs.api import _tail

    async def collect() -> list[str]:
        return [event async for event in _tail(platform.queue, 999, 0)]

    assert asyncio.run(collect()) == ['event: deleted\ndata: {"job_id": 999}\n\n']


def test_the_ui_of_one_project_is_served_to_its_readers(platform: Platform) -> None:
    from shipyard.platform.jobs.spaces import project_artifact_root, project_store_url
    from shipyard.platform.server import create_server_app
    from shipyard.runners import Project
    from tests.ui.server import get, serving

    project = Project.open(
        store=project_store_url(platform.store_url, platform.root, "demo"),
        artifact_root=project_artifact_root(platform.root, "demo"),
    )
    try:
        with serving(
            create_server_app(platform.service, platform.auth, ui=("demo", project))
        ) as url:

            def as_user(user: str) -> dict[str, str]:
                return {"Authorization": f"Bearer {platform.tokens[user]}"}

            page = get(f"{url}/runs", headers=as_user("vera"))
            assert page.status == 200 and "<html" in page.text.lower()
            assert get(f"{url}/api/runs", headers=as_user("vera")).json() == []
            assert get(f"{url}/runs", headers=as_user("olga")).status == 404
            assert get(f"{url}/runs").status == 401
            assert get(f"{url}/api/jobs/", headers=as_user("vera")).status == 200
            assert "/api/runs" in get(f"{url}/api/openapi.json").json()["paths"]
    finally:
        project.close()
