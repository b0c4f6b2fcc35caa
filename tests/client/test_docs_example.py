"""The client example of docs/serving.md is the tested file, and runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "client" / "client.py"


def test_docs_show_the_example() -> None:
    docs = (ROOT / "docs" / "serving.md").read_text()
    section = docs.split("## Client and batch prediction", 1)[1]
    snippet = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert snippet in EXAMPLE.read_text()


def test_example_runs(url: str) -> None:
    env = {**os.environ, "SHIPYARD_SERVER": url}
    result = subprocess.run(
        [sys.executable, str(EXAMPLE)], env=env, capture_output=True, text=True, check=True
    )
    lines = result.stdout.splitlines()
    assert "'state': 'AVAILABLE'" in lines[0] and "class_labels" in lines[1]
    assert lines[-1] == "400 instances[0]['island'] must be a string, got 3 (a number)"
