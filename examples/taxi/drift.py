"""Span-to-span drift: validate the new span 2 against span 1 and the curated schema.

Span 2 (see `make_spans.py`) has longer trips, an unknown taxi company and missing values
in `local`. Validation finds them, so this run stops at `validate_examples` and prints the
anomalies; that is the point of the demo, and of putting validation in front of training:

    shipyard run examples/taxi/drift.py
    shipyard validate examples/taxi/data/span-2/taxi.csv \\
        --schema examples/taxi/schema.yaml --baseline examples/taxi/data/span-1/taxi.csv
"""

from __future__ import annotations

from shipyard import Pipeline
from shipyard.components import compute_statistics, import_schema, ingest, validate_examples

SPANS = "data/span-{SPAN}/taxi.csv"


def taxi_drift(source: str = SPANS, baseline_span: int = 1, span: int = 2) -> Pipeline:
    """Statistics of two spans; validate the newer one with the older one as the baseline."""
    before = ingest(source=source, span=baseline_span).with_options(name="ingest_baseline")
    after = ingest(source=source, span=span)
    before_stats = compute_statistics(examples=before.outputs.examples).with_options(
        name="statistics_baseline"
    )
    after_stats = compute_statistics(examples=after.outputs.examples)
    schema = import_schema(path="schema.yaml")
    validated = validate_examples(
        statistics=after_stats.outputs.statistics,
        examples=after.outputs.examples,  # to count values out of range exactly
        schema=schema.outputs.schema,
        baseline=before_stats.outputs.statistics,
    )
    return Pipeline("taxi-drift", nodes=[validated], description="Span-to-span drift demo")
