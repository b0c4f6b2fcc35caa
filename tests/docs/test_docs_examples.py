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


def test_the_constraints_snippet_fails_as_the_readme_says() -> None:
    import importlib.util

    from shipyard import Pipeline
    from shipyard.errors import DefinitionError

    path = ROOT / "docs" / "examples" / "constraints" / "pipeline.py"
    spec = importlib.util.spec_from_file_location("constraints_example", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    readme = " ".join((ROOT / "README.md").read_text().split())
    for options, message in [
        ({"epochs": 0}, "The 'epochs' parameter of fit must be an int >= 1. Got 0 instead."),
        (
            {"estimator": "boosted_trees", "epochs": 5},
            "fit(epochs=...): 'epochs' applies only to estimator='dnn'; got "
            "estimator='boosted_trees'",
        ),
    ]:
        assert message in readme
        with pytest.raises(DefinitionError) as raised:
            Pipeline("p", nodes=[module.fit(**options)])
        assert message in " ".join(str(raised.value).split())
