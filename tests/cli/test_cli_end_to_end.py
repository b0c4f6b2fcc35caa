"""The real `shipyard` command, in subprocesses, on the penguins example."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.command import shipyard

PENGUINS = Path(__file__).resolve().parents[2] / "examples" / "penguins"
DATA_PIPELINE = f"""
from shipyard import Pipeline
from shipyard.components import compute_statistics, import_schema, ingest, validate_examples


def penguins(source: str = {str(PENGUINS / "data" / "penguins.csv")!r}) -> Pipeline:
    raw = ingest(source=source, splits={{"train": 8, "eval": 2}})
    statistics = compute_statistics(examples=raw.outputs.examples)
    pinned = import_schema(path={str(PENGUINS / "schema.yaml")!r})
    validated = validate_examples(
        statistics=statistics.outputs.statistics, schema=pinned.outputs.schema
    )
    return Pipeline("penguins", nodes=[validated])
"""

pytestmark = pytest.mark.slow


def data_pipeline(folder: Path) -> Path:
    """The data half of the penguins example, written into `folder`."""
    file = folder / "pipeline.py"
    file.write_text(DATA_PIPELINE)
    return file


def test_run_inspect_lineage_and_gc(tmp_path: Path) -> None:
    example = data_pipeline(tmp_path)
    first = shipyard(tmp_path, "run", str(example), "--json")
    assert first.returncode == 0, first.stderr
    run = json.loads(first.stdout)
    assert run["state"] == "complete"
    assert set(run["nodes"]) == {
        "ingest",
        "compute_statistics",
        "import_schema",
        "validate_examples",
    }
    assert "complete" in first.stderr and "Outputs:" in first.stderr  # the display's summary
    assert (tmp_path / ".shipyard" / "store.db").exists()  # the store lives in the working dir

    second = shipyard(tmp_path, "run", str(example))
    assert second.returncode == 0
    assert second.stderr.count("cached") >= 4

    listed = json.loads(shipyard(tmp_path, "runs", "--json").stdout)
    assert [r["state"] for r in listed] == ["complete", "complete"]
    table = shipyard(tmp_path, "runs").stdout
    assert run["id"] in table and "penguins" in table

    shown = json.loads(shipyard(tmp_path, "runs", "show", run["id"], "--json").stdout)
    assert shown == run  # one shape for a run, whichever command prints it
    assert list(shown["nodes"])[-1] == "validate_examples"
    assert [r["node"] for r in shown["outcome"]["reports"]] == [
        "compute_statistics",
        "validate_examples",
    ]
    examples_id = run["nodes"]["ingest"]["outputs"]["examples"]["id"]
    statistics_id = run["nodes"]["compute_statistics"]["outputs"]["statistics"]["id"]

    artifact = json.loads(
        shipyard(tmp_path, "artifacts", "show", str(examples_id), "--json").stdout
    )
    assert artifact["type"] == "Examples"
    assert set(artifact["preview"]["splits"]) == {"train", "eval"}
    rows = {s: v["rows"] for s, v in artifact["preview"]["splits"].items()}
    assert sum(rows.values()) == 344
    assert artifact["producer"]["node"] == "ingest"
    assert [c["node"] for c in artifact["consumers"]] == ["compute_statistics"] * 2

    graph = json.loads(shipyard(tmp_path, "lineage", str(statistics_id), "--json").stdout)
    assert graph["upstream"]["execution"]["node"] == "compute_statistics"
    assert graph["upstream"]["inputs"][0]["artifact"]["id"] == examples_id
    assert graph["downstream"][0]["execution"]["node"] == "validate_examples"
    tree = shipyard(tmp_path, "lineage", str(statistics_id)).stdout
    assert "upstream" in tree and "ingest" in tree and "validate_examples" in tree

    human = shipyard(tmp_path, "artifacts", "show", str(examples_id))
    assert human.returncode == 0 and "Examples" in human.stdout

    # a third run on other data makes the first run's data artifacts unreferenced; the
    # pinned schema is unchanged, so the third run reuses it and it stays
    rows = (PENGUINS / "data" / "penguins.csv").read_text().splitlines()
    (tmp_path / "fewer.csv").write_text("\n".join(rows[:-10]) + "\n")
    third = shipyard(tmp_path, "run", str(example), "-p", f"source={tmp_path / 'fewer.csv'}")
    assert third.returncode == 0, third.stderr
    dry = json.loads(shipyard(tmp_path, "gc", "--keep-runs", "1", "--dry-run", "--json").stdout)
    assert {a["name"].split("/")[1] for a in dry["deleted_artifacts"]} == {run["id"]}
    assert {a["type"] for a in dry["deleted_artifacts"]} == {"Examples", "Statistics", "Anomalies"}
    assert Path(artifact["uri"]).exists()
    done = json.loads(shipyard(tmp_path, "gc", "--keep-runs", "1", "--json").stdout)
    assert len(done["deleted_artifacts"]) == 3
    assert not Path(artifact["uri"]).exists()
    after = json.loads(shipyard(tmp_path, "artifacts", "show", str(examples_id), "--json").stdout)
    assert after["state"] == "deleted" and after["preview"] is None
    assert (
        json.loads(shipyard(tmp_path, "gc", "--keep-runs", "1", "--json").stdout)[
            "deleted_artifacts"
        ]
        == []
    )


def test_failing_pipeline_exits_non_zero_with_traceback_and_hint(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text(
        "from shipyard import Out, Pipeline, component\n"
        "from shipyard.artifacts import Metrics\n\n"
        "@component\n"
        "def explode(out: Out[Metrics]) -> None:\n"
        "    raise KeyError('no such column: fare')\n\n"
        "pipeline = Pipeline('bad', nodes=[explode()])\n"
    )
    result = shipyard(tmp_path, "run", "bad.py")
    assert result.returncode == 1
    assert "explode failed" in result.stderr
    assert 'bad.py", line 6, in explode' in result.stderr
    assert "no such column: fare" in result.stderr
    assert "resume with: shipyard run bad.py" in result.stderr
    assert "shipyard/runners" not in result.stderr


def test_definition_errors_print_a_headline_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "wired.py").write_text(
        "from shipyard import Out, Pipeline, component\n"
        "from shipyard.artifacts import Examples, Metrics\n\n"
        "@component\n"
        "def make(out: Out[Metrics]) -> None: ...\n\n"
        "@component\n"
        "def use(examples: Examples, out: Out[Metrics], *, n: int = 1) -> None: ...\n\n"
        "pipeline = Pipeline('wired', nodes=[use(examples=make().outputs.out, n='x')])\n"
    )
    result = shipyard(tmp_path, "run", "wired.py")
    assert result.returncode == 1
    assert "Invalid pipeline definition: 2 problems in pipeline 'wired'" in result.stderr
    assert "wired.py, line 10" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_run_and_artifact_are_clear_errors(tmp_path: Path) -> None:
    assert shipyard(tmp_path, "run", str(data_pipeline(tmp_path))).returncode == 0
    missing = shipyard(tmp_path, "runs", "show", "1999-nope")
    assert missing.returncode == 1 and "Not found" in missing.stderr
    assert "Traceback" not in missing.stderr
    artifact = shipyard(tmp_path, "artifacts", "show", "9999")
    assert artifact.returncode == 1 and "9999" in artifact.stderr


def test_help_imports_no_heavy_library() -> None:
    code = (
        "import sys, shipyard.cli.main as m\n"
        "names = ('sqlalchemy', 'pyarrow', 'fsspec', 'rich.live', 'polars')\n"
        "heavy = [n for n in names if n in sys.modules]\n"
        "print(heavy)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
    helped = shipyard(Path.cwd(), "--help")
    assert helped.returncode == 0 and "runs" in helped.stdout and "lineage" in helped.stdout


@pytest.mark.postgres
@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_store_flag_and_env_select_a_postgresql_store(tmp_path: Path, store_url: str) -> None:
    plain_url = store_url.replace("postgresql+psycopg://", "postgresql://")
    example = data_pipeline(tmp_path)
    first = shipyard(tmp_path, "run", str(example), "--store", plain_url, "--json")
    assert first.returncode == 0, first.stderr
    assert not (tmp_path / ".shipyard" / "store.db").exists()
    env_run = subprocess.run(
        [sys.executable, "-m", "shipyard", "runs", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env={**os.environ, "SHIPYARD_STORE": plain_url},
    )
    [run] = json.loads(env_run.stdout)
    assert run["id"] == json.loads(first.stdout)["id"] and run["state"] == "complete"
    again = shipyard(tmp_path, "run", str(example), "--store", plain_url)
    assert again.returncode == 0 and again.stderr.count("cached") >= 3
