"""`RayEngine` (`--engine ray`): each task a Ray task on a cluster, with the resources it needs."""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import logging
import os
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import ray
import ray.exceptions

from shipyard.dsl.context import LogEntry, Progress
from shipyard.engines.ray import remote
from shipyard.engines.ray.placement import Request, infeasible
from shipyard.engines.result import TaskResult
from shipyard.errors import PlatformError

if TYPE_CHECKING:
    from collections.abc import Callable

    from shipyard.engines.spec import TaskSpec

_POLL_S = 0.1  # how often stop requests are looked at
_TAKE_S = 1.0  # how long one call for progress waits on the channel
_NODES_TTL_S = 5.0  # how long the cluster's node list is trusted
# What a pipeline's directory ships without, when its code travels to a remote cluster.
_EXCLUDES = [".shipyard", ".git", "__pycache__", ".venv", "*.parquet", "*.onnx"]
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[3])

_run_task = ray.remote(remote.run_task)
_Channel = ray.remote(num_cpus=0)(remote.Channel)


@dataclass
class _Job:
    id: int
    task: TaskSpec
    future: Future[TaskResult]
    on_progress: Callable[[Progress], None] | None
    stop_requested: Callable[[], bool] | None
    on_log: Callable[[LogEntry], None] | None
    started: float = field(default_factory=time.perf_counter)
    stop_sent: bool = False
    terminated: bool = False
    returned: bool = False  # the Ray task's result is ready
    finished: bool = False  # the channel relayed its last report


class RayEngine:
    """Runs each task as a Ray task on a Ray cluster, asking it for the node's resources.

    Connects on creation: to `address`, or to the cluster `ray.init` finds (RAY_ADDRESS, a
    cluster started with `ray start` on this machine), or starts a local Ray instance. If
    this process is connected to Ray already, that connection is used. The store stays with
    the runner: artifacts travel by URI, so the artifact root must be reachable from every
    node (a shared directory, or an fsspec URL such as `s3://bucket/artifacts`).

    Args:
        address: The cluster: `HOST:PORT` (its GCS), `auto`, or `ray://HOST:10001` (Ray
            Client). Default: RAY_ADDRESS, else as `ray.init()` decides.
        max_workers: Tasks run at once (default: the cluster's CPUs).
        ship_code: Ship the directory of a pipeline file to the workers (Ray's runtime env
            `working_dir`), for a cluster that does not share this machine's files.
            Default: for `ray://` addresses. Shipyard itself must be installed there.
    """

    name: ClassVar[str] = "ray"

    def __init__(
        self,
        address: str | None = None,
        *,
        max_workers: int | None = None,
        ship_code: bool | None = None,
    ) -> None:
        address = address or os.environ.get("RAY_ADDRESS") or None
        self._address = address or "local"
        self._ship_code = ship_code if ship_code is not None else _is_client(address)
        self._owns_connection = not ray.is_initialized()
        if self._owns_connection:
            _connect(address)
        cpus = ray.cluster_resources().get("CPU", 1)  # type: ignore[no-untyped-call]
        self._max_parallel = max_workers or max(1, int(cpus))
        self._channel: Any = _Channel.remote()
        self._ids = itertools.count(1)
        self._jobs: dict[Any, _Job] = {}  # by the Ray task's ObjectRef
        self._lock = threading.Lock()
        self._nodes: tuple[float, list[dict[str, float]]] = (0.0, [])
        self._closing = False
        self._dispatcher = threading.Thread(target=self._dispatch, name="shipyard-ray", daemon=True)
        self._dispatcher.start()

    @property
    def max_parallel(self) -> int:
        return self._max_parallel

    @property
    def in_process(self) -> bool:
        return False

    def submit(
        self,
        task: TaskSpec,
        *,
        on_progress: Callable[[Progress], None] | None = None,
        stop_requested: Callable[[], bool] | None = None,
        on_log: Callable[[LogEntry], None] | None = None,
    ) -> Future[TaskResult]:
        future: Future[TaskResult] = Future()
        future.set_running_or_notify_cancel()
        request = Request.of(task.resources)
        refused = infeasible(task.node, request, self._alive_nodes(), cluster=self._address)
        if refused is not None:
            future.set_result(TaskResult(task.node, 0.0, error=refused))
            return future
        shipped, runtime_env = self._runtime_env(task)
        job = _Job(next(self._ids), task, future, on_progress, stop_requested, on_log)
        options = {
            **request.options(),
            "max_retries": 0,  # a node runs once per attempt; the runner decides on retries
            "name": f"shipyard:{task.node}",
            "runtime_env": runtime_env,
        }
        with self._lock:
            if self._closing:
                raise RuntimeError("RayEngine.submit after close()")
            ref = _run_task.options(**options).remote(shipped.to_json(), self._channel, job.id)
            self._jobs[ref] = job
        return future

    def terminate(self) -> None:
        """Cancel the running tasks, killing their workers; they come back interrupted."""
        with self._lock:
            running = list(self._jobs.items())
        for ref, job in running:
            job.terminated = True
            with contextlib.suppress(Exception):
                ray.cancel(ref, force=True)

    def close(self) -> None:
        with self._lock:
            self._closing = True
        self._dispatcher.join()
        with contextlib.suppress(Exception):
            ray.kill(self._channel)
        if self._owns_connection:
            ray.shutdown()

    def _runtime_env(self, task: TaskSpec) -> tuple[TaskSpec, dict[str, Any]]:
        """The task as the workers see it, and the Ray runtime env it runs in.

        On a cluster sharing this machine's files, the workers import Shipyard from where
        this process does. With `ship_code`, the pipeline file's directory travels as the
        task's working directory, and the task names the file relative to it.
        """
        file = task.component.file
        if not self._ship_code:
            path = os.pathsep.join(filter(None, [_PACKAGE_ROOT, os.environ.get("PYTHONPATH")]))
            return task, {"env_vars": {"PYTHONPATH": path}}
        if file is None:
            return task, {}
        component = dataclasses.replace(task.component, file=Path(file).name)
        shipped = dataclasses.replace(task, component=component)
        return shipped, {"working_dir": str(Path(file).parent), "excludes": _EXCLUDES}

    def _alive_nodes(self) -> list[dict[str, float]]:
        """The resources each alive node offers (cached a few seconds)."""
        read_at, nodes = self._nodes
        if time.monotonic() - read_at > _NODES_TTL_S:
            nodes = [dict(n["Resources"]) for n in ray.nodes() if n.get("Alive")]  # type: ignore[no-untyped-call]
            self._nodes = (time.monotonic(), nodes)
        return nodes

    def _dispatch(self) -> None:
        """The engine's one thread: relays progress and stop requests, and finishes tasks."""
        take: Any = None
        channel_open = True
        while True:
            with self._lock:
                if self._closing and not self._jobs:
                    break
                refs = list(self._jobs)
            if take is None and channel_open:
                take = self._channel.take.remote(_TAKE_S)
            waiting = [*refs, take] if take is not None else refs
            if not waiting:
                time.sleep(_POLL_S)
                continue
            ready, _ = ray.wait(waiting, num_returns=1, timeout=_POLL_S, fetch_local=False)
            if ready:  # and whatever else is ready by now
                ready, _ = ray.wait(waiting, num_returns=len(waiting), timeout=0, fetch_local=False)
            if take is not None and take in ready:
                try:
                    self._deliver(ray.get(take))
                except ray.exceptions.RayError:  # the channel died: results still come back
                    channel_open = False
                take = None
            for ref in ready:
                job = self._jobs.get(ref)
                if job is not None:
                    job.returned = True
                    self._finish(ref, job, channel_open)
            self._relay_stops()

    def _deliver(self, messages: list[tuple[int, str, Any]]) -> None:
        with self._lock:
            by_id = {job.id: (ref, job) for ref, job in self._jobs.items()}
        for task_id, kind, payload in messages:
            if task_id not in by_id:
                continue
            ref, job = by_id[task_id]
            if kind == remote.FINISHED:
                job.finished = True
                self._finish(ref, job, channel_open=True)
            elif kind == remote.LOG and job.on_log is not None:
                with contextlib.suppress(Exception):
                    job.on_log(LogEntry(**payload))
            elif kind == remote.PROGRESS and job.on_progress is not None:
                with contextlib.suppress(Exception):  # a display's failure must not fail the task
                    job.on_progress(Progress(**payload))

    def _finish(self, ref: Any, job: _Job, channel_open: bool) -> None:
        """Set the task's result once it returned and its reports were all relayed."""
        if not job.returned or job.future.done():
            return
        try:
            text = ray.get(ref)
        except ray.exceptions.RayError as exc:
            result = self._failed(job, exc)
        else:
            if not job.finished and channel_open:
                return  # its last reports are on their way
            result = TaskResult.from_json(text)
        with self._lock:
            self._jobs.pop(ref, None)
        job.future.set_result(result)

    def _failed(self, job: _Job, exc: ray.exceptions.RayError) -> TaskResult:
        """A task that Ray could not run to its end: the worker died, or it was cancelled."""
        stopped = job.terminated or job.stop_sent
        node = job.task.node
        if isinstance(exc, ray.exceptions.TaskCancelledError) or (
            job.terminated and isinstance(exc, ray.exceptions.WorkerCrashedError)
        ):
            what = "was cancelled (the run stopped it)"
        elif isinstance(exc, ray.exceptions.RayTaskError):
            cause = exc.cause if exc.cause is not None else exc
            what = f"failed on the worker before the node ran: {type(cause).__name__}: {cause}"
        else:
            what = f"lost its worker: {type(exc).__name__}: {str(exc).splitlines()[0]}"
        error = PlatformError(
            f"The Ray task of node {node!r} (cluster {self._address}) {what}.",
            hint="If the worker ran out of memory, declare more (Resources(memory=...)); check "
            "that Shipyard is installed on the cluster; run the pipeline again to resume.",
        )
        return TaskResult(node, time.perf_counter() - job.started, error=error, interrupted=stopped)

    def _relay_stops(self) -> None:
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            if job.stop_sent or job.stop_requested is None or not job.stop_requested():
                continue
            job.stop_sent = True
            self._channel.stop.remote(job.id)


def _is_client(address: str | None) -> bool:
    return address is not None and address.startswith("ray://")


def _connect(address: str | None) -> None:
    """Connect this process to the cluster at `address`, naming it if that fails."""
    try:
        ray.init(
            address=address,
            logging_level=logging.WARNING,
        )
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise PlatformError(
            f"Cannot connect to the Ray cluster at {address or 'the default address'}: "
            f"{type(exc).__name__}: {exc}",
            hint="Start one with `ray start --head`, or give its address with --address "
            "(HOST:PORT, auto, or ray://HOST:10001) or RAY_ADDRESS.",
        ) from exc
