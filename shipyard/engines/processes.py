"""`ProcessEngine` (`--engine processes`): tasks on a pool of worker processes.

Real parallelism for CPU-bound Python nodes, and nodes that can be stopped at once: after the
run's grace period a Ctrl-C kills the workers still running, which threads cannot do. Each
worker (`shipyard.engines.worker`) runs one task at a time and is reused; tasks, progress and
results cross as JSON over a socket pair.

Why not `concurrent.futures.ProcessPoolExecutor`: it cannot tell a running task to stop, relay
its progress and logs, or kill a worker without breaking the whole pool, and it pickles.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from shipyard.dsl.context import LogEntry, Progress
from shipyard.engines.result import TaskResult
from shipyard.errors import PlatformError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from shipyard.engines.spec import TaskSpec

_POLL_S = 0.1  # how often stop requests are looked at
_WORKER_FILE = Path(__file__).with_name("worker.py")


@dataclass
class _Job:
    id: int
    task: TaskSpec
    future: Future[TaskResult]
    on_progress: Callable[[Progress], None] | None
    stop_requested: Callable[[], bool] | None
    on_log: Callable[[LogEntry], None] | None
    stop_sent: bool = False
    started: float = field(default_factory=time.perf_counter)


@dataclass
class _Worker:
    process: subprocess.Popen[bytes]
    connection: Connection
    job: _Job | None = None
    ready: bool = False


class ProcessEngine:
    """Runs tasks on worker processes, started on demand and reused.

    A component must be importable from a worker: defined at the top level of a module or
    of the pipeline file (a script that runs a pipeline when imported needs an
    `if __name__ == "__main__":` guard, as with `multiprocessing`).

    Args:
        max_workers: Worker processes, so tasks run at once (default: the number of CPUs,
            at least 2).
        preload: Modules each worker imports as it starts, before its first task. Given,
            the workers start at once instead of on demand, so their imports overlap what
            the caller does meanwhile (the `threads` engine's warm worker).

    Raises:
        OSError: With `preload`: a worker process cannot be started.
    """

    name: ClassVar[str] = "processes"

    def __init__(self, max_workers: int | None = None, *, preload: Sequence[str] = ()) -> None:
        self._max_workers = max_workers or max(2, os.cpu_count() or 1)
        self._preload = list(preload)
        self._ids = itertools.count(1)
        self._queue: deque[_Job] = deque()
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = socket.socketpair()
        self._closing = False
        if self._preload:
            try:
                while len(self._workers) < self._max_workers:
                    self._workers.append(self._spawn())
            except OSError:
                self._wake_r.close()
                self._wake_w.close()
                for worker in self._workers:
                    worker.process.kill()
                    worker.process.wait()
                    worker.connection.close()
                raise
        self._dispatcher = threading.Thread(
            target=self._dispatch, name="shipyard-processes", daemon=True
        )
        self._dispatcher.start()

    @property
    def max_parallel(self) -> int:
        return self._max_workers

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
        with self._lock:
            if self._closing:
                raise RuntimeError("ProcessEngine.submit after close()")
            job = _Job(next(self._ids), task, future, on_progress, stop_requested, on_log)
            self._queue.append(job)
        self._wake()
        return future

    def terminate(self) -> None:
        """Kill the workers running tasks; their tasks come back interrupted."""
        with self._lock:
            busy = [worker for worker in self._workers if worker.job is not None]
        for worker in busy:
            worker.process.kill()
        self._wake()

    def close(self) -> None:
        with self._lock:
            self._closing = True
        self._wake()
        self._dispatcher.join()
        self._wake_r.close()
        self._wake_w.close()

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"\0")
        except OSError:  # closed: the dispatcher has stopped
            pass

    def _dispatch(self) -> None:
        """The engine's one thread: starts workers and tasks, relays messages and stops."""
        while True:
            with self._lock:
                closing = self._closing
                workers = list(self._workers)
            if closing and not self._queue and all(w.job is None for w in workers):
                break
            self._start_queued()
            self._relay_stops()
            ready = wait([self._wake_r, *(w.connection for w in self._workers)], _POLL_S)
            for item in ready:
                if item is self._wake_r:
                    self._wake_r.recv(4096)
                    continue
                worker = next(w for w in self._workers if w.connection is item)
                self._receive(worker)
        for worker in self._workers:
            self._stop_worker(worker)
        self._workers.clear()

    def _start_queued(self) -> None:
        """Start as many workers as queued and running tasks need; give each idle one a task."""
        with self._lock:
            queued = len(self._queue)
        busy = sum(w.job is not None for w in self._workers)
        while len(self._workers) < min(self._max_workers, busy + queued):
            try:
                self._workers.append(self._spawn())
            except OSError as exc:  # no process can start: fail what waits, not the engine
                self._fail_queued(exc)
                return
        for worker in self._workers:
            if worker.job is not None or not worker.ready:
                continue
            with self._lock:
                if not self._queue:
                    return
                job = self._queue.popleft()
            if not job.future.set_running_or_notify_cancel():
                continue
            worker.job = job
            job.started = time.perf_counter()
            self._send(worker, {"op": "run", "id": job.id, "task": job.task.to_json()})

    def _fail_queued(self, exc: OSError) -> None:
        """Fail every queued task: a worker process cannot be started."""
        with self._lock:
            jobs, self._queue = list(self._queue), deque()
        for job in jobs:
            if job.future.set_running_or_notify_cancel():
                error = PlatformError(
                    f"Cannot start a worker process for node {job.task.node!r}: {exc}.",
                    hint="Check the process limits (ulimit -u) and the free memory.",
                )
                job.future.set_result(TaskResult(job.task.node, 0.0, error=error))

    def _relay_stops(self) -> None:
        for worker in self._workers:
            job = worker.job
            if job is None or job.stop_sent or job.stop_requested is None:
                continue
            if job.stop_requested():
                job.stop_sent = True
                self._send(worker, {"op": "stop", "id": job.id})

    def _receive(self, worker: _Worker) -> None:
        try:
            message = json.loads(worker.connection.recv_bytes())
        except (EOFError, OSError):
            self._worker_died(worker)
            return
        job = worker.job
        if message["op"] == "ready":
            worker.ready = True
        elif message["op"] == "progress" and job is not None and job.on_progress is not None:
            with contextlib.suppress(Exception):  # a display's failure must not fail the task
                job.on_progress(Progress(**message["progress"]))
        elif message["op"] == "log" and job is not None and job.on_log is not None:
            with contextlib.suppress(Exception):
                job.on_log(LogEntry(**message["entry"]))
        elif message["op"] == "result" and job is not None:
            worker.job = None
            job.future.set_result(TaskResult.from_json(message["result"]))

    def _worker_died(self, worker: _Worker) -> None:
        """A worker exited (killed, out of memory, crashed): its task fails, naming why."""
        self._workers.remove(worker)
        worker.connection.close()
        code = worker.process.wait()
        job = worker.job
        if job is None and not worker.ready:  # it never started: fail a task, or loop forever
            with self._lock:
                job = self._queue.popleft() if self._queue else None
            if job is None or not job.future.set_running_or_notify_cancel():
                return
        if job is None:
            return
        stopped = job.stop_sent or (job.stop_requested is not None and job.stop_requested())
        how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
        when = "before the node finished" if worker.ready else "while starting"
        error = PlatformError(
            f"The worker process for node {job.task.node!r} (pid {worker.process.pid}) "
            f"{how} {when}.",
            hint="If it ran out of memory, give the node more or run fewer nodes at once "
            "(--workers); run the pipeline again to resume.",
        )
        job.future.set_result(
            TaskResult(
                job.task.node, time.perf_counter() - job.started, error=error, interrupted=stopped
            )
        )

    def _spawn(self) -> _Worker:
        parent, child = socket.socketpair()
        package_root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([package_root, *filter(None, [env.get("PYTHONPATH")])])
        try:
            process = subprocess.Popen(
                # -P: the working directory is not put first on its path (it may hold a
                # `numbers.py` or a `random.py`); the worker adds the runner's own entries.
                # Run as a file, not `-m shipyard.engines.worker`, which would import this
                # package (60 ms) before the worker's slow `preload` imports can start.
                [sys.executable, "-P", str(_WORKER_FILE), str(child.fileno())],
                pass_fds=[child.fileno()],
                env=env,
                start_new_session=True,  # Ctrl-C reaches the runner only; it decides
            )
        except OSError:
            parent.close()
            raise
        finally:
            child.close()
        connection = Connection(parent.detach())
        worker = _Worker(process, connection)
        self._send(
            worker,
            {"op": "init", "sys_path": sys.path, "engine": self.name, "preload": self._preload},
        )
        return worker

    def _send(self, worker: _Worker, message: dict[str, Any]) -> None:
        try:
            worker.connection.send_bytes(json.dumps(message).encode())
        except OSError:  # it died: `_receive` sees the closed socket and reports it
            pass

    def _stop_worker(self, worker: _Worker) -> None:
        self._send(worker, {"op": "exit"})
        try:
            worker.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait()
        worker.connection.close()
