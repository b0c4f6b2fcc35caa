"""Ingest a CSV larger than a memory budget; report peak memory and throughput.

Generates a CSV of `--size-mb` (default 3x the budget: 900 MB for a 300 MB budget) with 20
columns (8 int, 6 float, 5 text, 1 label), then ingests it `--runs` times, each in a fresh
subprocess, and prints the median wall time, MB/s, rows/s and the peak RSS of the
children (`resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`). It exits non-zero if the peak
RSS exceeds the budget. The file is generated once and kept (`--dir`) for later runs.

    .venv/bin/python benchmarks/ingest_memory.py                     # 900 MB, 300 MB budget
    .venv/bin/python benchmarks/ingest_memory.py --size-mb 100 --runs 1   # quick
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BYTES_PER_ROW = 131  # of the generated CSV, measured
CHILD = """
import json, shutil, sys, time
from pathlib import Path
from shipyard.artifacts import Examples
from shipyard.components.ingest import ingest

out = Path(sys.argv[2])
shutil.rmtree(out, ignore_errors=True)
examples = Examples(out)
started = time.perf_counter()
ingest.fn(examples, source=Path(sys.argv[1]))
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "rows": examples.properties["rows"]}))
"""


def generate(path: Path, size_mb: int) -> int:
    """Write a CSV of about `size_mb` megabytes with DuckDB; return its row count."""
    import duckdb

    rows = max(1000, size_mb * 1_000_000 // BYTES_PER_ROW)
    columns = [f"(hash(i * {k + 3}) % 100000)::BIGINT AS int_{k}" for k in range(8)]
    columns += [f"round((hash(i * {k + 17}) % 1000000) / 997.0, 3) AS float_{k}" for k in range(6)]
    columns += [f"'cat_' || (hash(i + {k * 7}) % 50)::VARCHAR AS str_{k}" for k in range(5)]
    columns.append("CASE WHEN i % 3 = 0 THEN 'yes' ELSE 'no' END AS label")
    with duckdb.connect() as connection:
        connection.execute(
            f"COPY (SELECT {', '.join(columns)} FROM range({rows}) t(i)) "
            f"TO '{path}' (HEADER, DELIMITER ',')"
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget-mb", type=int, default=300, help="memory budget (peak RSS)")
    parser.add_argument("--size-mb", type=int, default=None, help="CSV size (default 3x budget)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "shipyard-bench")
    args = parser.parse_args()
    size_mb = args.size_mb or 3 * args.budget_mb
    args.dir.mkdir(parents=True, exist_ok=True)
    source = args.dir / f"ingest-{size_mb}mb.csv"
    if not source.exists():
        started = time.perf_counter()
        generate(source, size_mb)
        print(f"generated {source} in {time.perf_counter() - started:.1f} s")
    file_mb = source.stat().st_size / 1e6
    walls: list[float] = []
    rows = 0
    for run in range(args.runs):
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-c", CHILD, str(source), str(args.dir / "out")],
            check=True,
            capture_output=True,
            text=True,
        )
        walls.append(time.perf_counter() - started)
        report = json.loads(result.stdout.strip().splitlines()[-1])
        rows = sum(report["rows"].values())
        print(
            f"run {run + 1}: {walls[-1]:.2f} s (ingest {report['seconds']:.2f} s) {report['rows']}"
        )
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    wall = sorted(walls)[len(walls) // 2]
    print(
        f"file {file_mb:.0f} MB, {rows:,} rows x 20 columns; median of {args.runs} runs "
        f"(subprocess, incl. interpreter start): {wall:.2f} s, {file_mb / wall:.0f} MB/s, "
        f"{rows / wall:,.0f} rows/s; peak RSS {peak_mb:.0f} MB (budget {args.budget_mb} MB)"
    )
    return 0 if peak_mb <= args.budget_mb else 1


if __name__ == "__main__":
    sys.exit(main())
