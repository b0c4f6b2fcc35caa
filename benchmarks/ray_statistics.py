"""Statistics of a large Parquet split on Ray Data (a local 2-CPU cluster) vs the local path.

The data: `--rows` rows (10M by default) of 4 float, 2 int and 2 string columns, written
once into `benchmarks/.data/` (git-ignored) as Parquet row groups of 1M rows. Each repeat
runs in a fresh process: (a) the local path, `compute_dataset_statistics` of the split read
with `Examples.read`'s `pq.read_table`; (b) `ray_statistics` on a cluster started by
`shipyard.testing.ray` (started once; its start time and RSS are reported). Wall time and
the driver's CPU time (user + sys; Ray's workers' CPU is not in it), medians of `--repeats`.

    python benchmarks/ray_statistics.py [--rows 10000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

DATA_DIR = Path(__file__).resolve().parent / ".data"

_STEP = """
import json, resource, sys, time
from pathlib import Path
import pyarrow.parquet as pq
from shipyard.components.statistics import compute_dataset_statistics
from shipyard.components.statistics.partial import StatisticsOptions
from shipyard.components.statistics.ray_data import ray_statistics
def cpu():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime
split, address = Path(sys.argv[1]), sys.argv[2]
if address:
    import ray
    ray.init(address=address, log_to_driver=False)
wall, start = time.perf_counter(), cpu()
if address:
    ray_statistics(split, StatisticsOptions())
else:
    compute_dataset_statistics(pq.read_table(split))
print(json.dumps({"wall_s": time.perf_counter() - wall, "cpu_s": cpu() - start,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def make_split(rows: int) -> Path:
    """Write the split once; return its folder."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    split = DATA_DIR / f"ray-statistics-{rows}" / "train"
    if split.is_dir():
        return split
    split.mkdir(parents=True)
    rng = np.random.default_rng(1)
    step = 1_000_000
    for part, start in enumerate(range(0, rows, step)):
        n = min(step, rows - start)
        columns = {f"f{i}": rng.normal(i, 1.0 + i, n) for i in range(4)}
        columns |= {f"i{i}": rng.integers(0, 1000 * (i + 1), n) for i in range(2)}
        columns |= {f"s{i}": rng.choice([f"v{j}" for j in range(50)], n) for i in range(2)}
        pq.write_table(pa.table(columns), split / f"part-{part:05d}.parquet", row_group_size=n)
    return split


def measure(split: Path, address: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", _STEP, str(split), address],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _median(values: list[float]) -> float:
    # not the statistics module: benchmarks/statistics.py shadows it when run from here
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    compare(make_split(args.rows), measure, repeats=args.repeats)


def compare(data: Path, measure: Callable[[Path, str], dict[str, float]], *, repeats: int) -> None:
    """Measure the local path and Ray on `data` in turn, on a fresh cluster; print medians."""
    from shipyard.testing.ray import running_ray_cluster

    with running_ray_cluster(num_cpus=2, object_store_bytes=512 * 1024 * 1024) as cluster:
        print(
            f"cluster: started in {cluster.start_s:.1f} s, "
            f"RSS {cluster.rss_bytes() / 2**20:.0f} MiB"
        )
        runs: dict[str, list[dict[str, float]]] = {"local": [], "ray": []}
        for _ in range(repeats):  # interleaved: the machine's load hits both alike
            runs["local"].append(measure(data, ""))
            runs["ray"].append(measure(data, cluster.address))
    for name, found in runs.items():
        medians = {key: _median([run[key] for run in found]) for key in found[0]}
        print(f"{name:6} " + "  ".join(f"{key} {value:.2f}" for key, value in medians.items()))


if __name__ == "__main__":
    main()
