"""The cold tutorial pipeline: `shipyard run examples/penguins/pipeline.py` from nothing.

Each run copies `examples/penguins` to a fresh temporary directory (no `.shipyard/`, no
pushed model) and runs `shipyard run pipeline.py --json` there in a new interpreter, so it
pays for everything a first run pays for: start-up, imports, the eight nodes, the exports,
the reports and the interpreter's exit. It records the wall time, the CPU time of the child
(user + sys, which a busy shared machine inflates far less than the wall time) and each
node's time from the run's JSON; the figures are medians over the repeats.

Several code trees can be compared in one call (`--tree`, a PYTHONPATH each, e.g. a worktree
of main and a branch): their runs are interleaved, so the machine's load falls on each alike.

    python benchmarks/cold_run.py [--repeats 5] [--tree PYTHONPATH ...] [--json]

The goal (issue 11): at most 2.5 s wall on an idle 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "penguins"
GOAL_S = 2.5


def run_once(pythonpath: str) -> dict[str, Any]:
    """One cold run with `pythonpath` first on the path: wall and CPU seconds, node times."""
    with tempfile.TemporaryDirectory(prefix="shipyard-cold-") as directory:
        work = Path(directory) / "penguins"
        shutil.copytree(EXAMPLE, work, ignore=shutil.ignore_patterns(".shipyard", "models"))
        # The project's home is the copy's own `.shipyard/`: without SHIPYARD_HOME the run
        # would use a `.shipyard/` left above the temporary directory (e.g. /tmp/.shipyard)
        # and reuse its cache.
        env = {**os.environ, "PYTHONPATH": pythonpath, "SHIPYARD_HOME": str(work / ".shipyard")}
        for variable in ("SHIPYARD_STORE", "SHIPYARD_ARTIFACT_ROOT"):
            env.pop(variable, None)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "shipyard", "run", "pipeline.py", "--json"],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        wall_s = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"the run with PYTHONPATH={pythonpath} failed:\n{done.stderr[-3000:]}")
    run = json.loads(done.stdout)
    reused = sorted(name for name, node in run["nodes"].items() if node["state"] != "complete")
    if reused:
        raise SystemExit(f"the run with PYTHONPATH={pythonpath} reused {reused}: not cold")
    return {
        "wall_s": wall_s,
        "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "run_s": float(run["duration_s"]),
        "nodes": {name: float(node["duration_s"]) for name, node in run["nodes"].items()},
    }


def _median(values: Any) -> float:
    """The median of `values`."""
    return float(statistics.median(values))


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians of the runs' wall, CPU, run and node times."""
    nodes = runs[0]["nodes"]
    return {
        "repeats": len(runs),
        "wall_s": _median(r["wall_s"] for r in runs),
        "cpu_s": _median(r["cpu_s"] for r in runs),
        "run_s": _median(r["run_s"] for r in runs),
        "nodes": {n: _median(r["nodes"][n] for r in runs) for n in nodes},
    }


def main() -> None:
    """Run the benchmark and print a table (or JSON) of the medians per tree."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--tree",
        action="append",
        help="a PYTHONPATH to run with (repeatable; default: this checkout)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()
    trees = args.tree or [str(EXAMPLE.parents[1])]
    runs: dict[str, list[dict[str, Any]]] = {tree: [] for tree in trees}
    for _ in range(args.repeats):
        for tree in trees:  # interleaved: the machine's load falls on every tree alike
            runs[tree].append(run_once(tree))
    results = {tree: summarize(r) for tree, r in runs.items()}
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for tree, result in results.items():
        print(f"{tree}  (median of {result['repeats']})")
        print(f"  wall {result['wall_s']:.2f} s (goal {GOAL_S} s)  cpu {result['cpu_s']:.2f} s")
        print(
            f"  run {result['run_s']:.2f} s: "
            + ", ".join(f"{name} {seconds:.2f}" for name, seconds in result["nodes"].items())
        )


if __name__ == "__main__":
    main()
