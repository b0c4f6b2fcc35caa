"""mypy sees a decorated component's own signature: `.fn` and calls keep their types."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SNIPPET = """
from shipyard import Out, component
from shipyard.artifacts import Examples, Metrics


@component
def count(examples: Examples, metrics: Out[Metrics], *, split: str = "train") -> None:
    metrics.save({"rows": examples.read(split).num_rows})


reveal_type(count.fn)
count.fn(Examples("in"), Metrics("out"), split="eval")
count.fn(Examples("in"), Metrics("out"), split=3)
count(examples=Examples("in"), metrics=Metrics("out"), splitt="eval")
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
    assert any(':13: error: Argument "split"' in e and '"int"' in e for e in errors), errors
    assert any(':14: error: Unexpected keyword argument "splitt"' in e for e in errors), errors
    assert len(errors) == 2, errors
