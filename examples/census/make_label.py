"""Rebuild `data/census.csv` from `data/cps1988_wages.csv` (CPS, March 1988: weekly wages).

The label `high_wage` is "yes" for a weekly wage above the median of the file (522.32
dollars; the 458 rows at exactly the median are "no"), so the classes are about balanced
(49 % "yes"). The raw `wage` column is dropped: it would give the label away.

    python examples/census/make_label.py
"""

from __future__ import annotations

import csv
import statistics
from pathlib import Path

HERE = Path(__file__).resolve().parent
RAW = HERE / "data" / "cps1988_wages.csv"
LABELLED = HERE / "data" / "census.csv"
LABEL = "high_wage"


def main() -> None:
    with RAW.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    median = statistics.median(float(row["wage"]) for row in rows)
    features = [name for name in rows[0] if name != "wage"]
    with LABELLED.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[LABEL, *features])
        writer.writeheader()
        for row in rows:
            label = "yes" if float(row["wage"]) > median else "no"
            writer.writerow({LABEL: label, **{name: row[name] for name in features}})


if __name__ == "__main__":
    main()
