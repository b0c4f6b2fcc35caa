"""`shipyard compile --target kubeflow`, run as a KFP backend would: each task's command line
from the YAML, in the DAG's order, with the placeholders substituted (the job's id, its
parameters). The run gives the artifacts and metrics of `shipyard run` of the same pipeline,
and a second job of the compiled pipeline comes from the cache."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cli.command import shipyard

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DATA_NODES = ("import_schema", "ingest", "compute_statistics", "validate_examples", "transform")
_PLACEHOLDER = re.compile(r"\{\{\$\.inputs\.parameters\['([^']+)'\]\}\}")


def _order(tasks: dict[str, Any]) -> list[str]:
    """The tasks in an order that respects `dependentTasks` (what the backend schedules)."""
    done: list[str] = []
    while len(done) < len(tasks):
        ready = [
            name
            for name, task in sorted(tasks.items())
            if name not in done and all(up in done for up in task.get("dependentTasks", []))
        ]
        assert ready, f"a cycle among {sorted(set(tasks) - set(done))}"
        done.append(ready[0])
    return done


def _command(spec: dict[str, Any], task: str, job_id: str, job: dict[str, Any]) -> list[str]:
    """The container's command line of `task`, with KFP's placeholders resolved."""
    entry = spec["root"]["dag"]["tasks"][task]
    values: dict[str, Any] = {}
    for name, source in entry["inputs"]["parameters"].items():
        if "runtimeValue" in source:
            values[name] = source["runtimeValue"]["constant"].replace(
                "{{$.pipeline_job_uuid}}", job_id
            )
        elif source["componentInputParameter"] in job:
            values[name] = job[source["componentInputParameter"]]
    executor = spec["components"][entry["componentRef"]["name"]]["executorLabel"]
    container = spec["deploymentSpec"]["executors"][executor]["container"]
    args: list[str] = []
    for arg in container["args"]:
        if arg.startswith('{"IfPresent"'):
            present = json.loads(arg)["IfPresent"]
            args += present["Then"] if present["InputName"] in values else []
        else:
            args.append(arg)
    text = [
        _PLACEHOLDER.sub(
            lambda m: v if isinstance(v := values[m.group(1)], str) else json.dumps(v), arg
        )
        for arg in args
    ]
    assert container["command"] == ["shipyard"]
    return text


def _run_job(project: Path, spec: dict[str, Any], job_id: str) -> list[str]:
    job = {
        name: p["defaultValue"]
        for name, p in spec["root"].get("inputDefinitions", {}).get("parameters", {}).items()
        if "defaultValue" in p
    }
    logs = []
    for task in _order(spec["root"]["dag"]["tasks"]):
        done = shipyard(project, *_command(spec, task, job_id, job))
        assert done.returncode == 0, done.stderr
        logs.append(done.stderr)
    return logs


def _fingerprints(run: dict[str, Any]) -> dict[tuple[str, str], str]:
    """`{(node, port): fingerprint}` of the data a run made: a model and its evaluation
    name the run they were made in (model card, training log), so they are compared by
    their metrics."""
    return {
        (name, port): artifact["fingerprint"]
        for name, node in run["nodes"].items()
        if name in DATA_NODES
        for port, artifact in node["outputs"].items()
    }


@pytest.mark.slow
def test_compiled_penguins_runs_task_by_task_like_shipyard_run(tmp_path: Path) -> None:
    local = shutil.copytree(
        EXAMPLES / "penguins",
        tmp_path / "local" / "penguins",
        ignore=shutil.ignore_patterns("models", ".*"),
    )
    compiled = shutil.copytree(
        EXAMPLES / "penguins",
        tmp_path / "kfp" / "penguins",
        ignore=shutil.ignore_patterns("models", ".*"),
    )
    reference = shipyard(local.parent, "run", "penguins/pipeline.py", "--json")
    assert reference.returncode == 0, reference.stderr
    expected = json.loads(reference.stdout)

    project = compiled.parent
    store, root = project / "shared" / "store.db", project / "shared" / "artifacts"
    store.parent.mkdir()
    made = shipyard(
        project,
        "compile",
        "penguins/pipeline.py",
        "--target",
        "kubeflow",
        "-o",
        "penguins.yaml",
        "--store",
        f"sqlite:///{store}",
        "--artifact-root",
        str(root),
        "--allow-local",
    )
    assert made.returncode == 0, made.stderr
    spec = yaml.safe_load((project / "penguins.yaml").read_text())
    _run_job(project, spec, "job-1")

    shown = shipyard(project, "runs", "show", "job-1", "--json", "--store", f"sqlite:///{store}")
    assert shown.returncode == 0, shown.stderr
    run = json.loads(shown.stdout)
    assert run["state"] == "complete"
    assert run["properties"]["engine"] == "kubeflow"
    assert {node["state"] for node in run["nodes"].values()} == {"complete"}
    assert _fingerprints(run) == _fingerprints(expected)
    assert len(_fingerprints(run)) == 6  # schema, examples, statistics, anomalies, transform x2
    metrics = run["outcome"]["metrics"]
    assert metrics["evaluate"] == pytest.approx(
        expected["outcome"]["metrics"]["evaluate"], abs=0.02
    )

    _run_job(project, spec, "job-2")  # a second job of the same pipeline: all from the cache
    again = json.loads(
        shipyard(project, "runs", "show", "job-2", "--json", "--store", f"sqlite:///{store}").stdout
    )
    assert again["state"] == "complete"
    assert {node["state"] for node in again["nodes"].values()} == {"cached"}
    assert _fingerprints(again) == _fingerprints(run)
