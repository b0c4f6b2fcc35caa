"""`shipyard server`: the platform server's REST API (jobs, packages, models and endpoints)
and local workers.

On a laptop one command is enough: a SQLite store and a local directory, with `--workers 1`
worker process started beside the server. A team points `--store` at PostgreSQL and runs
`shipyard worker` processes on other machines (`--workers 0` here) that see the same
`--artifact-root`: a mounted directory or an object store (`s3://...`, with `--data-dir`).
"""

from __future__ import annotations

import functools
import subprocess
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from shipyard.cli.options import (
    ArtifactRootOption,
    DataDirOption,
    OidcClientIdOption,
    OidcClientSecretOption,
    OidcIssuerOption,
    OidcRedirectUrlOption,
    StoreOption,
)

if TYPE_CHECKING:
    from pathlib import Path

    from shipyard.platform.database import Database
    from shipyard.platform.jobs.queue import JobQueue
    from shipyard.platform.models.supervisor import EndpointSupervisor
    from shipyard.platform.settings import ServerSettings
    from shipyard.runners import Project

WORKER_DRAIN_S = 10.0
"""How long local workers have to finish their jobs when the server stops."""


def server_command(
    store: StoreOption = None,
    artifact_root: ArtifactRootOption = None,
    data_dir: DataDirOption = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            "--workers", min=0, max=64, help="Worker processes to start beside the server."
        ),
    ] = 1,
    max_package_bytes: Annotated[
        int,
        typer.Option("--max-package-bytes", min=1, help="The largest package a client may upload."),
    ] = 100 * 1024 * 1024,
    oidc_issuer: OidcIssuerOption = None,
    oidc_client_id: OidcClientIdOption = None,
    oidc_client_secret: OidcClientSecretOption = None,
    oidc_redirect_url: OidcRedirectUrlOption = None,
) -> None:
    """Serve the platform server's REST API (jobs, packages), each project's web UI (at
    /projects/P/, listed at /) and start local workers."""
    from shipyard.cli.output import console
    from shipyard.cli.web_app import run_web_app
    from shipyard.platform.auth.layer import auth_layer, oidc_settings
    from shipyard.platform.jobs.api import JobService
    from shipyard.platform.jobs.packages import PackageStore
    from shipyard.platform.jobs.queue import JobQueue
    from shipyard.platform.jobs.spaces import packages_location
    from shipyard.platform.project_uis import ProjectUIs
    from shipyard.platform.server import create_server_app
    from shipyard.platform.settings import server_settings

    settings = server_settings(store, artifact_root, data_dir)
    oidc = oidc_settings(oidc_issuer, oidc_client_id, oidc_client_secret, oidc_redirect_url)
    queue = JobQueue(settings.store_url)
    packages = PackageStore(packages_location(settings.artifact_root), max_bytes=max_package_bytes)
    auth = auth_layer(queue.database, oidc=oidc)
    projects = ProjectUIs(
        functools.partial(_open_project, settings, queue),
        auth.accounts,
        auth.audit,
        models_dir_of=functools.partial(_models_dir, settings),
    )
    service = JobService(queue, packages, auth.accounts, auth.audit)
    endpoints = _endpoint_supervisor(settings, queue.database)
    app = create_server_app(service, auth, projects=projects, endpoints=endpoints)
    started = [_start_worker(settings) for _ in range(workers)]
    console().print(
        f"Shipyard server on http://{host}:{port}/ (store {queue.url}, artifact root "
        f"{settings.artifact_root}, data {settings.data_dir}, "
        f"{workers} local worker(s)); Ctrl-C stops it.",
        markup=False,
        soft_wrap=True,
    )
    try:
        run_web_app(app, host=host, port=port)
    finally:
        _stop_workers(started)
        projects.close()
        queue.close()


def _open_project(settings: ServerSettings, queue: JobQueue, project: str) -> Project:
    """Open a project's store (on PostgreSQL, in its schema, created if missing) and its
    artifact root, as its jobs do."""
    from shipyard.platform.jobs.spaces import (
        project_artifact_root,
        project_schema,
        project_store_url,
    )
    from shipyard.runners import Project

    queue.create_schema(project_schema(project))
    return Project.open(
        store=project_store_url(settings.store_url, settings.data_dir, project),
        artifact_root=project_artifact_root(settings.artifact_root, project),
    )


def _models_dir(settings: ServerSettings, project: str) -> Path:
    """The model repository a project's models page lists: `DATA_DIR/projects/P/models`."""
    from shipyard.platform.jobs.spaces import check_project_name

    return settings.data_dir / "projects" / check_project_name(project) / "models"


def _endpoint_supervisor(settings: ServerSettings, database: Database) -> EndpointSupervisor:
    """The models' registry (each project's pushes are in its own store) and the endpoints'
    supervisor (the app's lifespan starts and closes it: uvicorn ends the process with the
    signal that stopped it once the lifespan has ended)."""
    from shipyard.platform.jobs.spaces import project_store_url
    from shipyard.platform.models.registry import ModelRegistry
    from shipyard.platform.models.supervisor import EndpointSupervisor

    def store_of(project: str) -> str:
        return project_store_url(settings.store_url, settings.data_dir, project)

    return EndpointSupervisor(ModelRegistry(database, store_of), settings.data_dir)


def _start_worker(settings: ServerSettings) -> subprocess.Popen[bytes]:
    """Start a local worker that drains (SIGTERM) when the server's process ends, however it
    ends: uvicorn ends the process with the signal that stopped it, past any `finally`."""
    import signal

    from shipyard.platform.jobs.worker import signal_on_parent_death

    argv = [sys.executable, "-m", "shipyard", "worker", "--store", settings.store_url]
    return subprocess.Popen(
        [*argv, "--artifact-root", settings.artifact_root, "--data-dir", str(settings.data_dir)],
        preexec_fn=functools.partial(signal_on_parent_death, signal.SIGTERM),  # noqa: PLW1509
    )


def _stop_workers(started: list[subprocess.Popen[bytes]]) -> None:
    """Drain the workers (SIGTERM), then hand their jobs back (a second SIGTERM)."""
    for process in started:
        process.terminate()
    for process in started:
        try:
            process.wait(WORKER_DRAIN_S)
        except subprocess.TimeoutExpired:
            process.terminate()
            try:
                process.wait(WORKER_DRAIN_S)
            except subprocess.TimeoutExpired:
                process.kill()
