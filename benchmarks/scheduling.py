"""What the scheduler costs: per firing, per step, and idle.

1. Firing: new data arrives and `shipyard schedule triggers.yaml --once` runs the pipeline
   it fires (the scheduler's process, then the run's own), against the floor: cron running
   `shipyard run pipeline.py` itself. Runs interleave; each in a fresh directory.
2. Step: one step of a scheduler where nothing fires, holding 100 cron triggers and 10
   new-data triggers watching 1,000 files each, on SQLite, in this process: evaluating
   every trigger (the worst case, as `--once` does), and as a running scheduler steps
   (each second: nothing is due before its time, new data is looked at every minute).
3. Idle: the CPU a long-running `shipyard schedule` with those 110 triggers uses, from
   /proc, over `--idle-s` seconds after its start-up.

    python benchmarks/scheduling.py [--repeats 7] [--idle-s 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PIPELINE = """\
from shipyard import Out, Pipeline, component
from shipyard.artifacts import Artifact


@component
def blob(out: Out[Artifact], *, size_bytes: int = 10) -> None:
    (out.path / "blob.bin").write_bytes(b"x" * size_bytes)


def blobs(size_bytes: int = 10) -> Pipeline:
    return Pipeline("blobs", nodes=[blob(size_bytes=size_bytes)])
"""

ONE_TRIGGER = """\
triggers:
  arrivals:
    file: pipeline.py
    new_data: {files: "in/*.csv", include_existing: true}
"""


def many_triggers(root: Path, crons: int = 100, watchers: int = 10, files: int = 1000) -> str:
    """A triggers file of `crons` hourly triggers and `watchers` new-data triggers."""
    lines = ["limits:", "  pipeline.py: {max_concurrent: 1}", "triggers:"]
    for index in range(crons):
        lines += [f"  cron{index}:", "    file: pipeline.py",
                  f'    schedule: {{cron: "{index % 60} * * * *"}}']  # fmt: skip
    for index in range(watchers):
        folder = root / f"watched{index}"
        folder.mkdir()
        for number in range(files):
            (folder / f"part-{number:05d}.csv").write_text("a\n1\n")
        lines += [f"  data{index}:", "    file: pipeline.py",
                  f'    new_data: {{files: "watched{index}/*.csv"}}']  # fmt: skip
    return "\n".join(lines) + "\n"


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(Path(__file__).resolve().parents[1]), env.get("PYTHONPATH")])
    )
    return env


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=environment(), capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr.decode()}")
    return elapsed


def firing(repeats: int) -> tuple[list[float], list[float]]:
    """Wall seconds of `schedule --once` firing one run, and of `shipyard run` alone."""
    scheduled, direct = [], []
    shipyard = [sys.executable, "-m", "shipyard"]
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            (root / "pipeline.py").write_text(PIPELINE)
            timed([*shipyard, "run", "pipeline.py"], root)  # the store exists in both
            (root / "triggers.yaml").write_text(ONE_TRIGGER)
            (root / "in").mkdir()
            (root / "in" / "a.csv").write_text("a\n1\n")
            scheduled.append(timed([*shipyard, "schedule", "triggers.yaml", "--once"], root))
            direct.append(timed([*shipyard, "run", "pipeline.py", "--no-cache"], root))
    return scheduled, direct


def steps(count: int) -> tuple[list[float], list[float]]:
    """Seconds per step with 110 triggers: evaluating all, and as a running scheduler."""
    from shipyard.scheduling.scheduler import Scheduler
    from shipyard.scheduling.store import open_scheduler_store
    from shipyard.scheduling.triggers_file import load_triggers

    class NoLauncher:
        def start(self, firing: object) -> object:
            raise AssertionError("nothing fires in this benchmark")

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "pipeline.py").write_text(PIPELINE)
        (root / "triggers.yaml").write_text(many_triggers(root))
        store = open_scheduler_store(f"sqlite:///{root / 'store.db'}")
        scheduler = Scheduler(load_triggers(root / "triggers.yaml"), store, launcher=NoLauncher())  # type: ignore[arg-type]
        scheduler.step()  # first look: cursors and listings recorded
        every, running = [], []
        for _ in range(count):
            started = time.perf_counter()
            scheduler.step(evaluate_all=True)
            every.append(time.perf_counter() - started)
            started = time.perf_counter()
            scheduler.step()
            running.append(time.perf_counter() - started)
        scheduler.close(wait_s=0)
        store.close()
    return every, running


def idle_cpu(seconds: float) -> tuple[float, float]:
    """CPU seconds of a running `shipyard schedule` with 110 triggers: start-up, then per
    minute once idle."""
    ticks = os.sysconf("SC_CLK_TCK")

    def cpu(pid: int) -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "pipeline.py").write_text(PIPELINE)
        (root / "triggers.yaml").write_text(many_triggers(root))
        process = subprocess.Popen(
            [sys.executable, "-m", "shipyard", "schedule", "triggers.yaml"],
            cwd=root, env=environment(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            time.sleep(5.0)
            start = cpu(process.pid)
            time.sleep(seconds)
            idle = cpu(process.pid) - start
        finally:
            process.terminate()
            process.wait(timeout=60)
    return start, idle * 60 / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--idle-s", type=float, default=30.0)
    args = parser.parse_args()

    scheduled, direct = firing(args.repeats)
    median_s, median_d = statistics.median(scheduled), statistics.median(direct)
    print(f"firing, {args.repeats} runs interleaved (median wall s):")
    print(f"  shipyard schedule --once (fires, runs the pipeline)  {median_s:.3f}")
    print(f"  shipyard run (the floor: cron running it itself)    {median_d:.3f}")
    print(f"  scheduler overhead per firing                      {median_s - median_d:+.3f}")
    every, running = steps(max(args.repeats * 3, 20))
    print("a step, 100 cron + 10 new-data triggers of 1,000 files, nothing due (median ms):")
    print(f"  evaluating every trigger (--once)   {statistics.median(every) * 1000:.1f}")
    print(f"  a running scheduler's step          {statistics.median(running) * 1000:.1f}")
    start, per_minute = idle_cpu(args.idle_s)
    print(f"shipyard schedule with those triggers: start-up {start:.2f} CPU s, then "
          f"{per_minute:.2f} CPU s per minute idle")  # fmt: skip


if __name__ == "__main__":
    main()
