"""`Worker`: claims jobs from the queue and runs each as a process (`shipyard worker`).

A job's entrypoint is a command line, parsed with `shlex` (never by a shell) and run in the
job's unpacked working directory, in a process group of its own, with its project's store
and artifact root in its environment (`spaces`). Its output (stdout and stderr together)
goes to the job's log in chunks, a few times a second. While it runs, the worker renews its
lease every `heartbeat_s`; the renewal also says whether a stop was requested, and then the
worker ends the process group (SIGTERM, SIGKILL `kill_grace_s` later). On Linux the job's
process is killed when its worker dies, even by SIGKILL (`PR_SET_PDEATHSIG`), so the retry
of a dead worker's job never runs beside the first attempt (processes the job started
itself in other process groups are its own to end). A worker that loses
its lease (it could not reach the database for `lease_s`) ends the process and records
nothing: the job has gone back to the queue.

A worker with a `capacity` (CPUs, GPUs, memory) claims only jobs whose requested resources
fit what its running jobs leave free, and records that capacity every `ADVERTISE_S` (with
a claim, or alone while it is full), so that a job no live worker could hold says so. A
job asking for GPUs gets as many of the worker's devices as it asks (rounded up) to itself,
named in its `CUDA_VISIBLE_DEVICES`; a job asking for none is left the worker's.

`drain()` (the first SIGTERM or Ctrl-C) stops claiming and lets the running jobs finish;
`abort()` (the second) ends them and hands them back to the queue without using an attempt.
"""

from __future__ import annotations

import contextlib
import math
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Final

from shipyard.errors import ShipyardError
from shipyard.platform.jobs.capacity import Capacity, gpu_devices
from shipyard.platform.jobs.packages import PackageStore
from shipyard.platform.jobs.queue import LeaseLost
from shipyard.platform.jobs.spaces import (
    packages_location,
    project_artifact_root,
    project_schema,
    project_store_url,
    work_dir,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from shipyard.platform.jobs.queue import JobQueue
    from shipyard.platform.jobs.records import JobRecord, JobState

__all__ = ["ADVERTISE_S", "Worker", "WorkerOptions", "default_worker_name"]

ADVERTISE_S: Final = 5.0
"""How often a worker records its capacity (a live worker is one seen in `WORKER_LIVE_S`)."""
_CHUNK_BYTES: Final = 64 * 1024
_FLUSH_S: Final = 0.25


def default_worker_name() -> str:
    """`HOST:PID`: unique among the workers of a queue."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class WorkerOptions:
    """How a worker runs jobs.

    Args:
        store_url: The server's store (the queue's): projects' stores are found beside it.
        artifact_root: The server's artifact root (packages, projects' artifacts): a
            directory or an object store's URL.
        data_dir: The local directory jobs run in (and, with a SQLite store, where the
            projects' stores are).
        concurrency: How many jobs run at once.
        lease_s: How long a claim lasts without renewal.
        heartbeat_s: How often the lease is renewed (and a stop request seen).
        poll_s: How long an idle worker waits before asking for a job again.
        kill_grace_s: How long a stopped job has between SIGTERM and SIGKILL.
        engine: Where the pipelines a job runs execute their nodes (`SHIPYARD_ENGINE` of the
            job: threads, processes, ray...); None leaves it to the job.
        name: The worker's name in leases and messages.
        capacity: What the worker has for its jobs (None: any job fits, up to
            `concurrency`, and the worker records no capacity).
    """

    store_url: str
    artifact_root: str
    data_dir: Path
    concurrency: int = 1
    lease_s: float = 15.0
    heartbeat_s: float = 1.0
    poll_s: float = 0.5
    kill_grace_s: float = 5.0
    engine: str | None = None
    name: str = field(default_factory=default_worker_name)
    capacity: Capacity | None = None


class Worker:
    """Claim and run jobs until drained.

    Args:
        queue: The queue to claim from.
        options: How to run them.
        say: Where the worker reports what it does (default: stderr).
    """

    def __init__(
        self,
        queue: JobQueue,
        options: WorkerOptions,
        *,
        say: Callable[[str], None] | None = None,
    ) -> None:
        self.queue = queue
        self.options = options
        self._say = say or (lambda text: print(text, file=sys.stderr, flush=True))
        self._draining = threading.Event()
        self._aborting = threading.Event()
        self._running: dict[int, threading.Thread] = {}
        self._held: dict[int, Capacity] = {}  # what each running job holds
        self._devices: dict[int, list[str]] = {}  # the GPUs each running job holds
        capacity = options.capacity
        self._gpu_ids = [] if capacity is None else gpu_devices(capacity.num_gpus)
        self._slot_freed = threading.Event()  # a job ended: claim the next one at once

    @property
    def aborting(self) -> bool:
        """Whether `abort` was called: running jobs are being ended and handed back."""
        return self._aborting.is_set()

    def drain(self) -> None:
        """Stop claiming; running jobs finish."""
        self._draining.set()
        self._slot_freed.set()

    def abort(self) -> None:
        """Stop claiming, end the running jobs and hand them back to the queue."""
        self._aborting.set()
        self.drain()

    def run(self) -> None:
        """Claim and run jobs until `drain` or `abort`, then wait for the running ones."""
        name = self.options.name
        self._say(f"worker {name}: claiming jobs from {self.queue.url}")
        advertised = -ADVERTISE_S
        while not self._draining.is_set():
            self._running = {k: t for k, t in self._running.items() if t.is_alive()}
            self._held = {k: c for k, c in self._held.items() if k in self._running}
            self._devices = {k: d for k, d in self._devices.items() if k in self._running}
            job = None
            full = len(self._running) >= self.options.concurrency
            due = time.monotonic() - advertised >= ADVERTISE_S
            try:
                if not full:
                    job = self._claim(advertise=due)
                elif due:
                    self._advertise()
                if due:
                    advertised = time.monotonic()
            except ShipyardError as exc:
                self._say(f"worker {name}: cannot claim: {exc}")
            if job is None:
                (self._slot_freed if full else self._draining).wait(self.options.poll_s)
                self._slot_freed.clear()
                continue
            self._say(f"worker {name}: job {job.id} ({job.project}): {job.entrypoint}")
            devices = self._hold(job)
            thread = threading.Thread(
                target=self._run_job, args=(job, devices), name=f"job-{job.id}"
            )
            self._running[job.id] = thread
            thread.start()
        for thread in list(self._running.values()):
            thread.join()
        if self.options.capacity is not None:
            with contextlib.suppress(ShipyardError):
                self.queue.retire(name)
        self._say(f"worker {name}: stopped")

    def _claim(self, *, advertise: bool) -> JobRecord | None:
        """Claim a job that fits what is free, recording the worker's capacity if `advertise`."""
        capacity = self.options.capacity
        free = None if capacity is None else capacity.minus(self._held.values())
        return self.queue.claim(
            self.options.name,
            lease_s=self.options.lease_s,
            capacity=capacity if advertise else None,
            free=free,
        )

    def _hold(self, job: JobRecord) -> list[str]:
        """Count what a claimed job holds; return the GPUs it gets to itself (whole ones)."""
        asked = Capacity.of(job.resources)
        devices: list[str] = []
        if asked.num_gpus > 0 and self._gpu_ids:
            taken = {device for held in self._devices.values() for device in held}
            devices = [d for d in self._gpu_ids if d not in taken][: math.ceil(asked.num_gpus)]
            self._devices[job.id] = devices
            asked = Capacity(asked.num_cpus, float(math.ceil(asked.num_gpus)), asked.memory)
        self._held[job.id] = asked
        return devices

    def _advertise(self) -> None:
        if self.options.capacity is not None:
            self.queue.advertise(self.options.name, self.options.capacity)

    # One job -------------------------------------------------------------------------------
    def _run_job(self, job: JobRecord, devices: list[str]) -> None:
        name = self.options.name
        directory = work_dir(self.options.data_dir, job.id, job.attempts)
        try:
            try:
                argv = self._prepare(job, directory)
                process = subprocess.Popen(
                    argv,
                    cwd=directory,
                    env=self._environment(job, directory, devices),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    preexec_fn=_die_with_worker,  # noqa: PLW1509 (only prctl, no locks)
                )
            except (OSError, ValueError, ShipyardError) as exc:
                self._finish(job, "FAILED", f"could not start: {exc}", None)
                return
            state, message, code = _Supervisor(self, job, process).watch()
            if state is not None:
                self._finish(job, state, message, code)
        except LeaseLost:
            self._say(f"worker {name}: lost the lease of job {job.id}; it was ended")
        except Exception as exc:  # a worker's own failure must not take other jobs down
            self._say(f"worker {name}: job {job.id}: internal error: {exc!r}")
        finally:
            shutil.rmtree(directory, ignore_errors=True)
            self._slot_freed.set()

    def _prepare(self, job: JobRecord, directory: Path) -> list[str]:
        argv = shlex.split(job.entrypoint)
        if not argv:
            raise ValueError("the entrypoint is empty")
        shutil.rmtree(directory, ignore_errors=True)
        if job.package is not None:
            PackageStore(packages_location(self.options.artifact_root)).unpack(
                job.package, directory
            )
        directory.mkdir(parents=True, exist_ok=True)
        self.queue.create_schema(project_schema(job.project))
        return argv

    def _environment(
        self, job: JobRecord, directory: Path, devices: list[str] | None = None
    ) -> dict[str, str]:
        options = self.options
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
        bin_dir = os.path.dirname(sys.executable)  # the `shipyard` of this installation first
        env["PATH"] = os.pathsep.join(filter(None, [bin_dir, env.get("PATH")]))
        env.update(
            SHIPYARD_STORE=project_store_url(options.store_url, options.data_dir, job.project),
            SHIPYARD_ARTIFACT_ROOT=project_artifact_root(options.artifact_root, job.project),
            SHIPYARD_HOME=str(directory / ".shipyard"),
            SHIPYARD_JOB_ID=str(job.id),
            SHIPYARD_PROJECT=job.project,
        )
        if devices:
            env["CUDA_VISIBLE_DEVICES"] = ",".join(devices)
        if self.options.engine is not None:
            env["SHIPYARD_ENGINE"] = self.options.engine
        for kept in ("SHIPYARD_CEILING_DIRECTORIES",):
            if kept in os.environ:
                env[kept] = os.environ[kept]
        return env

    def _finish(self, job: JobRecord, state: JobState, message: str, code: int | None) -> None:
        """Record the job's end, trying again while the database is unreachable (until the
        lease would have expired: then the job is another worker's to retry)."""
        deadline = time.monotonic() + self.options.lease_s
        while True:
            try:
                self.queue.finish(
                    job.id, self.options.name, state=state, message=message, exit_code=code
                )
                break
            except LeaseLost:
                raise
            except ShipyardError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(self.options.heartbeat_s)
        self._say(f"worker {self.options.name}: job {job.id} {state}: {message}")


class _Supervisor:
    """Pumps a job's output into its log, renews its lease and ends it when asked."""

    def __init__(self, worker: Worker, job: JobRecord, process: subprocess.Popen[bytes]) -> None:
        self.worker = worker
        self.job = job
        self.process = process
        self._lock = threading.Lock()
        self._pending: list[str] = []
        self._last_line = ""

    def watch(self) -> tuple[JobState | None, str, int | None]:
        """Wait for the process; return its state, message and exit code (None: handed back).

        Raises:
            LeaseLost: The worker lost the job (the process group was killed).
        """
        try:
            return self._watch()
        except BaseException:
            self._kill(signal.SIGKILL)
            self.process.wait()
            raise

    def _watch(self) -> tuple[JobState | None, str, int | None]:
        options, queue = self.worker.options, self.worker.queue
        assert self.process.stdout is not None
        reader = threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True)
        reader.start()
        renewed = time.monotonic()
        stopped_at: float | None = None
        aborted = False
        while True:
            code = self.process.poll()
            self._flush()
            now = time.monotonic()
            if code is not None and not reader.is_alive():
                break
            if code is None and now - renewed >= options.heartbeat_s:
                try:
                    stop = queue.renew(self.job.id, options.name, lease_s=options.lease_s)
                    renewed = now
                except LeaseLost:
                    raise
                except ShipyardError:  # the database is unreachable: try again until lease_s
                    stop = False
                    if now - renewed > options.lease_s:
                        raise LeaseLost(f"could not renew the lease of job {self.job.id}") from None
                if stop and stopped_at is None:
                    stopped_at = now
                    self._kill(signal.SIGTERM)
            if code is None and self.worker.aborting and not aborted:
                aborted = True
                stopped_at = now
                self._kill(signal.SIGTERM)
            if code is None and stopped_at is not None and now - stopped_at > options.kill_grace_s:
                self._kill(signal.SIGKILL)
            if code is None:  # returns as soon as the process exits
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=_FLUSH_S)
            else:  # the rest of its output
                reader.join(_FLUSH_S)
        reader.join()
        self._flush()
        if aborted:
            queue.hand_back(self.job.id, options.name, f"worker {options.name} shut down")
            return None, "", code
        return self._outcome(code, stopped=stopped_at is not None)

    def _outcome(self, code: int, *, stopped: bool) -> tuple[JobState, str, int]:
        how = _exit_text(code)
        if stopped:
            return "STOPPED", f"stopped on request; the process {how}", code
        if code == 0:
            return "SUCCEEDED", "exited with code 0", code
        last = f": {self._last_line}" if self._last_line else ""
        return "FAILED", f"{how}{last}", code

    def _read(self, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", errors="replace")
            with self._lock:
                self._pending.append(line)
                if line.strip():
                    self._last_line = line.strip()[:500]
        stream.close()

    def _flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
        text = "".join(pending)
        for start in range(0, len(text), _CHUNK_BYTES):
            self.worker.queue.append_log(
                self.job.id,
                self.worker.options.name,
                self.job.attempts,
                text[start : start + _CHUNK_BYTES],
            )

    def _kill(self, sig: signal.Signals) -> None:
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass


def signal_on_parent_death(sig: int) -> None:
    """In a child process, before it runs: on Linux, get `sig` when the parent dies (even
    by SIGKILL). Elsewhere nothing happens."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, sig)


def _die_with_worker() -> None:
    """In the job's process: be killed when the worker dies, so that a job retried
    elsewhere never runs twice at once."""
    signal_on_parent_death(signal.SIGKILL)


def _exit_text(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name} (exit code {code})"
        except ValueError:
            return f"was killed by signal {-code} (exit code {code})"
    return f"exited with code {code}"
