"""Finding and reading results: the end of `shipyard run`, `runs`, `runs show`, `runs compare`
and `artifacts show`, from the project's directory or below it; none of them creates a store."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.cli.command import shipyard

PENGUINS = Path(__file__).resolve().parents[2] / "examples" / "penguins"

pytestmark = pytest.mark.slow


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the penguins example: its pipeline, data and pinned schema."""
    root = tmp_path / "penguins"
    root.mkdir()
    shutil.copy(PENGUINS / "pipeline.py", root)
    shutil.copy(PENGUINS / "schema.yaml", root)
    shutil.copytree(PENGUINS / "data", root / "data")
    return root


def test_the_demo_ends_with_what_matters_and_runs_are_found_from_below(project: Path) -> None:
    first = shipyard(project, "run", "pipeline.py", env={"COLUMNS": "60"})
    assert first.returncode == 0, first.stderr
    model_dir = project / "models" / "penguins" / "1"
    assert f"Model penguins version 1 pushed to {model_dir}\n" in first.stderr
    assert "Blessed: 1 check passed." in first.stderr
    assert "Metrics (evaluate): accuracy " in first.stderr
    artifacts = project / ".shipyard" / "artifacts" / "penguins"
    reports = sorted(artifacts.glob("*/*/*/report.html"))
    assert {p.parts[-3] for p in reports} >= {"validate_examples", "evaluate"}
    for report in reports:  # whole paths, however narrow the terminal
        assert f"  {report}\n" in first.stderr

    second = shipyard(project, "run", "pipeline.py", "-p", "schema=schema.yaml", "--json")
    assert second.returncode == 0, second.stderr
    run = json.loads(second.stdout)
    assert run["outcome"]["models"][0]["version"] == 1  # cached: the push is reused
    assert run["parameters"] == {"source": "data/penguins.csv", "schema": "schema.yaml"}

    below = project / "notebooks" / "drafts"
    below.mkdir(parents=True)
    listed = json.loads(shipyard(below, "runs", "--json").stdout)
    assert listed[0]["id"] == run["id"] and len(listed) == 2
    assert listed[1]["metrics"]["accuracy"] >= 0.9
    assert listed[1]["models"] == [{"name": "penguins", "version": 1, "path": str(model_dir)}]
    table = shipyard(below, "runs").stdout
    assert "source=data/penguins.csv" in table and "accuracy" in table
    assert "penguins v1" in table

    shown = json.loads(shipyard(below, "runs", "show", run["id"], "--json").stdout)
    assert shown == run  # `run --json` and `runs show --json`: one shape
    human = shipyard(below, "runs", "show", run["id"]).stdout
    assert f"pushed to {model_dir}" in human and 'schema="schema.yaml"' in human

    compared = shipyard(below, "runs", "compare", listed[1]["id"], run["id"], "--json")
    comparison = json.loads(compared.stdout)
    assert comparison["changed_parameters"] == []
    assert comparison["nodes"]["train"] == {"states": ["complete", "cached"], "outputs": "same"}
    table = shipyard(below, "runs", "compare", listed[1]["id"], run["id"]).stdout
    assert "same outputs" in table and "accuracy (evaluate)" in table

    evaluation = run["nodes"]["evaluate"]["outputs"]["evaluation"]
    narrow = shipyard(below, "artifacts", "show", str(evaluation["id"]), env={"COLUMNS": "40"})
    assert narrow.returncode == 0, narrow.stderr
    assert evaluation["uri"] in narrow.stdout
    assert evaluation["fingerprint"] in narrow.stdout
    assert not (below / ".shipyard").exists() and not (project / "notebooks" / ".shipyard").exists()


@pytest.mark.parametrize(
    "command",
    [
        ("runs",),
        ("runs", "show", "2026"),
        ("runs", "compare", "a", "b"),
        ("artifacts", "show", "1"),
        ("lineage", "1"),
        ("gc", "--dry-run"),
    ],
)
def test_reading_commands_never_create_a_store(tmp_path: Path, command: tuple[str, ...]) -> None:
    result = shipyard(tmp_path, *command)
    assert result.returncode == 1
    assert "No Shipyard store found: looked for a .shipyard/ directory in" in result.stderr
    assert "shipyard run PIPELINE.py" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_store_named_by_flag_or_shipyard_home_must_exist_to_be_read(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.db"
    flagged = shipyard(tmp_path, "runs", "--store", f"sqlite:///{missing}")
    assert flagged.returncode == 1 and f"No metadata store at {missing}" in flagged.stderr
    home = shipyard(tmp_path, "runs", env={"SHIPYARD_HOME": str(tmp_path / "home")})
    assert home.returncode == 1 and "(SHIPYARD_HOME)" in home.stderr
    assert list(tmp_path.iterdir()) == []
