"""Rebuild `data/span-1` and `data/span-2` from `data/chicago_taxi_tips.csv`.

Span 1 is the first half of the real trips. Span 2 is the second half, modified the way a
drifting feed would be: longer trips (distance x 1.6), a new taxi company that the schema's
domain does not know, and `local` missing on a fifth of the rows. The drift demo
(`drift.py`) validates span 2 against span 1 and shows these anomalies.

    python examples/taxi/make_spans.py
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    with (HERE / "data" / "chicago_taxi_tips.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    half = len(rows) // 2
    rng = random.Random(7)  # noqa: S311 - reproducible demo data, not security
    span_2 = []
    for row in rows[half:]:
        changed = dict(row)
        changed["distance"] = f"{float(row['distance']) * 1.6:.2f}"
        if rng.random() < 0.1:
            changed["company"] = "Shipyard Cabs"
        if rng.random() < 0.2:
            changed["local"] = ""
        span_2.append(changed)
    for span, data in ((1, rows[:half]), (2, span_2)):
        folder = HERE / "data" / f"span-{span}"
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / "taxi.csv").open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(data)


if __name__ == "__main__":
    main()
