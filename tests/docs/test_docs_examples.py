"""Every snippet in the docs is a file under docs/examples/, and runs."""

from __future__ import annotations

from pathlib import Path

import pytest

import shipyard

ROOT = Path(__file__).resolve().parents[2]


def test_readme_pipeline_is_the_tested_file() -> None:
    readme = (ROOT / "README.md").read_text()
    snippet = readme.split("```python\n", 1)[1].split("```", 1)[0]
    example = (ROOT / "docs" / "examples" / "quickstart" / "pipeline.py").read_text()
    assert snippet in example


def test_quickstart_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = shipyard.run(ROOT / "docs" / "examples" / "quickstart" / "pipeline.py", progress=False)
    assert result.ok, result.failed
    assert result["count"].outputs["metrics"].load() == {"rows": 344.0}
