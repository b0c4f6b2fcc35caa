"""`shipyard compile --target kubeflow`, run as a KFP backend would: each task's command line
from the YAML, in the DAG's order, with the placeholders substituted (the job's id, its
parameters). For every example, the run gives the artifacts and metrics of `shipyard run` of
the same pipeline, and a second job of the compiled pipeline comes from the cache."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from shipyard.compile.kubeflow import FINISH_TASK, NODES_TASK
from tests.cli.command import shipyard

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MODEL_NODES = ("train", "evaluate", "push")
"""Nodes whose outputs name the run they were made in (model card, training log)."""
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


def _command(
    spec: dict[str, Any], dag: dict[str, Any], task: str, job_id: str, job: dict[str, Any]
) -> list[str]:
    """The container's command line of `task` of `dag`, with KFP's placeholders resolved."""
    entry = dag["tasks"][task]
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
    nodes = spec["components"][f"comp-{NODES_TASK}"]["dag"]
    for task in _order(nodes["tasks"]):
        done = shipyard(project, *_command(spec, nodes, task, job_id, job))
        if done.returncode != 0:  # the backend starts nothing downstream of a failed task
            logs.append(done.stderr)
            break
        logs.append(done.stderr)
    finish = _command(spec, spec["root"]["dag"], FINISH_TASK, job_id, job)  # runs regardless
    done = shipyard(project, *finish)
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
        if name not in MODEL_NODES
        for port, artifact in node["outputs"].items()
    }


@pytest.mark.slow
@pytest.mark.parametrize("example", ["penguins", "taxi", "census"])
def test_a_compiled_example_runs_task_by_task_like_shipyard_run(
    tmp_path: Path, example: str
) -> None:
    local, compiled = (
        shutil.copytree(
            EXAMPLES / example,
            tmp_path / side / example,
            ignore=shutil.ignore_patterns("models", ".*"),
        )
        for side in ("local", "kfp")
    )
    pipeline = f"{example}/pipeline.py"
    reference = shipyard(local.parent, "run", pipeline, "--json")
    assert reference.returncode == 0, reference.stderr
    expected = json.loads(reference.stdout)

    project = compiled.parent
    store, root = project / "shared" / "store.db", project / "shared" / "artifacts"
    store.parent.mkdir()
    made = shipyard(
        project,
        "compile",
        pipeline,
        "--target",
        "kubeflow",
        "-o",
        "compiled.yaml",
        "--store",
        f"sqlite:///{store}",
        "--artifact-root",
        str(root),
        "--allow-local",
    )
    assert made.returncode == 0, made.stderr
    spec = yaml.safe_load((project / "compiled.yaml").read_text())
    _run_job(project, spec, "job-1")

    shown = shipyard(project, "runs", "show", "job-1", "--json", "--store", f"sqlite:///{store}")
    assert shown.returncode == 0, shown.stderr
    run = json.loads(shown.stdout)
    assert run["state"] == "complete"
    assert run["properties"]["engine"] == "kubeflow"
    assert {node["state"] for node in run["nodes"].values()} == {"complete"}
    assert set(run["nodes"]) == set(expected["nodes"])
    # ingest, statistics, schema, anomalies and the transform's outputs: the same bytes
    assert len(_fingerprints(run)) >= 6
    assert _fingerprints(run) == _fingerprints(expected)
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


FAILING_PIPELINE = """
from shipyard import Out, Pipeline, component
from shipyard.artifacts import Metrics


@component
def make(out: Out[Metrics], *, value: float = 1.0) -> None:
    out.save({"v": value})


@component
def boom(inp: Metrics, out: Out[Metrics]) -> None:
    raise ValueError("boom")


@component
def after(inp: Metrics, out: Out[Metrics]) -> None:
    out.save(inp.load())


def failing(value: float = 2.0) -> Pipeline:
    made = make(value=value)
    broken = boom(inp=made.outputs.out)
    return Pipeline("failing", nodes=[made, broken, after(inp=broken.outputs.out)])
"""


def test_the_exit_handler_ends_a_job_whose_task_failed(tmp_path: Path) -> None:
    (tmp_path / "failing.py").write_text(FAILING_PIPELINE)
    store = f"sqlite:///{tmp_path / 'store.db'}"
    made = shipyard(
        tmp_path,
        *("compile", "failing.py", "--target", "kubeflow", "-o", "failing.yaml"),
        *("--store", store, "--artifact-root", str(tmp_path / "artifacts"), "--allow-local"),
    )
    assert made.returncode == 0, made.stderr
    logs = _run_job(tmp_path, yaml.safe_load((tmp_path / "failing.yaml").read_text()), "job-9")
    assert len(logs) == 3  # make, boom (failed: `after` never starts), the exit handler
    assert "ValueError: boom" in logs[1]
    assert "run job-9 of pipeline failing: failed" in logs[2]
    shown = shipyard(tmp_path, "runs", "show", "job-9", "--json", "--store", store)
    run = json.loads(shown.stdout)
    assert run["state"] == "failed"
    states = {name: node["state"] for name, node in run["nodes"].items()}
    assert states == {"make": "complete", "boom": "failed", "after": "skipped"}


def test_training_workers_compile_to_a_pytorchjob_unless_no_pytorchjob(tmp_path: Path) -> None:
    project = shutil.copytree(EXAMPLES / "penguins", tmp_path / "penguins")
    (project / "distributed.py").write_text(DISTRIBUTED)
    cluster = ("--store", "postgresql://db/shipyard", "--artifact-root", "s3://bucket/shipyard")

    def train_args(*flags: str) -> list[str]:
        made = shipyard(project, "compile", "distributed.py", *cluster, *flags)
        assert made.returncode == 0, made.stderr
        spec = yaml.safe_load(made.stdout)
        return spec["deploymentSpec"]["executors"]["exec-train"]["container"]["args"]

    default = train_args("--image", "registry.example/shipyard:2")
    assert default[:2] == ["execute-node", "--pytorchjob"]
    job = json.loads(default[2])
    assert job["kind"] == "PyTorchJob" and job["spec"]["nprocPerNode"] == "1"
    assert job["spec"]["pytorchReplicaSpecs"]["Worker"]["replicas"] == 2
    master = job["spec"]["pytorchReplicaSpecs"]["Master"]["template"]["spec"]["containers"][0]
    assert master["image"] == "registry.example/shipyard:2"
    assert train_args("--image", "registry.example/shipyard:2", "--pytorchjob") == default
    inside = train_args("--image", "registry.example/shipyard:2", "--no-pytorchjob")
    assert "--pytorchjob" not in inside and inside[:2] == ["execute-node", "--pipeline"]
    assert "workers={{$.inputs.parameters['workers']}}" in inside
    refused = shipyard(
        project, "compile", "distributed.py", *cluster, "-p", "workers=3", "-p", "gpus=2"
    )
    assert refused.returncode == 1
    assert "workers=3 ranks cannot fill pods of Resources(gpus=2)" in " ".join(
        refused.stderr.split()
    )


DISTRIBUTED = """
from shipyard import Pipeline, Resources
from shipyard.pipelines import tabular_pipeline


def penguins(workers: int = 3, gpus: int = 0) -> Pipeline:
    pipeline = tabular_pipeline(
        "penguins", "data/penguins.csv", schema="schema.yaml", estimator="dnn",
        train_options={"workers": workers, "epochs": 1},
    )
    pipeline["train"].with_options(resources=Resources(gpus=gpus or None, memory="2GiB"))
    return pipeline
"""
