"""The platform server's jobs: exactly once under concurrent submission, API latency, throughput.

Shipyard: `shipyard server --workers 0` on SQLite in a fresh directory, with real users and
API tokens, and `shipyard worker` processes started by this script. The peer: Ray's Jobs REST
API (`ray start --head` with the dashboard, the same REST shape: `POST /api/jobs/`,
`GET /api/jobs/{id}`), on the same machine in the same run. Ray needs `ray[default]`; point
`--ray-path` at a directory holding it (`pip install --target DIR "ray[default]"`) if the
environment's Ray lacks the dashboard's packages.

1. Exactly once: `--jobs` jobs (100) submitted at once by `--clients` threads (10), each job
   appending its key to one file; two workers (Shipyard) or the cluster (Ray) run them.
   Checked: every job SUCCEEDED, every key in the file exactly once.
2. Latency at `--concurrency` clients (50), each on its own keep-alive connection: job
   submission (`--submissions` per client), then status of one job (`--statuses` per
   client); p50 and p99. Shipyard's workers are stopped meanwhile (the API alone).
3. Throughput: `--throughput-jobs` no-op jobs (`true`; Ray: `--peer-throughput-jobs`)
   queued, then run by 2 workers of concurrency 1 (Ray: the cluster's 2 CPUs, each job
   asking for one); jobs/s from the first start to the last end.

    python benchmarks/platform_jobs.py [--repeats 3] [--ray-path /tmp/raydeps] [--no-peer]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peers.servers import answers_ok

from shipyard.io.ports import free_port

if TYPE_CHECKING:
    from collections.abc import Callable

CHECKOUT = Path(__file__).resolve().parent.parent


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


class Api:
    """A keep-alive connection to a jobs API (Shipyard's or Ray's: the same REST shape)."""

    def __init__(self, port: int, token: str | None) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        self.headers = {"Content-Type": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        self.connection.request(method, path, body=data, headers=self.headers)
        response = self.connection.getresponse()
        payload = response.read()
        if response.status >= 300:
            raise RuntimeError(f"{method} {path}: {response.status} {payload[:300]!r}")
        return json.loads(payload)

    def close(self) -> None:
        self.connection.close()


class Side:
    """One system under test: how to submit a job, read its state and end its run."""

    name = ""
    port = 0
    token: str | None = None

    def body(self, key: str, command: str) -> dict[str, Any]:
        raise NotImplementedError

    def job_path(self, answer: dict[str, Any]) -> str:
        raise NotImplementedError

    def state(self, job: dict[str, Any]) -> str:
        return str(job["status"])

    def span_s(self, jobs: list[dict[str, Any]]) -> float:
        raise NotImplementedError

    def start_workers(self) -> None:
        """Start running jobs (Ray: always running)."""

    def settle(self, paths: list[str]) -> None:
        """Let the jobs at `paths` no longer weigh on the next measurement."""
        _wait_done(self, paths)

    def stop_workers(self) -> None:
        """Stop running jobs."""

    def stop_jobs(self, paths: list[str]) -> None:
        """Ask the API to stop each job at `paths` (`POST PATH/stop`)."""
        api = Api(self.port, self.token)
        try:
            for path in paths:
                api.call("POST", f"{path}/stop")
        finally:
            api.close()

    def close(self) -> None:
        raise NotImplementedError


class Shipyard(Side):
    name = "Shipyard"

    def __init__(self, root: Path) -> None:
        sys.path.insert(0, str(CHECKOUT))
        from shipyard.platform.auth.accounts import Accounts
        from shipyard.platform.auth.records import Actor
        from shipyard.platform.database import Database

        self.root = root
        self.store = f"sqlite:///{root / 'server.db'}"
        with Database(self.store) as database:
            accounts = Accounts(database)
            accounts.add_project("bench", actor=Actor("host:bench"))
            accounts.add_user("bench", actor=Actor("host:bench"), superuser=True)
            self.token = accounts.create_token("bench", actor=Actor("host:bench")).secret
        self.env = {**os.environ, "PYTHONPATH": str(CHECKOUT)}
        self.port = free_port()
        self.server = subprocess.Popen(
            [sys.executable, "-m", "shipyard", "server", "--store", self.store,
             "--artifact-root", str(root / "root"), "--port", str(self.port), "--workers", "0"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        _wait_until_up(self.port, "/api/openapi.json")
        self.workers: list[subprocess.Popen[bytes]] = []

    def body(self, key: str, command: str) -> dict[str, Any]:
        return {"entrypoint": command, "project": "bench", "submission_id": key}

    def job_path(self, answer: dict[str, Any]) -> str:
        return f"/api/jobs/{answer['job_id']}"

    def settle(self, paths: list[str]) -> None:
        """Stop the pending jobs (no worker ran them)."""
        self.stop_jobs(paths)

    def span_s(self, jobs: list[dict[str, Any]]) -> float:
        started = min(datetime.fromisoformat(j["started_at"]) for j in jobs)
        ended = max(datetime.fromisoformat(j["ended_at"]) for j in jobs)
        return (ended - started).total_seconds()

    def start_workers(self) -> None:
        for index in range(2):
            self.workers.append(subprocess.Popen(
                [sys.executable, "-m", "shipyard", "worker", "--store", self.store,
                 "--artifact-root", str(self.root / "root"), "--name", f"w{index}"],
                env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            ))  # fmt: skip

    def stop_workers(self) -> None:
        for worker in self.workers:
            worker.terminate()
        for worker in self.workers:
            worker.wait(60)
        self.workers = []

    def close(self) -> None:
        self.stop_workers()
        self.server.terminate()
        self.server.wait(60)


class Ray(Side):
    name = "Ray Jobs"

    def __init__(self, root: Path, ray_path: str | None) -> None:
        self.env = dict(os.environ)
        if ray_path:
            self.env["PYTHONPATH"] = ray_path
        self.env["RAY_USAGE_STATS_ENABLED"] = "0"
        self.port = free_port()
        self.ray = [sys.executable, "-m", "ray.scripts.scripts"]
        subprocess.run(
            [*self.ray, "start", "--head", "--num-cpus", "2", "--include-dashboard", "true",
             "--dashboard-host", "127.0.0.1", "--dashboard-port", str(self.port),
             "--port", str(free_port()), "--temp-dir", str(root / "ray")],
            env=self.env, check=True, capture_output=True, timeout=300,
        )  # fmt: skip
        _wait_until_up(self.port, "/api/version")

    def body(self, key: str, command: str) -> dict[str, Any]:
        # One CPU each, of the cluster's 2: at most 2 jobs run at once, as with 2 workers
        # (without it every job's supervisor starts at once, a process each).
        return {"entrypoint": command, "submission_id": key, "entrypoint_num_cpus": 1}

    def job_path(self, answer: dict[str, Any]) -> str:
        return f"/api/jobs/{answer['submission_id']}"

    def settle(self, paths: list[str]) -> None:
        """Stop the jobs (running them all takes minutes), then wait until they have ended."""
        self.stop_jobs(paths)
        _wait_done(self, paths)

    def span_s(self, jobs: list[dict[str, Any]]) -> float:
        started = min(j["start_time"] for j in jobs)
        ended = max(j["end_time"] for j in jobs)
        return float(ended - started) / 1e3

    def close(self) -> None:
        subprocess.run([*self.ray, "stop", "--force"], env=self.env, capture_output=True,
                       check=False, timeout=120)  # fmt: skip


def _wait_until_up(port: int, path: str) -> None:
    deadline = time.monotonic() + 120
    while not answers_ok(port, path):
        if time.monotonic() > deadline:
            raise RuntimeError(f"nothing answered on port {port}")
        time.sleep(0.3)


def _submit_all(side: Side, bodies: list[dict[str, Any]], clients: int) -> list[str]:
    """Submit `bodies` from `clients` threads at once; return each job's path."""
    shares = [bodies[index::clients] for index in range(clients)]
    barrier = threading.Barrier(clients)

    def submit(share: list[dict[str, Any]]) -> list[str]:
        api = Api(side.port, side.token)
        barrier.wait()
        try:
            return [side.job_path(api.call("POST", "/api/jobs/", body)) for body in share]
        finally:
            api.close()

    with ThreadPoolExecutor(clients) as pool:
        return [path for paths in pool.map(submit, shares) for path in paths]


def _wait_done(side: Side, paths: list[str], timeout_s: float = 900) -> list[dict[str, Any]]:
    api = Api(side.port, side.token)
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            jobs = [api.call("GET", path) for path in paths]
            if all(side.state(job) in ("SUCCEEDED", "FAILED", "STOPPED") for job in jobs):
                return jobs
            if time.monotonic() > deadline:
                raise RuntimeError("jobs did not end in time")
            time.sleep(0.5)
    finally:
        api.close()


def exactly_once(side: Side, workdir: Path, *, jobs: int, clients: int, run: str) -> str:
    """Part 1: submit concurrently, run, and check each job ran once."""
    ledger = workdir / f"ledger-{side.name.split()[0]}-{run}.txt"
    keys = [f"{run}-{index}" for index in range(jobs)]
    command = "sh -c 'echo {key} >> " + str(ledger) + "'"
    if isinstance(side, Ray):
        command = "echo {key} >> " + str(ledger)
    bodies = [side.body(key, command.format(key=key)) for key in keys]
    started = time.monotonic()
    paths = _submit_all(side, bodies, clients)
    side.start_workers()
    done = _wait_done(side, paths)
    took = time.monotonic() - started
    side.stop_workers()
    lines = ledger.read_text().split()
    ok = sum(side.state(job) == "SUCCEEDED" for job in done)
    once = len(lines) == len(set(lines)) == jobs and set(lines) == set(keys)
    return (
        f"{ok}/{jobs} SUCCEEDED, {len(set(paths))} distinct jobs, ledger: "
        + (f"each key once ({len(lines)} lines)" if once else f"WRONG ({len(lines)} lines)")
        + f"; {took:.1f} s"
    )


def latency(
    side: Side, *, concurrency: int, submissions: int, statuses: int, run: str
) -> dict[str, float]:
    """Part 2: p50/p99 of submission and of status at `concurrency` clients."""
    barrier = threading.Barrier(concurrency)
    probe = Api(side.port, side.token)
    answer = probe.call("POST", "/api/jobs/", side.body(f"{run}-probe", "true"))
    status_path = side.job_path(answer)
    probe.close()
    submitted = [status_path]

    def client(index: int) -> tuple[list[float], list[float]]:
        api = Api(side.port, side.token)
        submit_s: list[float] = []
        status_s: list[float] = []
        barrier.wait()
        try:
            for number in range(submissions):
                body = side.body(f"{run}-lat-{index}-{number}", "true")
                began = time.perf_counter()
                submitted.append(side.job_path(api.call("POST", "/api/jobs/", body)))
                submit_s.append(time.perf_counter() - began)
            for _ in range(statuses):
                began = time.perf_counter()
                api.call("GET", status_path)
                status_s.append(time.perf_counter() - began)
        finally:
            api.close()
        return submit_s, status_s

    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(client, range(concurrency)))
    side.settle(submitted)
    submit = [s for r in results for s in r[0]]
    status = [s for r in results for s in r[1]]
    return {
        "submit_p50_ms": _percentile(submit, 0.5) * 1e3,
        "submit_p99_ms": _percentile(submit, 0.99) * 1e3,
        "status_p50_ms": _percentile(status, 0.5) * 1e3,
        "status_p99_ms": _percentile(status, 0.99) * 1e3,
    }


def throughput(side: Side, *, jobs: int, run: str) -> float:
    """Part 3: jobs/s of no-op jobs from the first start to the last end."""
    bodies = [side.body(f"{run}-tp-{index}", "true") for index in range(jobs)]
    paths = _submit_all(side, bodies, 10)
    side.start_workers()
    done = _wait_done(side, paths)
    side.stop_workers()
    return jobs / side.span_s(done)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--submissions", type=int, default=2)
    parser.add_argument("--statuses", type=int, default=20)
    parser.add_argument("--throughput-jobs", type=int, default=100)
    parser.add_argument(
        "--peer-throughput-jobs", type=int, default=20, help="Ray runs about 0.5 jobs/s."
    )
    parser.add_argument("--ray-path", default=None)
    parser.add_argument("--no-peer", action="store_true")
    options = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    workdir = Path(tempfile.mkdtemp(prefix="platform-bench-"))
    try:  # one side at a time: the other's idle processes stay out of its figures
        makers: list[Callable[[], Side]] = [lambda: Shipyard(workdir / "shipyard")]
        if not options.no_peer:
            makers.append(lambda: Ray(workdir, options.ray_path))
        for make in makers:
            side = make()
            try:
                _measure(side, workdir, options)
            finally:
                side.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _measure(side: Side, workdir: Path, options: argparse.Namespace) -> None:
    print(f"\n== {side.name}")
    once = exactly_once(side, workdir, jobs=options.jobs, clients=options.clients, run="once")
    print("exactly once:", once)
    cells: dict[str, list[float]] = {}
    rates = []
    for repeat in range(options.repeats):
        measured = latency(side, concurrency=options.concurrency, submissions=options.submissions,
                           statuses=options.statuses, run=f"r{repeat}")  # fmt: skip
        for key, value in measured.items():
            cells.setdefault(key, []).append(value)
        count = (
            options.throughput_jobs if isinstance(side, Shipyard) else options.peer_throughput_jobs
        )
        rates.append(throughput(side, jobs=count, run=f"r{repeat}"))
        print(f"  repeat {repeat + 1}: " + ", ".join(f"{k} {v:.1f}" for k, v in measured.items())
              + f", {rates[-1]:.1f} jobs/s")  # fmt: skip
    print(
        f"{side.name} medians of {options.repeats}: "
        + ", ".join(f"{key} {statistics.median(values):.1f}" for key, values in cells.items())
        + f", throughput {statistics.median(rates):.1f} jobs/s (2 workers, no-op jobs)"
    )


if __name__ == "__main__":
    main()
