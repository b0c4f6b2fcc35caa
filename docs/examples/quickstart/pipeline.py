"""The README's pipeline example; tests/docs runs it."""

from pathlib import Path

from shipyard import Out, Pipeline, component
from shipyard.artifacts import Examples, Metrics


@component
def load_csv(examples: Out[Examples], *, source: Path) -> None:
    import pyarrow.csv

    examples.write_split("train", pyarrow.csv.read_csv(source))


@component
def count(examples: Examples, metrics: Out[Metrics]) -> None:
    metrics.save({"rows": examples.read("train").num_rows})


def demo(source: str = "data/penguins.csv") -> Pipeline:
    raw = load_csv(source=source)  # relative paths resolve against this file
    return Pipeline("demo", nodes=[count(examples=raw.outputs.examples)])
