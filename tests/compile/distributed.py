"""A distributed training pipeline compiled for Kubeflow: the project the PyTorchJob tests
compile and launch."""

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

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CLUSTER = KubeflowOptions(
    image="registry.example/shipyard:1",
    store_secret="shipyard-db:dsn",
    artifact_root="s3://bucket/shipyard",
    env={"SHIPYARD_LOG": "info"},
)
PIPELINE = """
from shipyard import Pipeline, Resources
from shipyard.pipelines import tabular_pipeline


def penguins(source: str = "data/penguins.csv", workers: int = {workers}) -> Pipeline:
    pipeline = tabular_pipeline(
        "penguins",
        source,
        schema="schema.yaml",
        estimator="dnn",
        train_options={{"workers": workers, "epochs": 3}},
    )
    pipeline["train"].with_options(resources={resources})
    return pipeline
"""


def compile_distributed(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    workers: int = 4,
    resources: str = 'Resources(cpus=2, memory="4GiB")',
    options: KubeflowOptions = CLUSTER,
) -> tuple[dict[str, Any], list[Any]]:
    """Compile the penguins example with `workers` and the train node's `resources` (in
    `tmp_path/penguins`, the working directory after); return the pipeline spec and all
    documents, each parsed by KFP's spec package."""
    project = shutil.copytree(EXAMPLES / "penguins", tmp_path / "penguins")
    (project / "distributed.py").write_text(PIPELINE.format(workers=workers, resources=resources))
    monkeypatch.chdir(project)
    text = to_yaml(*compile_kubeflow("distributed.py", options=options))
    documents = list(yaml.safe_load_all(text))
    json_format.ParseDict(documents[0], pipeline_spec_pb2.PipelineSpec())  # KFP parses it
    if len(documents) > 1:
        json_format.ParseDict(documents[1], pipeline_spec_pb2.PlatformSpec())
    return documents[0], documents


def launcher(spec: dict[str, Any], node: str = "train") -> tuple[dict[str, Any], list[str]]:
    """The compiled manifest of `node`'s task and the launcher's own arguments after it."""
    args = spec["deploymentSpec"]["executors"][f"exec-{node}"]["container"]["args"]
    assert args[:2] == ["execute-node", "--pytorchjob"]
    return json.loads(args[2]), args[3:]
