"""Shipyard's pipeline and statistics speed, side by side with the peers, in one run.

Cells (`--only` picks some), each sample a fresh process in a fresh temporary directory:

- `cold`: `shipyard run pipeline.py` of a copy of `examples/penguins` (no `.shipyard/`, no
  pushed model), against TFX 1.16's penguin tutorial pipeline (`peers/tfx_penguin/`:
  CsvExampleGen -> StatisticsGen -> SchemaGen -> ExampleValidator -> Trainer -> Evaluator ->
  Pusher, LocalDagRunner, SQLite metadata) on the same rows;
- `cached`: the same, run twice in one directory; the second run is timed;
- `stats`: `shipyard stats` of the 1M x 20 CSV of `benchmarks/statistics_speed.py` (generated into
  `benchmarks/.data/` once), against Polars `read_csv` + `describe()` (the floor) and TFDV's
  `generate_statistics_from_csv`;
- `help`: `shipyard --help`.

Within each repeat every cell runs Shipyard, then its peers, so both see the same load; the
table gives min / median / max wall time, the median CPU time (user + sys, which a shared
machine disturbs far less), Shipyard's ratio to each peer, the goal and PASS / FAIL (on the
wall medians), and the 1-minute load average before the first and after the last run.
TFX and TFDV run only with `--with-peers`, which builds their Python 3.10 venv first
(`peers/tfx_env.py`, once, in `benchmarks/.peers/`). Bytecode is compiled for both sides
before the clock starts, as an install does.

    python benchmarks/pipeline_speed.py [--repeats 3] [--with-peers] [--only cold,stats]
        [--json FILE]

Goals (issue 11): cold <= 2.5 s and >= 20x faster than TFX; cached <= 0.5 s; statistics
<= 1.3x Polars and >= 50x faster than TFDV; `shipyard --help` <= 0.2 s.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from peers.tfx_env import tfx_python
from peers.tfx_penguin.tutorial_data import write_tutorial_csv
from peers.timing import Goal, Row, RunFailed, format_table, run_timed

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

ROOT = Path(__file__).resolve().parents[1]
PENGUINS = ROOT / "examples" / "penguins"
TFX_PIPELINE = ROOT / "benchmarks" / "peers" / "tfx_penguin" / "pipeline.py"
TFDV_SCRIPT = ROOT / "benchmarks" / "peers" / "tfdv_stats.py"
CELLS = ("cold", "cached", "stats", "help")
STATS_ROWS = 1_000_000
POLARS_DESCRIBE = "import sys, polars as pl; pl.read_csv(sys.argv[1]).describe()"


@dataclass(frozen=True)
class Program:
    """One side of a cell.

    Attributes:
        name: Its name in the table.
        prepare: Makes its files in a fresh directory (untimed) and returns the command.
        ours: Whether it is Shipyard.
        peer: Whether it needs `--with-peers`.
        goal: The row's goal.
        cached: Run the command once untimed first, then time the second run.
    """

    name: str
    prepare: Callable[[Path], list[str]]
    ours: bool = False
    peer: bool = False
    goal: Goal | None = None
    cached: bool = False


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line; `--only` checked against the cells' names."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="samples per row (default 3)")
    parser.add_argument(
        "--with-peers",
        action="store_true",
        help="also run TFX 1.16 and TFDV (builds their Python 3.10 venv once)",
    )
    parser.add_argument(
        "--only", default=",".join(CELLS), help=f"comma-separated cells of {', '.join(CELLS)}"
    )
    parser.add_argument("--json", type=Path, help="write every sample and the machine here")
    parser.add_argument(
        "--timeout", type=float, default=900.0, help="seconds one process may take (900)"
    )
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be an int >= 1. Got {args.repeats} instead.")
    only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in only if name not in CELLS]
    if unknown or not only:
        parser.error(
            f"--only takes cells among {', '.join(CELLS)}, comma-separated. "
            f"Got {args.only!r} instead."
        )
    args.only = [name for name in CELLS if name in only]
    return args


def shipyard_command() -> str:
    """The `shipyard` script beside this interpreter, else the one on PATH."""
    beside = Path(sys.executable).parent / "shipyard"
    found = str(beside) if beside.is_file() else shutil.which("shipyard")
    if found is None:
        raise SystemExit(
            f"No `shipyard` command beside {sys.executable} or on PATH. "
            "Run this script with the project's venv (`make setup`)."
        )
    return found


def copy_penguins(work: Path) -> Path:
    """A copy of the penguins example without its pushed models or store."""
    target = work / "penguins"
    shutil.copytree(
        PENGUINS, target, ignore=shutil.ignore_patterns("models", ".shipyard", "__pycache__")
    )
    return target / "pipeline.py"


def tfx_files(work: Path, python: Path) -> list[str]:
    """The tutorial's CSV of the penguins rows in `work/data`, and TFX's command."""
    write_tutorial_csv(PENGUINS / "data" / "penguins.csv", work / "data" / "penguins.csv")
    return [str(python), str(TFX_PIPELINE), "--data", str(work / "data"), "--root", str(work)]


def stats_csv() -> Path:
    """The 1M x 20 CSV of `benchmarks/statistics_speed.py`, generated by its own code once."""
    # loaded by path: its module name would shadow the standard library's `statistics`
    spec = importlib.util.spec_from_file_location(
        "_statistics_bench", ROOT / "benchmarks" / "statistics_speed.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path: Path = module.DATA_DIR / f"statistics-{STATS_ROWS}.csv"
    if not path.exists():
        print(f"Generating {path} (once) ...", flush=True)
        module.generate(path, STATS_ROWS)
    return path


def pipeline_programs(shipyard: str, python: Path, *, cached: bool) -> list[Program]:
    """The penguins pipeline, cold or cached: Shipyard's example and TFX's tutorial."""
    return [
        Program(
            "shipyard",
            lambda w: [shipyard, "run", str(copy_penguins(w))],
            ours=True,
            goal=Goal("max_s", 0.5 if cached else 2.5),
            cached=cached,
        ),
        Program(
            "tfx 1.16",
            lambda w: tfx_files(w, python),
            peer=True,
            goal=None if cached else Goal("min_speedup", 20),
            cached=cached,
        ),
    ]


def cells(only: Sequence[str], *, with_peers: bool) -> dict[str, list[Program]]:
    """The programs of each selected cell, Shipyard first."""
    shipyard = shipyard_command()
    python = tfx_python() if with_peers and {"cold", "cached", "stats"} & set(only) else None
    tfx_python_path = python or Path("python3.10")
    data = stats_csv() if "stats" in only else Path()
    tfdv_out = "statistics.tfrecord"
    table: dict[str, list[Program]] = {
        "cold": pipeline_programs(shipyard, tfx_python_path, cached=False),
        "cached": pipeline_programs(shipyard, tfx_python_path, cached=True),
        "stats": [
            Program("shipyard", lambda w: [shipyard, "stats", str(data)], ours=True),
            Program(
                "polars",
                lambda w: [sys.executable, "-c", POLARS_DESCRIBE, str(data)],
                goal=Goal("max_slowdown", 1.3),
            ),
            Program(
                "tfdv 1.16",
                lambda w: [str(tfx_python_path), str(TFDV_SCRIPT), str(data), str(w / tfdv_out)],
                peer=True,
                goal=Goal("min_speedup", 50),
            ),
        ],
        "help": [
            Program("shipyard", lambda w: [shipyard, "--help"], ours=True, goal=Goal("max_s", 0.2))
        ],
    }
    return {name: table[name] for name in only}


def compile_shipyard() -> None:
    """Compile the imported Shipyard's bytecode, as `pip install` does (untimed)."""
    spec = importlib.util.find_spec("shipyard")
    if spec is not None and spec.origin is not None:
        compileall.compile_dir(Path(spec.origin).parent, quiet=1)


def sample(program: Program, row: Row, *, timeout_s: float) -> None:
    """Time one run of `program` in a fresh temporary directory and add it to `row`.

    A failed run is added to `row.failures` instead, and its directory is kept (the message
    names it), so that the other cells still run.
    """
    work = Path(tempfile.mkdtemp(prefix=f"shipyard-speed-{row.cell}-"))
    try:
        command = program.prepare(work)
        if program.cached:
            run_timed(command, cwd=work, log=work / "first-run.log", timeout_s=timeout_s)
        measured = run_timed(command, cwd=work, log=work / "run.log", timeout_s=timeout_s)
        if row.ours and row.cell in {"cold", "cached"}:
            models = work / "penguins" / "models"
            if not sorted(models.glob("penguins/*/model.onnx")):
                raise RunFailed(
                    f"shipyard run pushed no model under {models}: the run did not do the "
                    f"whole pipeline. Its output: {work / 'run.log'}"
                )
    except RunFailed as failure:
        row.failures.append(str(failure))
        print(f"FAILED (directory kept): {failure}", file=sys.stderr, flush=True)
        return
    row.samples.append(measured)
    shutil.rmtree(work, ignore_errors=True)


def measure(args: argparse.Namespace) -> list[Row]:
    """Every selected cell, `args.repeats` times, Shipyard and its peers interleaved."""
    compile_shipyard()
    programs = cells(args.only, with_peers=args.with_peers)
    rows = {
        (cell, program.name): Row(cell, program.name, program.ours, program.goal)
        for cell, members in programs.items()
        for program in members
    }
    for row in rows.values():
        if not args.with_peers and any(p.peer for p in programs[row.cell] if p.name == row.program):
            row.skipped = "not run: --with-peers"
    for repeat in range(1, args.repeats + 1):
        for cell, members in programs.items():
            for program in members:
                row = rows[cell, program.name]
                if row.skipped:
                    continue
                print(f"[{repeat}/{args.repeats}] {cell}: {program.name} ...", flush=True)
                sample(program, row, timeout_s=args.timeout)
    return list(rows.values())


def machine() -> dict[str, object]:
    """What the figures were measured on."""
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [line for line in cpuinfo.read_text().splitlines() if line.startswith("model name")]
        model = names[0].split(":", 1)[1].strip() if names else ""
    return {
        "cpu": model or platform.processor(),
        "cpus": os.cpu_count(),
        "system": platform.platform(),
        "python": platform.python_version(),
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Measure, print the table, and write the JSON when asked."""
    args = parse_args(argv)
    about = machine()
    print(f"machine: {about['cpu']}, {about['cpus']} CPUs; load {os.getloadavg()[0]:.2f}")
    rows = measure(args)
    print(f"\n{args.repeats} repeat(s), each run a fresh process in a fresh directory:")
    print(format_table(rows))
    if args.json:
        document = {
            "machine": about,
            "command": " ".join(sys.argv),
            "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "rows": [asdict(row) for row in rows],
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(document, indent=2) + "\n")
        print(f"samples written to {args.json}")
    failures = sum(len(row.failures) for row in rows)
    if failures:
        raise SystemExit(f"{failures} run(s) failed; their messages are above.")


if __name__ == "__main__":
    main()
