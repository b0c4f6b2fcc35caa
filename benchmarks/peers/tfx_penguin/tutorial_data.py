"""The penguins CSV in the form TFX's penguin tutorial reads (`penguins_processed.csv`).

The tutorial's CSV is the Palmer penguins table prepared for its trainer: the species as an
index (Adelie 0, Chinstrap 1, Gentoo 2), the four measurements scaled to [0, 1], and the rows
with a missing measurement dropped. This module makes that file from the CSV the Shipyard
example reads (`examples/penguins/data/penguins.csv`), so both pipelines learn from the same
rows. The preparation is done before the clock starts: TFX gets the easier, already clean
input, Shipyard the raw one (text columns, `NA` markers), which only favours the peer.

Standard library only: the harness (Shipyard's Python) calls it, not the TFX venv.
"""

from __future__ import annotations

import csv
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

FEATURES = ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g")
SPECIES = ("Adelie", "Chinstrap", "Gentoo")
MISSING = ("", "NA")


def write_tutorial_csv(source: Path, target: Path) -> int:
    """Write the tutorial's form of `source` to `target`; return the number of rows written.

    Raises:
        SystemExit: `source` lacks a column the tutorial uses, or names an unknown species
            (the message names the file, the line and the value).
    """
    with source.open(newline="") as handle:
        reader = csv.DictReader(handle)
        absent = [name for name in ("species", *FEATURES) if name not in (reader.fieldnames or [])]
        if absent:
            raise SystemExit(
                f"{source}: the TFX tutorial needs the columns {', '.join(absent)}, "
                f"which the header ({', '.join(reader.fieldnames or [])}) lacks. "
                "Point the benchmark at the penguins CSV of examples/penguins/data/."
            )
        rows: list[tuple[int, list[float]]] = []
        for line, row in enumerate(reader, start=2):
            if any(row[name] in MISSING for name in FEATURES):
                continue
            if row["species"] not in SPECIES:
                raise SystemExit(
                    f"{source}, line {line}: species {row['species']!r} is none of "
                    f"{', '.join(SPECIES)}; the tutorial's model has three classes."
                )
            rows.append((SPECIES.index(row["species"]), [float(row[n]) for n in FEATURES]))
    low = [min(values[i] for _, values in rows) for i in range(len(FEATURES))]
    high = [max(values[i] for _, values in rows) for i in range(len(FEATURES))]
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["species", *FEATURES])
        for species, values in rows:
            scaled = [
                round((value - low[i]) / (high[i] - low[i]), 6) for i, value in enumerate(values)
            ]
            writer.writerow([species, *scaled])
    return len(rows)
