"""`shipyard worker`: claim jobs from the platform server's queue and run them.

The worker needs the server's store (the queue) and artifact root (packages, the projects'
artifacts: a mounted directory or an object store, with `--data-dir` then), not the server
itself. The first SIGTERM or Ctrl-C stops claiming and lets the
running jobs finish; a second ends them and hands them back to the queue.
"""

from __future__ import annotations

import signal
from typing import TYPE_CHECKING, Annotated

import typer

from shipyard.cli.options import ArtifactRootOption, DataDirOption, StoreOption

if TYPE_CHECKING:
    from types import FrameType

    from shipyard.platform.jobs.worker import Worker


def worker_command(
    store: StoreOption = None,
    artifact_root: ArtifactRootOption = None,
    data_dir: DataDirOption = None,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, max=256, help="How many jobs run at once.")
    ] = 1,
    engine: Annotated[
        str | None,
        typer.Option(
            "--engine",
            help="Where the pipelines of jobs run their nodes (SHIPYARD_ENGINE of each job: "
            "threads, processes, ray). Default: as each job says.",
            show_default=False,
        ),
    ] = None,
    lease_s: Annotated[
        float,
        typer.Option(
            "--lease-s",
            min=2.0,
            help="How long a job stays claimed without the worker renewing it; a dead "
            "worker's jobs are retried this long after it died.",
        ),
    ] = 15.0,
    name: Annotated[
        str | None,
        typer.Option(
            "--name", help="The worker's name in jobs. Default: HOST:PID.", show_default=False
        ),
    ] = None,
) -> None:
    """Run jobs of the platform server: claim them from its queue, run each as a process."""
    from shipyard.platform.jobs.queue import JobQueue
    from shipyard.platform.jobs.worker import Worker, WorkerOptions, default_worker_name
    from shipyard.platform.settings import server_settings

    settings = server_settings(store, artifact_root, data_dir)
    queue = JobQueue(settings.store_url)
    options = WorkerOptions(
        store_url=settings.store_url,
        artifact_root=settings.artifact_root,
        data_dir=settings.data_dir,
        concurrency=concurrency,
        lease_s=lease_s,
        heartbeat_s=min(1.0, lease_s / 4),
        engine=engine,
        name=name or default_worker_name(),
    )
    worker = Worker(queue, options)
    _on_signals(worker)
    try:
        worker.run()
    finally:
        queue.close()


def _on_signals(worker: Worker) -> None:
    """The first SIGTERM or SIGINT drains the worker, the second aborts its jobs."""
    received: list[int] = []

    def handle(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        if len(received) == 1:
            worker.drain()
        else:
            worker.abort()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
