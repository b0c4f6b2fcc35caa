"""Jobs placed by the resources they ask for: what placement costs a claim, and how jobs
asking for CPUs share a worker, beside Ray's Jobs API placing the same requests.

1. The claim's CPU cost, in process on SQLite: `--claims` jobs (each asking for 1 CPU)
   claimed one by one without placement (`claim(name)`: the claim before placement) and
   with it (`claim(name, free=...)`: the fit test in the claim's statement; and, one claim
   in 10, `capacity=...`: the worker's record refreshed, as a worker polling every 0.5 s
   does every 5 s); then as many claims of an empty queue (an idle worker's poll). CPU ms
   per claim (this process's CPU time: SQLite runs in it).
2. Placement end to end: `--jobs` jobs of 1 s, each asking for 1 CPU, submitted at once.
   Shipyard: `shipyard server --workers 0` and one `shipyard worker --num-cpus 2
   --concurrency JOBS` (its CPUs, not its concurrency, bound what runs at once). Ray: the
   Jobs REST API of a 2-CPU head (`entrypoint_num_cpus: 1`). Each job writes its start and
   end time to a ledger: the most jobs running at once (2 expected), and the time from the
   first submission to the last end.

    python benchmarks/job_placement.py [--repeats 5] [--ray-path /tmp/raydeps] [--no-peer]

Part 2 reuses `platform_jobs.py`'s sides (the servers, the API client).
"""

from __future__ import annotations

import sys

if sys.path and sys.path[0] == __file__.rsplit("/", 1)[0]:
    sys.path.pop(0)  # as platform_jobs.py: nothing here may shadow the standard library
    sys.path.append(__file__.rsplit("/", 1)[0])  # but its modules stay importable, last

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

CHECKOUT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(CHECKOUT))

from platform_jobs import Ray, Shipyard, Side, _submit_all, _wait_done  # noqa: E402

ADVERTISE_EVERY = 10
"""A worker records its capacity every 5 s (`worker.ADVERTISE_S`): one poll in 10 at 0.5 s."""
JOB = """\
import sys, time
with open(sys.argv[1], "a") as ledger:
    ledger.write(f"{time.time()} 1\\n"); ledger.flush(); time.sleep(1)
    ledger.write(f"{time.time()} -1\\n")
"""


def claim_cost(claims: int, workdir: Path) -> dict[str, float]:
    """Part 1: CPU ms per claim, without and with placement, of queued and empty queues."""
    from shipyard.platform.jobs.capacity import Capacity
    from shipyard.platform.jobs.queue import JobQueue
    from shipyard.platform.jobs.records import NewJob

    capacity = Capacity(num_cpus=2, num_gpus=0, memory=8 * 1024**3)
    figures: dict[str, float] = {}
    for placed in (False, True):
        database = workdir / f"claims-{placed}-{time.monotonic_ns()}.db"
        queue = JobQueue(f"sqlite:///{database}")
        try:
            for index in range(claims):
                queue.submit(NewJob("bench", f"k{index}", "ada", "true", resources={"num_cpus": 1}))
            for what in ("queued", "empty"):
                started = time.process_time()
                for index in range(claims):
                    if not placed:
                        queue.claim("w1", lease_s=600)
                    else:  # as a worker: the fit test always, its record every 10th poll
                        record = capacity if index % ADVERTISE_EVERY == 0 else None
                        queue.claim("w1", lease_s=600, capacity=record, free=capacity)
                took = time.process_time() - started
                figures[f"{what} {'placed' if placed else 'unplaced'}"] = took / claims * 1e3
        finally:
            queue.close()
    return figures


class PlacedShipyard(Shipyard):
    """One worker with 2 CPUs and room for every job: its CPUs bound what runs at once."""

    jobs = 12

    def body(self, key: str, command: str) -> dict[str, Any]:
        return {**super().body(key, command), "entrypoint_num_cpus": 1}

    def start_workers(self) -> None:
        self.workers.append(subprocess.Popen(
            [sys.executable, "-m", "shipyard", "worker", "--store", self.store,
             "--artifact-root", str(self.root / "root"), "--name", "w0", "--num-cpus", "2",
             "--concurrency", str(self.jobs)],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ))  # fmt: skip


def placement(side: Side, workdir: Path, *, jobs: int, run: str) -> tuple[int, float]:
    """Part 2: the most jobs running at once, and seconds from submission to the last end."""
    ledger = workdir / f"placement-{side.name.split()[0]}-{run}.txt"
    script = workdir / "job.py"
    script.write_text(JOB)
    command = shlex.join([sys.executable, str(script), str(ledger)])
    bodies = [side.body(f"{run}-{index}", command) for index in range(jobs)]
    side.start_workers()
    started = time.time()
    done = _wait_done(side, _submit_all(side, bodies, 4))
    side.stop_workers()
    assert all(side.state(job) == "SUCCEEDED" for job in done), done
    events = sorted(
        (float(t), int(step))
        for t, step in (line.split() for line in ledger.read_text().splitlines())
    )
    running = most = 0
    for _at, step in events:
        running += step
        most = max(most, running)
    return most, events[-1][0] - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--claims", type=int, default=300)
    parser.add_argument("--jobs", type=int, default=12)
    parser.add_argument("--ray-path", default=None)
    parser.add_argument("--no-peer", action="store_true")
    options = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    workdir = Path(tempfile.mkdtemp(prefix="placement-bench-"))
    try:
        costs: dict[str, list[float]] = {}
        for _ in range(options.repeats):
            for key, value in claim_cost(options.claims, workdir).items():
                costs.setdefault(key, []).append(value)
        print(f"\n== claim CPU ms per claim, medians of {options.repeats} ({options.claims} each)")
        for key, values in costs.items():
            each = ", ".join(f"{v:.3f}" for v in values)
            print(f"  {key}: {statistics.median(values):.3f} ms  ({each})")
        PlacedShipyard.jobs = options.jobs
        makers = [lambda: PlacedShipyard(workdir / "shipyard")]
        if not options.no_peer:
            makers.append(lambda: Ray(workdir, options.ray_path))
        for make in makers:
            side = make()
            try:
                results = [
                    placement(side, workdir, jobs=options.jobs, run=f"r{repeat}")
                    for repeat in range(max(1, options.repeats // 2))
                ]
            finally:
                side.close()
            most = max(r[0] for r in results)
            spans = [r[1] for r in results]
            print(
                f"\n== {side.name}: {options.jobs} jobs of 1 s asking 1 CPU each, 2 CPUs: at most "
                f"{most} at once; submission to last end, median {statistics.median(spans):.1f} s "
                f"({', '.join(f'{s:.1f}' for s in spans)})"
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
