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

from shipyard.cli.options import ArtifactRootOption, DataDirOption, StoreOption, memory_option

if TYPE_CHECKING:
    from types import FrameType

    from shipyard.platform.jobs.capacity import Capacity
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
    num_cpus: Annotated[
        float | None,
        typer.Option(
            "--num-cpus",
            min=0,
            help="CPUs for jobs. Default: this machine's cores.",
            show_default=False,
        ),
    ] = None,
    num_gpus: Annotated[
        float | None,
        typer.Option(
            "--num-gpus",
            min=0,
            show_default=False,
            help="GPUs for jobs. Default: CUDA_VISIBLE_DEVICES's, else nvidia-smi's, else 0.",
        ),
    ] = None,
    memory: Annotated[
        str | None,
        typer.Option(
            "--memory",
            show_default=False,
            help="Memory for jobs: bytes, or a size such as 16GiB or 512M. Default: this "
            "machine's.",
        ),
    ] = None,
) -> None:
    """Run jobs of the platform server: claim them from its queue, run each as a process.

    It claims only jobs whose requested resources (`shipyard jobs submit --num-cpus`...)
    fit what its running jobs leave free of its `--num-cpus`, `--num-gpus` and `--memory`.
    """
    from shipyard.platform.jobs.queue import JobQueue
    from shipyard.platform.jobs.worker import Worker, WorkerOptions, default_worker_name
    from shipyard.platform.settings import server_settings

    capacity = _capacity(num_cpus, num_gpus, memory)
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
        capacity=capacity,
    )
    worker = Worker(queue, options)
    _on_signals(worker)
    try:
        worker.run()
    finally:
        queue.close()


def _capacity(num_cpus: float | None, num_gpus: float | None, memory: str | None) -> Capacity:
    """What the worker has for its jobs: the flags given, the machine's for the others."""
    from shipyard.platform.jobs.capacity import Capacity, detect_capacity

    detected = detect_capacity()
    size = detected.memory if memory is None else float(memory_option(memory))
    return Capacity(
        detected.num_cpus if num_cpus is None else num_cpus,
        detected.num_gpus if num_gpus is None else num_gpus,
        size,
    )


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
