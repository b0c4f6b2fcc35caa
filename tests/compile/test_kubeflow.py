"""`compile_kubeflow`: every example compiles to a KFP v2 PipelineSpec the spec package parses,
with one task per node, the DAG's dependencies, typed job parameters and node resources."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

from shipyard.compile import KubeflowOptions, compile_kubeflow, to_yaml
from shipyard.compile.kubeflow import (
    FINISH_TASK,
    NODES_TASK,
    RUN_ID_INPUT,
    RUN_ID_PLACEHOLDER,
    task_keys,
)
from shipyard.dsl import load_pipeline
from shipyard.errors import InvalidParameterError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CLUSTER = KubeflowOptions(
    image="registry.example/shipyard:1",
    store="postgresql://shipyard@db/shipyard",
    artifact_root="s3://bucket/shipyard",
)
PIPELINE_FILES = sorted(p for p in EXAMPLES.glob("*/*.py") if "-> Pipeline:" in p.read_text())
RESOURCES_PIPELINE = '''
from shipyard import Out, Pipeline, Resources, component
from shipyard.artifacts import Examples, Model


@component(resources=Resources(cpus=2, memory="4GiB"))
def make(examples: Out[Examples], *, rows: int = 10) -> None:
    """Make rows."""


@component
def fit(examples: Examples, model: Out[Model], *, rate: float = 0.1) -> None:
    """Fit."""


def small(
    rows: int = 10, rate: float = 0.5, tags: list[str] | None = None, fast: bool = True
) -> Pipeline:
    made = make(rows=rows)
    fitted = fit(examples=made.outputs.examples, rate=rate).with_options(
        resources=Resources(cpus=0.5, gpus=1, memory=1536 * 1024**2)
    )
    return Pipeline("small_pipeline", nodes=[made, fitted])
'''


def _parse(text: str) -> tuple[pipeline_spec_pb2.PipelineSpec, list[Any]]:
    documents = list(yaml.safe_load_all(text))
    spec = json_format.ParseDict(documents[0], pipeline_spec_pb2.PipelineSpec())
    return spec, documents


@pytest.mark.parametrize("path", PIPELINE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_example_compiles_to_a_pipeline_spec_with_a_task_per_node(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = shutil.copytree(path.parent, tmp_path / path.parent.name)
    monkeypatch.chdir(tmp_path)
    file = project / path.name
    spec, documents = _parse(to_yaml(*compile_kubeflow(file, options=CLUSTER)))
    pipeline = load_pipeline(file)
    keys = task_keys(pipeline)
    assert sorted(spec.root.dag.tasks) == sorted([NODES_TASK, FINISH_TASK])
    tasks = spec.components[f"comp-{NODES_TASK}"].dag.tasks
    assert sorted(tasks) == sorted(keys.values())
    assert len(documents) == 1  # no platform spec without --store-secret
    for node in pipeline.nodes:
        task = tasks[keys[node.name]]
        assert task.task_info.name == node.name
        assert sorted(task.dependent_tasks) == sorted(keys[up.name] for up in node.upstream)
        assert not task.caching_options.enable_cache  # Shipyard's cache decides
        run_id = task.inputs.parameters[RUN_ID_INPUT].runtime_value.constant
        assert run_id.string_value == RUN_ID_PLACEHOLDER
        executor = spec.deployment_spec["executors"][f"exec-{keys[node.name]}"]
        container = executor["container"]
        assert container["image"] == CLUSTER.image
        args = list(container["args"])
        assert args[:5] == [
            "execute-node",
            "--pipeline",
            f"{path.parent.name}/{path.name}",
            "--node",
            node.name,
        ]
        assert args[args.index("--store") + 1] == CLUSTER.store
        assert args[args.index("--artifact-root") + 1] == CLUSTER.artifact_root
        for name, value in pipeline.parameters.items():
            given = f"{name}={{{{$.inputs.parameters['{name}']}}}}"
            if value is None:  # passed only when the job gives it
                then = {"IfPresent": {"InputName": name, "Then": ["--param", given]}}
                assert json.dumps(then) in args
            else:
                assert given in args
            assert task.inputs.parameters[name].component_input_parameter == name
    defined = spec.root.input_definitions.parameters
    assert sorted(defined) == sorted(pipeline.parameters)
    for name, value in pipeline.parameters.items():
        assert defined[name].is_optional
        if value is not None:
            assert json_format.MessageToDict(defined[name].default_value) == value
        else:
            assert not defined[name].HasField("default_value")


def test_resources_parameters_and_types(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "small.py").write_text(RESOURCES_PIPELINE)
    monkeypatch.chdir(tmp_path)
    spec, documents = _parse(
        to_yaml(
            *compile_kubeflow(
                "small.py",
                params={"rows": 7, "tags": ["a", "b"]},
                options=KubeflowOptions(store_secret="shipyard-db:dsn"),
            )
        )
    )
    assert spec.pipeline_info.name == "small-pipeline"
    defined = spec.root.input_definitions.parameters
    kinds = {
        name: pipeline_spec_pb2.ParameterType.ParameterTypeEnum.Name(p.parameter_type)
        for name, p in defined.items()
    }
    assert kinds == {
        "rows": "NUMBER_INTEGER",
        "rate": "NUMBER_DOUBLE",
        "tags": "LIST",
        "fast": "BOOLEAN",
    }
    assert defined["rows"].default_value.number_value == 7  # --param sets the default
    assert defined["rate"].default_value.number_value == 0.5
    assert json_format.MessageToDict(defined["tags"].default_value) == ["a", "b"]
    executors = json_format.MessageToDict(spec.deployment_spec)["executors"]
    assert executors["exec-make"]["container"]["resources"] == {
        "resourceCpuRequest": "2",
        "resourceCpuLimit": "2",
        "resourceMemoryRequest": "4Gi",
        "resourceMemoryLimit": "4Gi",
    }
    assert executors["exec-fit"]["container"]["resources"] == {
        "resourceCpuRequest": "0.5",
        "resourceCpuLimit": "0.5",
        "resourceMemoryRequest": "1536Mi",
        "resourceMemoryLimit": "1536Mi",
        "accelerator": {"resourceType": "nvidia.com/gpu", "resourceCount": "1"},
    }
    assert list(spec.components[f"comp-{NODES_TASK}"].dag.tasks["fit"].dependent_tasks) == ["make"]
    assert "--store" not in executors["exec-fit"]["container"]["args"]
    platform = json_format.ParseDict(documents[1], pipeline_spec_pb2.PlatformSpec())
    kubernetes = json_format.MessageToDict(platform.platforms["kubernetes"])
    secret = kubernetes["deploymentSpec"]["executors"]["exec-fit"]["secretAsEnv"][0]
    assert secret == {
        "secretName": "shipyard-db",
        "keyToEnv": [{"secretKey": "dsn", "envVar": "SHIPYARD_STORE"}],
    }


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (KubeflowOptions(store="sqlite:///x.db"), "--store sqlite:///x.db: a SQLite file"),
        (KubeflowOptions(artifact_root="/data/art"), "--artifact-root /data/art: a local"),
        (KubeflowOptions(store="postgresql://h/d", store_secret="s"), "give one"),
        (KubeflowOptions(store_secret=":key"), "give NAME or NAME:KEY"),
    ],
)
def test_options_a_cluster_cannot_use_are_refused(
    options: KubeflowOptions, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "small.py").write_text(RESOURCES_PIPELINE)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidParameterError, match=message):
        compile_kubeflow("small.py", options=options)


def test_a_fraction_of_a_gpu_and_a_file_outside_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "small.py").write_text(RESOURCES_PIPELINE.replace("gpus=1", "gpus=0.5"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidParameterError, match=r"node 'fit': Resources\(gpus=0.5\)"):
        compile_kubeflow("small.py")
    elsewhere = tmp_path / "sub"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    with pytest.raises(InvalidParameterError, match="outside the current directory"):
        compile_kubeflow(tmp_path / "small.py", params={})


def test_an_exit_handler_finishes_the_run_after_the_nodes_however_they_ended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "small.py").write_text(RESOURCES_PIPELINE)
    monkeypatch.chdir(tmp_path)
    spec, _ = _parse(to_yaml(*compile_kubeflow("small.py", options=CLUSTER)))
    body = spec.root.dag.tasks[NODES_TASK]
    assert body.component_ref.name == f"comp-{NODES_TASK}"
    assert {name: p.component_input_parameter for name, p in body.inputs.parameters.items()} == {
        name: name for name in ("rows", "rate", "tags", "fast")
    }
    assert sorted(spec.components[f"comp-{NODES_TASK}"].input_definitions.parameters) == sorted(
        spec.root.input_definitions.parameters
    )
    finish = spec.root.dag.tasks[FINISH_TASK]
    assert list(finish.dependent_tasks) == [NODES_TASK]
    strategy = pipeline_spec_pb2.PipelineTaskSpec.TriggerPolicy.TriggerStrategy
    assert finish.trigger_policy.strategy == strategy.Value("ALL_UPSTREAM_TASKS_COMPLETED")
    run_id = finish.inputs.parameters[RUN_ID_INPUT].runtime_value.constant.string_value
    assert run_id == RUN_ID_PLACEHOLDER
    container = spec.deployment_spec["executors"][f"exec-{FINISH_TASK}"]["container"]
    args = list(container["args"])
    assert args[:4] == ["execute-node", "--pipeline", "small.py", "--finish-run"]
    assert args[args.index("--run-id") + 1] == f"{{{{$.inputs.parameters['{RUN_ID_INPUT}']}}}}"
    assert args[args.index("--store") + 1] == CLUSTER.store
    assert "--node" not in args and "resources" not in container


def test_a_node_named_like_the_exit_handler_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "small.py").write_text(
        RESOURCES_PIPELINE.replace(
            "rate=rate).with_options(", "rate=rate).with_options(name='shipyard_finish_run', "
        )
    )
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidParameterError, match="'shipyard-finish-run', which the compiled"):
        compile_kubeflow("small.py")
