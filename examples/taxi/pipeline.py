"""Chicago taxi tips: ingest the latest span, compute statistics, infer a schema from the
train split, and check the eval split against it (anomalies and train/eval skew).

    shipyard run examples/taxi/pipeline.py                 # the latest span (2)
    shipyard run examples/taxi/pipeline.py -p span=1       # a given span

A new `data/span-3/` directory makes the next run ingest it; unchanged spans are cached.
To pin the schema instead of inferring it: `shipyard schema data/span-1/taxi.csv --label tip
> schema.yaml`, curate it, and use `import_schema(path="schema.yaml")` as `drift.py` does.
"""

from __future__ import annotations

from shipyard import Pipeline
from shipyard.components import compute_statistics, infer_schema, ingest, validate_examples

SPANS = "data/span-{SPAN}/taxi.csv"


def taxi(source: str = SPANS, span: int | None = None) -> Pipeline:
    """Ingest -> statistics -> inferred schema -> validation."""
    raw = ingest(source=source, span=span, split_key=["company", "dow", "hour", "distance"])
    statistics = compute_statistics(examples=raw.outputs.examples)
    schema = infer_schema(statistics=statistics.outputs.statistics, label="tip")
    validated = validate_examples(
        statistics=statistics.outputs.statistics, schema=schema.outputs.schema
    )
    return Pipeline("taxi", nodes=[validated], description="Chicago taxi tips")
