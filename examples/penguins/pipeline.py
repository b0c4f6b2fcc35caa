"""Penguins: ingest a CSV into train/eval splits, compute statistics, validate against the
curated schema pinned in `schema.yaml`.

Run it from any directory (artifacts and the store go under the working directory's
`.shipyard/`):

    shipyard run examples/penguins/pipeline.py

Then look at what it made: `shipyard runs show <run>`, `shipyard artifacts show <id>`.
"""

from __future__ import annotations

from shipyard import Pipeline
from shipyard.components import compute_statistics, import_schema, ingest, validate_examples


def penguins(source: str = "data/penguins.csv", schema: str = "schema.yaml") -> Pipeline:
    """The demo pipeline: ingest -> statistics -> (pinned schema) -> validation."""
    raw = ingest(source=source, splits={"train": 8, "eval": 2})
    statistics = compute_statistics(examples=raw.outputs.examples)
    pinned = import_schema(path=schema)
    validated = validate_examples(
        statistics=statistics.outputs.statistics, schema=pinned.outputs.schema
    )
    return Pipeline("penguins", nodes=[validated], description="Palmer penguins demo")
