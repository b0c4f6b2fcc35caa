"""Every snippet in the docs is a file under docs/examples/, and runs."""

from __future__ import annotations

from pathlib import Path

import pytest

import shipyard

ROOT = Path(__file__).resolve().parents[2]


def test_every_readme_snippet_is_a_tested_file() -> None:
    readme = (ROOT / "README.md").read_text()
    snippets = [part.split("```", 1)[0] for part in readme.split("```python\n")[1:]]
    assert len(snippets) >= 2
    files = [p.read_text() for p in (ROOT / "docs" / "examples").rglob("*.py")]
    for snippet in snippets:
        assert any(snippet in text for text in files), snippet


def test_the_tabular_snippet_builds_the_standard_pipeline() -> None:
    from shipyard.dsl import load_pipeline

    pipeline = load_pipeline(ROOT / "docs" / "examples" / "tabular" / "pipeline.py")
    assert sorted(node.name for node in pipeline.nodes) == sorted(
        [
            "ingest",
            "compute_statistics",
            "import_schema",
            "validate_examples",
            "transform",
            "train",
            "evaluate",
            "push",
        ]
    )
    here = ROOT / "docs" / "examples" / "tabular"
    # The nodes belong to the file that called tabular_pipeline: its paths resolve there.
    assert all(node.location.directory == here for node in pipeline.nodes)
    assert pipeline["push"].parameters["base"] == str(here / "models")
    assert pipeline["import_schema"].parameters["path"] == str(here / "schema.yaml")


def test_quickstart_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = shipyard.run(ROOT / "docs" / "examples" / "quickstart" / "pipeline.py", progress=False)
    assert result.ok, result.failed
    assert result["count"].outputs["metrics"].load() == {"rows": 344.0}
