"""The cached rerun and the start-up: `shipyard run` with every node cached, `--help`, `--version`.

For each code tree (`--tree`, a PYTHONPATH each, e.g. a worktree of main and a branch) the
penguins example is copied to its own temporary project and run once (not timed); then, in
rounds that interleave the trees so that a busy machine's load falls on each alike, every
command runs in a new interpreter: `shipyard run pipeline.py` (all eight nodes cached),
`shipyard --help` and `shipyard --version`. The floors run in the same rounds: the
interpreter alone, `import sqlalchemy` (the metadata store's library) and `import typer`
(the command line's; the pinned Typer < 0.29 coerces options without Pydantic). Bytecode is
cached (in a temporary `PYTHONPYCACHEPREFIX`) as on a user's machine, whatever
`PYTHONDONTWRITEBYTECODE` says.

Each figure is the median wall time and the median CPU time (user + sys of the child,
which a shared machine inflates far less than the wall time).

    python benchmarks/warm_run.py [--repeats 7] [--tree PYTHONPATH ...] [--json]

The goals (issue 11): a cached rerun in at most 0.5 s wall, `--help` in at most 0.2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "penguins"
GOALS_S = {"cached rerun": 0.5, "--help": 0.2, "--version": 0.2}
COMMANDS = {
    "cached rerun": ["-m", "shipyard", "run", "pipeline.py"],
    "--help": ["-m", "shipyard", "--help"],
    "--version": ["-m", "shipyard", "--version"],
}
FLOORS = {
    "python -c pass": ["-c", "pass"],
    "import sqlalchemy": ["-c", "import sqlalchemy"],
    "import typer": ["-c", "import typer"],
}


def timed(arguments: list[str], *, cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Run `python ARGUMENTS` and return its wall and CPU seconds; exit if it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *arguments], cwd=cwd, env=env, capture_output=True, check=False
    )
    wall_s = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{arguments} in {cwd} failed:\n{done.stderr.decode()[-3000:]}")
    return wall_s, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _middle(values: list[float]) -> float:
    ordered = sorted(values)
    half = len(ordered) // 2
    return ordered[half] if len(ordered) % 2 else (ordered[half - 1] + ordered[half]) / 2


def measure(trees: list[str], repeats: int, scratch: Path) -> dict[str, dict[str, Any]]:
    """Return {tree or "floors": {command: {"wall_s", "cpu_s", "repeats"}}}, medians."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    base.pop("PYTHONDONTWRITEBYTECODE", None)
    base["PYTHONPYCACHEPREFIX"] = str(scratch / "bytecode")
    projects: dict[str, tuple[Path, dict[str, str]]] = {}
    for index, tree in enumerate(trees):
        folder = scratch / f"tree-{index}" / "penguins"
        shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns(".shipyard", "models"))
        env = {**base, "PYTHONPATH": tree}
        timed(COMMANDS["cached rerun"], cwd=folder, env=env)  # the first run: not timed
        projects[tree] = folder, env
    samples: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for _ in range(repeats):
        for tree, (folder, env) in projects.items():
            for name, arguments in COMMANDS.items():
                samples.setdefault(tree, {}).setdefault(name, []).append(
                    timed(arguments, cwd=folder, env=env)
                )
        for name, arguments in FLOORS.items():
            samples.setdefault("floors", {}).setdefault(name, []).append(
                timed(arguments, cwd=scratch, env=base)
            )
    return {
        tree: {
            name: {
                "repeats": len(pairs),
                "wall_s": _middle([wall for wall, _ in pairs]),
                "cpu_s": _middle([cpu for _, cpu in pairs]),
            }
            for name, pairs in commands.items()
        }
        for tree, commands in samples.items()
    }


def main() -> None:
    """Run the benchmark and print a table (or JSON) of the medians per tree."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--tree", action="append", help="a PYTHONPATH to run with (repeatable; default: here)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shipyard-warm-") as directory:
        results = measure(args.tree or [str(EXAMPLE.parents[1])], args.repeats, Path(directory))
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for tree, commands in results.items():
        print(tree)
        for name, figures in commands.items():
            goal = f"  (goal {GOALS_S[name]} s)" if name in GOALS_S else ""
            print(
                f"  {name:24} wall {figures['wall_s']:.2f} s  cpu {figures['cpu_s']:.2f} s"
                f"  median of {figures['repeats']}{goal}"
            )


if __name__ == "__main__":
    main()
