"""Ingest of a large CSV on Ray Data (a local 2-CPU cluster) vs the local path.

The data: `--rows` rows (2M by default, about 90 MB) of 4 float, 2 int and 2 string
columns, written once into `benchmarks/.data/` (git-ignored). Each repeat runs in a fresh
process, local and Ray interleaved: `ingest.fn` with the default hash split, (a) as the
threads engine runs it, (b) as the Ray engine runs it (`TaskContext.engine == "ray"`, every
source on Ray Data, 64 MiB partitions). Wall time and the driver's CPU time (user + sys;
Ray's workers' CPU is not in it), medians of `--repeats`.

    python benchmarks/ray_ingest.py [--rows 2000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from ray_statistics import DATA_DIR, compare  # the sibling benchmark

_STEP = """
import json, resource, sys, time
from pathlib import Path
from shipyard.artifacts import Examples
from shipyard.components.ingest import ingest
from shipyard.dsl.context import TaskContext, running_task
def cpu():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime
source, output, address = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
if address:
    import ray
    ray.init(address=address, log_to_driver=False)
wall, start = time.perf_counter(), cpu()
with running_task(TaskContext("ingest", engine="ray" if address else "threads")):
    ingest.fn(examples=Examples(output), source=source)
print(json.dumps({"wall_s": time.perf_counter() - wall, "cpu_s": cpu() - start,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def make_csv(rows: int) -> Path:
    """Write the CSV once; return it."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    path = DATA_DIR / f"ray-ingest-{rows}.csv"
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(2)
    columns: dict[str, Any] = {f"f{i}": rng.normal(i, 1.0 + i, rows).round(4) for i in range(4)}
    columns |= {f"i{i}": rng.integers(0, 1000 * (i + 1), rows) for i in range(2)}
    columns |= {f"s{i}": rng.choice([f"v{j}" for j in range(50)], rows) for i in range(2)}
    pacsv.write_csv(pa.table(columns), path)
    return path


def measure(source: Path, address: str) -> dict[str, float]:
    """Ingest `source` once in a fresh process; return its figures."""
    with tempfile.TemporaryDirectory() as output:
        done = subprocess.run(
            [sys.executable, "-c", _STEP, str(source), str(Path(output) / "ex"), address],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "SHIPYARD_INGEST_RAY_MIN_BYTES": "0"},
        )
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    source = make_csv(args.rows)
    print(f"source: {source.stat().st_size / 2**20:.0f} MiB")
    compare(source, measure, repeats=args.repeats)


if __name__ == "__main__":
    main()
