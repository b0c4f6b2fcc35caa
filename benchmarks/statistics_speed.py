"""Statistics of a 1,000,000-row x 20-column CSV, against Polars alone reading the file.

The data: 10 float columns (normal), 5 int columns, 5 string columns of about 50 distinct
values each, every column with a few percent missing. It is generated once, with Polars,
and cached in `benchmarks/.data/` (git-ignored).

Times, as the median of `--repeats` runs, each in a fresh process (libraries imported
before the clock starts):

(a) `polars.read_csv` of the file: the floor; and (a') `polars.read_csv` + `describe()`, the
    floor of reading the file and summarizing it (issue 11: `shipyard stats` at most 1.3x it);
(b) ingest: `load_dataset` of the file into an Arrow table, what `shipyard stats` does first;
(c) statistics: `compute_dataset_statistics` of that table (the data already in memory),
    and (c') the whole of `shipyard stats`: load the file and compute its statistics;
(d) the `compute_statistics` component over an `Examples` artifact holding the data (read
    its Parquet, compute, write the JSON);
(e) the `ingest` component: the CSV streamed into train/eval Parquet splits, as a pipeline
    does before (d);
(f) statistics of the loaded table with 500-bucket histograms, beside `numpy.histogram` of
    every numeric column in 500 buckets (issue 11: histograms cost O(rows)).

Each step also reports its CPU time (user + sys): on a shared machine wall times are
inflated by the other processes, CPU times much less.

Also the peak resident memory (ru_maxrss) of the process running (c') and, for reference,
of the one running (b); and the ratios to (a). TFDV 1.16 takes 93-105 s on the same file
on the same 2-core machine.

    python benchmarks/statistics_speed.py [--rows 1000000] [--repeats 5]

Targets (issue 3): statistics in under 3 s and at most 2x Polars reading the file; peak
memory under 1 GiB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / ".data"

_STEP = """
import json, resource, sys, time
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
import numpy as np
import polars as pl
import pyarrow, pyarrow.csv
from shipyard.components.ingest import load_dataset
from shipyard.components.statistics import compute_dataset_statistics
step, path = sys.argv[1], sys.argv[2]
started, cpu_started = time.perf_counter(), cpu()
if step == "polars":
    pl.read_csv(path)
elif step == "describe":
    pl.read_csv(path).describe()
elif step in ("buckets", "numpy"):
    table = load_dataset(path)
    started, cpu_started = time.perf_counter(), cpu()
    if step == "buckets":
        compute_dataset_statistics(table, histogram_buckets=500)
    else:
        for column in table.columns:
            if pyarrow.types.is_integer(column.type) or pyarrow.types.is_floating(column.type):
                np.histogram(column.drop_null().to_numpy().astype(np.float64), bins=500)
elif step == "ingest":
    load_dataset(path)
elif step == "component":
    import tempfile
    from pathlib import Path
    from shipyard.artifacts import Examples, Statistics
    from shipyard.components.statistics import compute_statistics
    root = Path(tempfile.mkdtemp())
    examples = Examples(root / "examples")
    examples.write_split("train", load_dataset(path))
    started, cpu_started = time.perf_counter(), cpu()
    compute_statistics.fn(examples, Statistics(root / "statistics"))
elif step == "pipeline":
    import tempfile
    from pathlib import Path
    from shipyard.artifacts import Examples
    from shipyard.components.ingest import ingest
    examples = Examples(Path(tempfile.mkdtemp()) / "examples")
    examples.path.mkdir()
    ingest.fn(examples, source=Path(path))
else:
    table = load_dataset(path)
    loaded = time.perf_counter()
    compute_dataset_statistics(table)
    print(json.dumps({"compute_s": time.perf_counter() - loaded}))
seconds = time.perf_counter() - started
rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "cpu_s": cpu() - cpu_started, "rss_mib": rss_kib / 1024}))
"""


def generate(path: Path, rows: int) -> None:
    """Write the benchmark CSV: 10 float, 5 int and 5 string columns, a few percent missing."""
    import polars as pl

    index = pl.int_range(0, rows, eager=False)

    def uniform(seed: int) -> pl.Expr:
        return (index.hash(seed) % 1_000_000_007).cast(pl.Float64) / 1_000_000_007 + 1e-12

    def missing(seed: int) -> pl.Expr:
        return (index.hash(seed + 10_000) % 100) < 2 + seed % 4

    columns: list[pl.Expr] = []
    for i in range(10):
        normal = (-2 * uniform(i).log()).sqrt() * (6.283185307179586 * uniform(i + 100)).cos()
        value = (normal * (i + 1) * 10 + i * 100).round(4)
        columns.append(pl.when(missing(i)).then(None).otherwise(value).alias(f"f{i}"))
    for i in range(5):
        value = (index.hash(i + 200) % (100 * (i + 1))).cast(pl.Int64) - 20
        columns.append(pl.when(missing(i + 20)).then(None).otherwise(value).alias(f"i{i}"))
    for i in range(5):
        code = (uniform(i + 300) ** 2 * 50).floor().cast(pl.Int64).cast(pl.String)
        value = pl.lit(f"s{i}_") + code
        columns.append(pl.when(missing(i + 40)).then(None).otherwise(value).alias(f"s{i}"))
    frame = pl.select(columns)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    frame.write_csv(partial)
    partial.rename(path)


def measure(step: str, path: Path) -> dict[str, float]:
    """Run one step in a fresh Python process; return its timings and peak RSS."""
    result = subprocess.run(
        [sys.executable, "-c", _STEP, step, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    figures: dict[str, float] = {}
    for line in result.stdout.splitlines():
        figures.update(json.loads(line))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    path = DATA_DIR / f"statistics-{args.rows}.csv"
    if not path.exists():
        started = time.perf_counter()
        generate(path, args.rows)
        print(f"generated {path} in {time.perf_counter() - started:.1f} s")
    size_mib = path.stat().st_size / 2**20
    print(f"data: {path} ({args.rows:,} rows x 20 columns, {size_mib:.0f} MiB)")

    runs: dict[str, list[dict[str, float]]] = {
        "polars": [],
        "describe": [],
        "ingest": [],
        "stats": [],
        "component": [],
        "pipeline": [],
        "buckets": [],
        "numpy": [],
    }
    for _ in range(args.repeats):
        for step, results in runs.items():
            results.append(measure(step, path))

    def median(step: str, key: str) -> float:
        # this file's name shadows the standard library's `statistics` module
        values = sorted(run[key] for run in runs[step])
        middle = len(values) // 2
        return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2

    def both(step: str) -> str:
        return f"{median(step, 'seconds'):6.2f} s  (CPU {median(step, 'cpu_s'):5.2f} s)"

    polars_s = median("polars", "seconds")
    describe_s = median("describe", "seconds")
    compute_s = median("stats", "compute_s")
    total_s = median("stats", "seconds")
    peak_mib = max(run["rss_mib"] for run in runs["stats"])
    load_mib = max(run["rss_mib"] for run in runs["ingest"])
    print(f"medians of {args.repeats} runs, each in a fresh process:")
    print(f"  (a) polars.read_csv                          {both('polars')}")
    print(f"  (a') polars.read_csv + describe()            {both('describe')}")
    print(f"  (b) ingest (load_dataset)                    {both('ingest')}")
    print(f"  (c) statistics of the loaded table           {compute_s:6.2f} s")
    print(f"  (c') load + statistics (shipyard stats)      {both('stats')}")
    print(f"  (d) compute_statistics over Examples         {both('component')}")
    print(f"  (e) ingest component (CSV -> Parquet splits) {both('pipeline')}")
    print(f"  (f) statistics, 500-bucket histograms        {both('buckets')}")
    print(f"      numpy.histogram, 500 buckets, 15 columns {both('numpy')}")
    print(f"  ratio (c)/(a)  {compute_s / polars_s:5.2f}x   (c')/(a)  {total_s / polars_s:5.2f}x")
    cpu_ratio = median("stats", "cpu_s") / median("describe", "cpu_s")
    print(
        f"  ratio (c')/(a') {total_s / describe_s:5.2f}x  (CPU {cpu_ratio:5.2f}x; target <= 1.3x)"
    )
    print(
        f"  peak RSS of load + statistics: {peak_mib:.0f} MiB "
        f"(of the load alone: {load_mib:.0f} MiB; target < 1024 MiB)"
    )


if __name__ == "__main__":
    main()
