"""What the drift peers of `benchmarks/monitoring.py` share: arguments, reading, timing, output.

Each peer script (`drift_evidently.py`, `drift_whylogs.py`, `drift_nannyml.py`) runs in its
own venv (`drift_peers.py` builds them) as `python -m peers.drift_NAME`, with `benchmarks/`
on `PYTHONPATH`:

    python -m peers.drift_NAME --reference REF.parquet --out DIR CURRENT.parquet [...]

It reads the reference once with pandas, then each current file in turn (a window): reads
it (dropping its `timestamp`), runs the peer's drift check with its default per-column
tests against the reference, and writes the report the peer produces by default into
`DIR`. It prints one JSON line: the peer's version, and per window the columns flagged,
the report written, the wall and CPU seconds of that window (reading, checking, writing the
report) and those of writing the report alone.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    Check = Callable[[Any, Any], tuple[set[str], Callable[[Path], None]]]
    """(reference, current) -> (the flagged columns, what writes the report to a path that
    lacks its suffix)"""


def run_peer(version: str, check: Check) -> None:
    """Parse the arguments, run `check` on every window and print the JSON line."""
    import pandas as pd

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True, help="where the reports go")
    parser.add_argument("current", type=Path, nargs="+", help="one Parquet file per window")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    reference = pd.read_parquet(args.reference)
    windows = []
    for path in args.current:
        wall, cpu = time.perf_counter(), time.process_time()
        current = pd.read_parquet(path).drop(columns=["timestamp"], errors="ignore")
        if list(current.columns) != list(reference.columns):
            raise SystemExit(f"{path}: columns {list(current.columns)} are not the reference's")
        flagged, write_report = check(reference, current)
        report_wall, report_cpu = time.perf_counter(), time.process_time()
        write_report(args.out / path.stem)
        report_wall, report_cpu = (
            time.perf_counter() - report_wall,
            time.process_time() - report_cpu,
        )
        reports = sorted(p.name for p in args.out.glob(f"{path.stem}.*"))
        windows.append(
            {
                "file": path.name,
                "flagged": sorted(flagged),
                "reports": {name: (args.out / name).stat().st_size for name in reports},
                "wall_s": time.perf_counter() - wall,
                "cpu_s": time.process_time() - cpu,
                "report_wall_s": report_wall,
                "report_cpu_s": report_cpu,
            }
        )
    print(json.dumps({"version": version, "windows": windows}))
