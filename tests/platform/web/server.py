"""The platform server with its projects' web UIs on 127.0.0.1, for the page tests."""

from __future__ import annotations

import http.client
import urllib.parse
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import shipyard
from shipyard import Out, Pipeline, component
from shipyard.artifacts import Metrics
from shipyard.platform.auth.layer import auth_layer
from shipyard.platform.jobs.api import JobService
from shipyard.platform.jobs.packages import PackageStore
from shipyard.platform.jobs.queue import JobQueue
from shipyard.platform.jobs.spaces import (
    packages_location,
    project_artifact_root,
    project_store_url,
)
from shipyard.platform.project_uis import ProjectUIs
from shipyard.platform.server import create_server_app
from shipyard.runners import Project
from tests.platform.conftest import HOST
from tests.platform.jobs.platform_server import add_users
from tests.ui.server import Answer, serving

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from shipyard.platform.auth.layer import AuthLayer
    from shipyard.platform.auth.oidc import OidcSettings

PASSWORD = "correct horse battery"
"""Every test user's password."""


@component
def measure(out: Out[Metrics], *, value: float = 0.5) -> None:
    """Save one metric."""
    out.save({"accuracy": value})


def record_run(store_url: str, root: Path, project: str) -> str:
    """Run a one-node pipeline into `project`'s store, as a job would; return the run's id."""
    run = shipyard.run(
        Pipeline("tiny", nodes=[measure(value=0.75)]),
        store=project_store_url(store_url, root, project),
        artifact_root=str(project_artifact_root(root, project)),
        progress=False,
    )
    assert run.ok
    return run.id


def fetch(url: str, *, headers: dict[str, str] | None = None) -> Answer:
    """GET `url` without following a redirect; any status is returned, not raised."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=30)
    try:
        connection.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""),
                           headers=headers or {})  # fmt: skip
        response = connection.getresponse()
        headers_got = {k.lower(): v for k, v in response.getheaders()}
        return Answer(response.status, headers_got, response.read())
    finally:
        connection.close()


def post(url: str, body: bytes, *, content_type: str) -> Answer:
    """POST `body` as `content_type`; any status is returned, not raised."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=30)
    try:
        connection.request("POST", parts.path, body=body, headers={"Content-Type": content_type})
        response = connection.getresponse()
        headers = {k.lower(): v for k, v in response.getheaders()}
        return Answer(response.status, headers, response.read())
    finally:
        connection.close()


@dataclass
class WebServer:
    """A running server: its URL, auth, each test user's API token, the projects opened."""

    url: str
    auth: AuthLayer
    tokens: dict[str, str]
    opened: list[str]


@contextmanager
def running_web_server(
    root: Path, *, store_url: str | None = None, oidc: OidcSettings | None = None
) -> Iterator[WebServer]:
    """Serve the server with its projects' UIs over `store_url` (default: a SQLite file
    under `root`); the users of `platform_server.ROLES` exist, each with `PASSWORD`."""
    store_url = store_url or f"sqlite:///{root / 'store.db'}"
    queue = JobQueue(store_url)
    auth = auth_layer(queue.database, oidc=oidc)
    packages = PackageStore(packages_location(root), max_bytes=10**6)
    service = JobService(queue, packages, auth.accounts, auth.audit)

    opened: list[str] = []

    def open_project(name: str) -> Project:
        opened.append(name)
        queue.create_schema(f"shipyard_{name}")
        return Project.open(
            store=project_store_url(store_url, root, name),
            artifact_root=str(project_artifact_root(root, name)),
        )

    projects = ProjectUIs(
        open_project,
        auth.accounts,
        auth.audit,
        models_dir_of=lambda name: root / "projects" / name / "models",
    )
    try:
        tokens = add_users(auth.accounts)
        for name in tokens:
            auth.accounts.set_password(name, PASSWORD, actor=HOST)
        with serving(create_server_app(service, auth, projects=projects)) as url:
            yield WebServer(url, auth, tokens, opened)
    finally:
        projects.close()
        queue.close()
