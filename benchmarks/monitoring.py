"""`shipyard monitor` end to end, beside the floor, with its detection quality (issue 13).

The data (generated once into `benchmarks/.data/monitoring/`, git-ignored), all Parquet:

- `reference.parquet`: 500,000 rows x 20 columns: 16 numeric (normal, log-normal,
  exponential, uniform, Poisson counts, a column with 30% zeros, one with 5% missing, ...)
  and 4 categorical (4 to 40 values);
- `current/`: 500,000 rows of the same distributions with a timestamp in one day, where
  3 numeric columns are shifted by +0.5 standard deviation (`n00` normal, `n05` log-normal,
  `n10` Poisson counts) and one categorical column's distribution changed (`c0`: the
  shares 40/30/20/10% become 25/30/20/25%, an L-infinity distance of 0.15);
- `hourly/`: 24 files of 50,000 rows, one per hour, hours 12-23 shifted as above.

Measured, each in a fresh process, the median of `--repeats` runs (wall time, CPU time and
the peak resident memory from `wait4`; on a shared machine CPU times vary less):

(a) the floor: Polars reading both halves and computing every column's histogram (numeric:
    20 equal-width bins; categorical: value counts);
(b) `shipyard monitor current/ --reference reference.parquet --window 1d --json`, end to
    end: a new monitor (`--name`) in an existing store, so the reference is computed in
    the run;
(c) `shipyard monitor hourly/ --reference reference.parquet --window 1h`: the 24 windows in
    one command, the reference computed in it; and (c') 23 of them read by a second run of
    a monitor whose first run (one file) recorded the reference; and (c'') the same 24 hours
    in windows of 1 hour sliding every 15 minutes (`--slide 15m`, 99 windows, each row in
    4 of them, counted once in its 15-minute pane);
(d) `shipyard validate current.parquet --baseline reference.parquet` with a schema whose
    only checks are the defaults, for its drift anomalies.

Then the confusion tables: shifted/unshifted x flagged/not, for (b), (c) (per window and
column) and (d), and on real data with a known shift: the Chicago taxi trips of
`examples/taxi` (span 2 against span 1: distance x1.6, a new company in 10% of the rows,
`local` missing in 20%; tip, dow, month and hour unchanged), without and with its schema.

With `--with-peers`, the drift peers run side by side in the same rounds, each a fresh
process in a venv of its own built once under `benchmarks/.peers/` (`peers/drift_peers.py`):
Evidently 0.7.23, whylogs 1.6.4 and NannyML 0.13.1, each with its default per-column tests
on the same files: (b) end to end (imports, reading both halves, the check, the report it
writes by default), and the hourly case per window over 3 of the 24 windows (hours 00, 12
and 23, one process; the reference read once). A peer that cannot be installed or run is
reported with the reason, and the others still run.

    python benchmarks/monitoring.py [--repeats 5] [--compare OTHER_CHECKOUT] [--with-peers]

`MONITORING_BENCH_ROWS=20000` generates and uses a smaller data set (its own directory;
hourly windows of a tenth of it), to try the benchmark out quickly.

Goals (issue 13): (b) at most 2x (a) and under 1 GB, and at least 20x faster than Evidently;
(c) under 2 s; every shifted column flagged and no other one. Without `--with-peers` the
peers' figures quoted are those the issue measured on this machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from peers.drift_peers import (
    DRIFT_PEERS,
    PYTHONPATH,
    DriftPeer,
    peer_command,
    peer_python,
    peer_result,
)

ROOT = Path(__file__).resolve().parents[1]
ROWS = int(os.environ.get("MONITORING_BENCH_ROWS", "500000"))
HOURLY_ROWS = ROWS // 10
DATA = ROOT / "benchmarks" / ".data" / ("monitoring" if ROWS == 500_000 else f"monitoring-{ROWS}")
TAXI = ROOT / "examples" / "taxi"
PEER_HOURS = (0, 12, 23)
"""The hourly windows each peer checks (Evidently takes about 14 s a window)."""
DAY_US = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z
HOUR_US = 3_600_000_000
SHIFTED = {"n00", "n05", "n10", "c0"}
COLORS = ["a", "b", "c", "d"]

_FLOOR = """
import sys, polars as pl
for path in sys.argv[1:]:
    frame = pl.read_parquet(path)
    for name, dtype in frame.schema.items():
        if dtype.is_numeric():
            frame[name].drop_nulls().hist(bin_count=20)
        elif dtype == pl.String:
            frame[name].value_counts()
"""


def columns(rows: int, seed: int, *, shifted: bool) -> dict[str, Any]:
    """The 20 columns; `shifted` moves n00, n05, n10 by +0.5 sd and changes c0."""
    import numpy as np

    rng = np.random.default_rng(seed)
    half = 0.5 if shifted else 0.0
    lognormal_sd = float(np.sqrt((np.e - 1) * np.e))  # of exp(N(0, 1))
    data: dict[str, Any] = {
        "n00": rng.normal(0, 1, rows) + half,
        "n01": rng.normal(100, 15, rows),
        "n02": rng.exponential(3, rows),
        "n03": rng.uniform(-1, 1, rows),
        "n04": rng.gamma(2, 2, rows),
        "n05": rng.lognormal(0, 1, rows) + half * lognormal_sd,
        "n06": rng.standard_t(5, rows),
        "n07": rng.poisson(2, rows).astype(np.int64),
        "n08": np.where(rng.random(rows) < 0.3, 0.0, rng.exponential(1, rows)),
        "n09": rng.normal(0, 1, rows),
        "n10": (rng.poisson(10, rows) + (half * np.sqrt(10))).astype(np.float64),
        "n11": rng.beta(2, 5, rows),
        "n12": rng.normal(5, 2, rows),
        "n13": rng.weibull(1.5, rows),
        "n14": rng.integers(0, 1000, rows).astype(np.int64),
        "n15": rng.normal(0, 1, rows),
    }
    data["n15"][rng.random(rows) < 0.05] = np.nan
    shares = [0.25, 0.3, 0.2, 0.25] if shifted else [0.4, 0.3, 0.2, 0.1]
    data["c0"] = rng.choice(COLORS, rows, p=shares)
    data["c1"] = rng.choice([f"city{i}" for i in range(40)], rows)
    data["c2"] = rng.choice(["yes", "no"], rows, p=[0.7, 0.3])
    data["c3"] = rng.choice(["x", "y", "z", "w", "v", "u"], rows)
    return data


def generate() -> None:
    """Write the data once."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    if (DATA / "done").exists():
        return
    shutil.rmtree(DATA, ignore_errors=True)
    (DATA / "current").mkdir(parents=True)
    (DATA / "hourly").mkdir()
    pq.write_table(pa.table(columns(ROWS, 1, shifted=False)), DATA / "reference.parquet")
    current = columns(ROWS, 2, shifted=True)
    rng = np.random.default_rng(3)
    stamps = np.sort(DAY_US + rng.integers(0, 24 * HOUR_US, ROWS))
    table = pa.table(current).append_column(
        "timestamp", pa.array(stamps, pa.timestamp("us", tz="UTC"))
    )
    pq.write_table(table.drop_columns(["timestamp"]), DATA / "current.parquet")
    pq.write_table(table, DATA / "current" / "part-0.parquet", row_group_size=131_072)
    for hour in range(24):
        part = pa.table(columns(HOURLY_ROWS, 100 + hour, shifted=hour >= 12))
        stamps = np.sort(DAY_US + hour * HOUR_US + rng.integers(0, HOUR_US, HOURLY_ROWS))
        part = part.append_column("timestamp", pa.array(stamps, pa.timestamp("us", tz="UTC")))
        pq.write_table(part, DATA / "hourly" / f"hour-{hour:02d}.parquet")
    (DATA / "done").write_text("")


def write_schema() -> Path:
    """A schema whose only checks are the default drift comparators, for `validate`."""
    types = {f"n{i:02d}": "int" if i in (7, 14) else "float" for i in range(16)}
    types |= {f"c{i}": "string" for i in range(4)}
    lines = ["drift: {threshold: 0.1}", "features:"]
    lines += [f"  {name}: {{type: {kind}, presence: optional}}" for name, kind in types.items()]
    path = DATA / "schema.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def timed(
    command: list[str],
    cwd: Path,
    tree: Path = ROOT,
    *,
    env: dict[str, str] | None = None,
    codes: tuple[int, ...] = (0, 1),
) -> tuple[float, float, float, str]:
    """Run a command with `tree` first on the path and `env` added; return its wall seconds,
    peak RSS in MB, CPU seconds and stdout. An exit code not in `codes` raises SystemExit."""
    env = {**os.environ, **(env or {}), "PYTHONPATH": str(tree)}
    env = {k: v for k, v in env.items() if not k.startswith("SHIPYARD_")}
    # Both streams go to files: a pipe that fills (a peer's warnings) would block the child.
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        errors = err.read().decode(errors="replace")
        out.seek(0)
        text = out.read().decode()
    if child.returncode not in codes:
        raise SystemExit(f"{command} failed ({child.returncode}):\n{errors}")
    return wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, text


def monitor(target: str, *extra: str, store: Path) -> list[str]:
    return [
        sys.executable, "-m", "shipyard", "monitor", target, "--json",
        "--store", f"sqlite:///{store}", *extra,
    ]  # fmt: skip


def flagged(report: dict[str, Any]) -> list[set[str]]:
    """The columns each window flagged (any finding but the dataset verdict)."""
    return [
        {f["column"] for f in window["findings"] if f["kind"] != "dataset_drift"}
        for window in report["windows"]
    ]


def confusion(cases: list[tuple[set[str], set[str], set[str]]]) -> str:
    """cases: (every column, the shifted ones, the flagged ones)."""
    tp = fn = fp = tn = 0
    for every, shifted, found in cases:
        tp += len(shifted & found)
        fn += len(shifted - found)
        fp += len(found - shifted)
        tn += len(every - shifted - found)
    return (
        f"    {'':10} {'flagged':>8} {'not':>6}\n"
        f"    {'shifted':10} {tp:8} {fn:6}\n    {'unshifted':10} {fp:8} {tn:6}"
    )


def median(values: list[float]) -> float:
    return statistics.median(values)


Timed = tuple[float, float, float, str]


@dataclass
class PeerRuns:
    """One drift peer's runs: (b) end to end and the hourly windows, or why it did not run."""

    peer: DriftPeer
    python: Path | None = None
    failed: str = ""
    ends: list[Timed] = field(default_factory=list)
    hourly: list[Timed] = field(default_factory=list)

    def run(self, work: Path, index: int) -> None:
        """One round: (b) on the same files as Shipyard, then `PEER_HOURS` in one process."""
        if self.python is None or self.failed:
            return
        hours = [DATA / "hourly" / f"hour-{hour:02d}.parquet" for hour in PEER_HOURS]
        reference = DATA / "reference.parquet"
        for runs, current in ((self.ends, [DATA / "current.parquet"]), (self.hourly, hours)):
            out = work / f"{self.peer.key}-{len(runs)}-{index}"
            command = peer_command(self.python, self.peer, reference, current, out)
            try:
                runs.append(timed(command, work, PYTHONPATH, env=self.peer.env, codes=(0,)))
            except SystemExit as error:
                self.failed = f"failed in round {index + 1}: {str(error)[-1500:]}"
                return
            shutil.rmtree(out, ignore_errors=True)


def peer_runs(with_peers: bool) -> list[PeerRuns]:
    """The peers' venvs, built once; a peer that cannot be installed says why."""
    runs = []
    for peer in DRIFT_PEERS if with_peers else ():
        python = peer_python(peer)
        if isinstance(python, str):
            print(f"{peer.name}: not run: {python}", file=sys.stderr)
            runs.append(PeerRuns(peer, failed=f"not run: {python}"))
        else:
            runs.append(PeerRuns(peer, python))
    return runs


def print_peers(
    peers: list[PeerRuns],
    floor: list[Timed],
    ours: list[Timed],
    hourly: list[Timed],
    found: set[str],
    every: set[str],
) -> None:
    """Shipyard, the floor and the peers side by side, with their confusion tables."""
    ours_s = median([r[0] for r in ours])
    print(f"\nSide by side, (b) end to end, each a fresh process, median of {len(ours)}:")
    print(f"  {'':18} {'wall s':>7} {'CPU s':>7} {'peak MB':>8} {'x shipyard':>10}  "
          "shifted found  false alarms  report")  # fmt: skip

    def line(name: str, runs: list[Timed], flags: set[str] | None, report: str) -> None:
        wall, cpu = median([r[0] for r in runs]), median([r[2] for r in runs])
        rss = median([r[1] for r in runs])
        hits = f"{len(flags & SHIFTED)}/{len(SHIFTED)}" if flags is not None else ""
        alarms = f"{len(flags - SHIFTED)}/{len(every - SHIFTED)}" if flags is not None else ""
        print(f"  {name:18} {wall:7.2f} {cpu:7.2f} {rss:8.0f} {wall / ours_s:10.2f}  "
              f"{hits:>13}  {alarms:>12}  {report}")  # fmt: skip

    line("floor (Polars)", floor, None, "")
    line("shipyard monitor", ours, found, "JSON on stdout")
    for runs in peers:
        if runs.ends:
            result = peer_result(runs.ends[-1][3])
            window = result["windows"][0]
            megabytes = sum(window["reports"].values()) / 1e6
            report = f"{runs.peer.report}: {megabytes:.1f} MB in {window['report_wall_s']:.1f} s"
            line(result["version"], runs.ends, set(window["flagged"]), report)
        if runs.failed:
            print(f"  {runs.peer.name}: {runs.failed}")
    floor_s, floor_cpu = median([r[0] for r in floor]), median([r[2] for r in floor])
    ours_cpu = median([r[2] for r in ours])
    print(f"  shipyard monitor vs the floor: {ours_s / floor_s:.2f}x wall, "
          f"{ours_cpu / floor_cpu:.2f}x CPU (goal <= 2x)")  # fmt: skip
    evidently = [r for r in peers if r.peer.key == "evidently" and r.ends]
    if evidently:
        ratio = median([r[0] for r in evidently[0].ends]) / ours_s
        cpu = median([r[2] for r in evidently[0].ends]) / ours_cpu
        print(f"  Evidently vs shipyard monitor: {ratio:.1f}x wall, {cpu:.1f}x CPU (goal >= 20x)")
    total = median([r[0] for r in hourly])
    hours = ", ".join(f"{hour:02d}" for hour in PEER_HOURS)
    print(f"\nHourly windows of {HOURLY_ROWS:,} rows against the reference, wall s a window:")
    print(f"  shipyard monitor, 24 windows in one command, the reference computed in it: "
          f"{total:.2f} s in all, {total / 24:.3f} s a window")  # fmt: skip
    for runs in peers:
        if not runs.hourly:
            continue
        windows = [w for r in runs.hourly for w in peer_result(r[3])["windows"]]
        wall = median([w["wall_s"] for w in windows])
        writing = median([w["report_wall_s"] for w in windows])
        print(f"  {runs.peer.name}: {wall:.3f} s a window ({writing:.3f} s of it writing the "
              f"report), {wall / (total / 24):.0f}x shipyard's; median of {len(windows)}: "
              f"hours {hours} in one process, {len(runs.hourly)} run(s)")  # fmt: skip
        last = peer_result(runs.hourly[-1][3])["windows"]
        cases = [
            (every, SHIFTED if hour >= 12 else set(), set(window["flagged"]))
            for hour, window in zip(PEER_HOURS, last, strict=True)
        ]
        print(f"  {runs.peer.name}, {len(last)} windows x 20 columns:\n{confusion(cases)}")
    for runs in peers:
        if runs.ends:
            flags = set(peer_result(runs.ends[-1][3])["windows"][0]["flagged"])
            print(f"\n(b) {runs.peer.name} flagged: {', '.join(sorted(flags))}")
            print(confusion([(every, SHIFTED, flags)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="TREE",
        help="another checkout (e.g. a worktree of main): its (b) runs in the same rounds",
    )
    parser.add_argument(
        "--with-peers",
        action="store_true",
        help="build the drift peers' venvs (once) and run them in the same rounds",
    )
    args = parser.parse_args()
    repeats, other = args.repeats, args.compare
    peers = peer_runs(args.with_peers)
    # Shipyard's bytecode, as an installed wheel has it (the floor's Polars has its own): a
    # source checkout run with PYTHONDONTWRITEBYTECODE set compiles every module at each start.
    for tree in (ROOT, *([other] if other else [])):
        compiling = [sys.executable, "-m", "compileall", "-q", str(tree / "shipyard")]
        subprocess.run(compiling, check=True)
    generate()
    schema = write_schema()
    work = Path(tempfile.mkdtemp(prefix="monitoring-bench-"))
    reference = str(DATA / "reference.parquet")
    floor, ours, hourly, rerun, sliding, others = [], [], [], [], [], []
    report: dict[str, Any] = {}
    hourly_report: dict[str, Any] = {}
    store = work / "store.db"  # one store, as a monitoring host has; a new monitor each run
    warm = ["--reference", reference, "--window", "1d", "--name", "warm-up"]
    timed(monitor(str(DATA / "current"), *warm, store=store), work)
    if other:  # its own store: the trees' store schemas may differ
        timed(monitor(str(DATA / "current"), *warm, store=work / "other.db"), work, other)
    for index in range(repeats):
        both = [reference, str(DATA / "current.parquet")]
        floor.append(timed([sys.executable, "-c", _FLOOR, *both], work))
        extra = ["--reference", reference, "--window", "1d", "--name", f"b{index}"]
        run = timed(monitor(str(DATA / "current"), *extra, store=store), work)
        ours.append(run)
        report = json.loads(run[3])
        if other:  # the other checkout's (b), in the same round
            extra = ["--reference", reference, "--window", "1d", "--name", f"b{index}"]
            command = monitor(str(DATA / "current"), *extra, store=work / "other.db")
            others.append(timed(command, work, other))
        extra = ["--reference", reference, "--name", f"c{index}"]
        run = timed(monitor(str(DATA / "hourly"), *extra, store=store), work)
        hourly.append(run)
        hourly_report = json.loads(run[3])
        extra = ["--reference", reference, "--slide", "15m", "--name", f"s{index}"]
        sliding.append(timed(monitor(str(DATA / "hourly"), *extra, store=store), work))
        later = work / f"later{index}"
        later.mkdir()
        shutil.copy(DATA / "hourly" / "hour-00.parquet", later)
        extra = ["--name", f"d{index}"]
        timed(monitor(str(later), "--reference", reference, *extra, store=store), work)
        for hour in range(1, 24):
            shutil.copy(DATA / "hourly" / f"hour-{hour:02d}.parquet", later)
        rerun.append(timed(monitor(str(later), *extra, store=store), work))
        for runs in peers:
            runs.run(work, index)
    validate = timed(
        [sys.executable, "-m", "shipyard", "validate", str(DATA / "current.parquet"),
         "--schema", str(schema), "--baseline", reference, "--json"],
        work,
    )  # fmt: skip
    shutil.rmtree(work, ignore_errors=True)

    every = {f"n{i:02d}" for i in range(16)} | {f"c{i}" for i in range(4)}
    base_s, base_mb = median([r[0] for r in floor]), median([r[1] for r in floor])
    ours_s, ours_mb = median([r[0] for r in ours]), median([r[1] for r in ours])
    base_cpu, ours_cpu = median([r[2] for r in floor]), median([r[2] for r in ours])
    print(f"{ROWS:,} reference vs {ROWS:,} current rows x 20 columns, median of {repeats}:")
    print(f"  (a) floor, Polars read + histograms: {base_s:6.2f} s {base_mb:6.0f} MB")
    print(f"  (b) shipyard monitor, end to end:     {ours_s:6.2f} s {ours_mb:6.0f} MB", end="")
    print(f"  ({ours_s / base_s:.2f}x the floor)")
    print(f"      CPU time: floor {base_cpu:.2f} s, shipyard monitor {ours_cpu:.2f} s "
          f"({ours_cpu / base_cpu:.2f}x)")  # fmt: skip
    if others:
        then_s, then_cpu = median([r[0] for r in others]), median([r[2] for r in others])
        print(f"      --compare {other}, same rounds: {then_s:.2f} s "
              f"({then_s / base_s:.2f}x the floor), CPU {then_cpu:.2f} s "
              f"({then_cpu / base_cpu:.2f}x)")  # fmt: skip
    if not peers:
        print("      measured by the issue, not here: Evidently 0.7.23 41.4 s 1.41 GB; whylogs")
        print("      1.6.4 22.1 s 594 MB; NannyML 0.13.1 28.5 s (run with --with-peers)")
    print(f"  (c) 24 hourly windows of {HOURLY_ROWS:,} rows in one command, the reference in it:")
    print(f"      {median([r[0] for r in hourly]):.2f} s, {median([r[1] for r in hourly]):.0f} MB")
    print("  (c') 23 of them in one command, the reference recorded by an earlier run:")
    print(f"      {median([r[0] for r in rerun]):.2f} s, {median([r[1] for r in rerun]):.0f} MB")
    slid = json.loads(sliding[-1][3])["windows"]
    print(f"  (c'') the 24 hours in {len(slid)} windows of 1 hour sliding every 15 minutes:")
    slide_s, slide_mb = median([r[0] for r in sliding]), median([r[1] for r in sliding])
    print(f"      {slide_s:.2f} s, {slide_mb:.0f} MB")
    if not peers:
        print("      measured by the issue, not here: Evidently 14.2 s per window, whylogs 1.02 s,")
        print("      NannyML 0.23 s, the Polars floor 0.019 s")
    found = flagged(report)[0]
    print("\n(b) flagged:", ", ".join(sorted(found)))
    print(confusion([(every, SHIFTED, found)]))
    windows = hourly_report["windows"]
    cases = []
    for window in windows:
        hour = int(window["start"][11:13])
        cases.append((every, SHIFTED if hour >= 12 else set(), flagged({"windows": [window]})[0]))
    print(f"\n(c) {len(windows)} windows x 20 columns:")
    print(confusion(cases))
    drift = {a["feature"] for a in json.loads(validate[3]) if a["kind"] == "drift"}
    print(f"\n(d) shipyard validate --baseline, drift found in: {', '.join(sorted(drift))}")
    print(confusion([(every, SHIFTED, drift)]))
    if peers:
        print_peers(peers, floor, ours, hourly, found, every)
    taxi()


def taxi() -> None:
    """Span 2 of the taxi trips against span 1, without and with the example's schema."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from shipyard.components.ingest import load_dataset

    work = Path(tempfile.mkdtemp(prefix="monitoring-taxi-"))
    for span in (1, 2):
        table = load_dataset(TAXI / "data" / f"span-{span}" / "taxi.csv")
        stamps = pa.array(np.full(table.num_rows, DAY_US), pa.timestamp("us", tz="UTC"))
        pq.write_table(table.append_column("timestamp", stamps), work / f"span-{span}.parquet")
    every = {"distance", "company", "local", "dow", "month", "hour", "tip"}
    changed = {"distance", "company", "local"}
    for label, extra in (
        ("without a schema", []),
        ("with examples/taxi/schema.yaml", ["--schema", str(TAXI / "schema.yaml")]),
    ):
        _, _, _, out = timed(
            monitor(str(work / "span-2.parquet"), "--reference", str(work / "span-1.parquet"),
                    "--min-rows", "100", *extra, store=work / f"{len(extra)}.db"),
            work,
        )  # fmt: skip
        found = flagged(json.loads(out))[0]
        columns = every - ({"tip"} if extra else set())  # the schema: tip is not served
        print(f"\nTaxi span 2 vs span 1, {label}: flagged {', '.join(sorted(found))}")
        print(confusion([(columns, changed, found)]))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
