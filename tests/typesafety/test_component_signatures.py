"""mypy sees a decorated component's own signature through `.fn`, and pipeline code that
calls components (outputs left out, upstream outputs for inputs, `str` for paths) passes
`mypy --strict`: those calls are checked when the `Pipeline` is built."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SNIPPET = """
from pathlib import Path

from shipyard import Out, Pipeline, component
from shipyard.artifacts import Examples, Metrics


@component
def load(examples: Out[Examples], *, source: Path) -> None:
    examples.write_split("train", __import__("pyarrow.csv").csv.read_csv(source))


@component
def count(examples: Examples, metrics: Out[Metrics], *, split: str = "train") -> None:
    metrics.save({"rows": examples.read(split).num_rows})


reveal_type(count.fn)
count.fn(Examples("in"), Metrics("out"), split="eval")
count.fn(Examples("in"), Metrics("out"), split=3)


def pipeline(source: str = "data.csv") -> Pipeline:
    raw = load(source=source)
    counted = count(examples=raw.outputs.examples, split="eval")
    return Pipeline("typed", nodes=[counted])
"""


@pytest.mark.slow
def test_mypy_checks_component_signatures(tmp_path: Path) -> None:
    from mypy import api

    source = tmp_path / "snippet.py"
    source.write_text(SNIPPET)
    stdout, _, status = api.run(
        [str(source), "--strict", "--no-error-summary", "--cache-dir", str(tmp_path / "cache")]
    )
    lines = stdout.splitlines()
    assert status == 1, stdout
    revealed = next(line for line in lines if "Revealed type" in line)
    assert "examples: shipyard.artifacts.standard.Examples" in revealed
    assert "metrics: shipyard.artifacts.standard.Metrics" in revealed
    assert re.search(r"\*, split: (builtins\.)?str =", revealed), revealed
    errors = [line for line in lines if ": error:" in line]
    assert any(':20: error: Argument "split"' in e and '"int"' in e for e in errors), errors
    assert len(errors) == 1, errors  # the pipeline function has none
