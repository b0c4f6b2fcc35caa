"""A training node with `workers` > 1 compiles to a launcher task whose `--pytorchjob` is the
Kubeflow Training Operator `PyTorchJob` of its ranks: Master and Worker replicas of the
pipeline's image running torchrun around `execute-node`, with the node's resources."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from shipyard.compile import KubeflowOptions
from shipyard.compile.pytorchjob import job_name
from shipyard.errors import InvalidParameterError
from tests.compile.distributed import CLUSTER, compile_distributed, launcher

if TYPE_CHECKING:
    from pathlib import Path


def test_the_train_node_becomes_a_pytorchjob_of_its_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, documents = compile_distributed(tmp_path, monkeypatch)
    container = spec["deploymentSpec"]["executors"]["exec-train"]["container"]
    assert container["image"] == CLUSTER.image and container["command"] == ["shipyard"]
    assert "resources" not in container  # the launcher is a light pod; the ranks get them
    job, node_args = launcher(spec)
    assert node_args[:5] == ["--pipeline", "distributed.py", "--node", "train", "--run-id"]
    assert "workers={{$.inputs.parameters['workers']}}" in node_args  # resolved by KFP
    assert node_args[node_args.index("--artifact-root") + 1] == CLUSTER.artifact_root

    assert job["apiVersion"] == "kubeflow.org/v1" and job["kind"] == "PyTorchJob"
    assert job["metadata"]["labels"]["shipyard.dev/node"] == "train"
    assert "name" not in job["metadata"]  # the launcher names it after the run
    assert job["spec"]["nprocPerNode"] == "1"
    assert job["spec"]["runPolicy"] == {
        "backoffLimit": 0,
        "cleanPodPolicy": "Running",
        "ttlSecondsAfterFinished": 3600,
    }
    replicas = job["spec"]["pytorchReplicaSpecs"]
    assert sorted(replicas) == ["Master", "Worker"]
    assert replicas["Master"]["replicas"] == 1 and replicas["Worker"]["replicas"] == 3
    for replica in replicas.values():
        assert replica["restartPolicy"] == "Never"
        assert replica["template"]["metadata"] == {
            "annotations": {"sidecar.istio.io/inject": "false"}
        }
        (rank,) = replica["template"]["spec"]["containers"]
        assert rank["name"] == "pytorch" and rank["image"] == CLUSTER.image
        assert rank["command"] == ["torchrun"]
        assert rank["args"] == [
            *("--nnodes", "4", "--nproc-per-node", "1", "--node-rank", "$(RANK)"),
            *("--master-addr", "$(MASTER_ADDR)", "--master-port", "$(MASTER_PORT)"),
            *("-m", "--", "shipyard", "execute-node"),
        ]
        assert rank["ports"] == [{"name": "pytorchjob-port", "containerPort": 23456}]
        assert rank["resources"] == {
            "requests": {"cpu": "2", "memory": "4Gi"},
            "limits": {"cpu": "2", "memory": "4Gi"},
        }
        assert rank["env"] == [
            {"name": "SHIPYARD_LOG", "value": "info"},
            {
                "name": "SHIPYARD_STORE",
                "valueFrom": {"secretKeyRef": {"name": "shipyard-db", "key": "dsn"}},
            },
        ]
    # The other nodes stay plain tasks; the launcher gets the store secret as they do.
    ingest = spec["deploymentSpec"]["executors"]["exec-ingest"]["container"]
    assert ingest["args"][:2] == ["execute-node", "--pipeline"]
    executors = documents[1]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    assert "exec-train" in executors and "exec-ingest" in executors


def test_gpus_put_one_rank_per_gpu_in_each_pod(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, _ = compile_distributed(
        tmp_path, monkeypatch, resources='Resources(gpus=2, memory="16GiB")'
    )
    job, _ = launcher(spec)
    assert job["spec"]["nprocPerNode"] == "2"
    replicas = job["spec"]["pytorchReplicaSpecs"]
    assert replicas["Master"]["replicas"] == 1 and replicas["Worker"]["replicas"] == 1
    (rank,) = replicas["Worker"]["template"]["spec"]["containers"]
    assert rank["args"][:4] == ["--nnodes", "2", "--nproc-per-node", "2"]
    assert rank["resources"]["limits"] == {"memory": "16Gi", "nvidia.com/gpu": "2"}


def test_one_pod_of_all_the_gpus_is_a_master_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, _ = compile_distributed(tmp_path, monkeypatch, resources="Resources(gpus=4)", workers=4)
    job, _ = launcher(spec)
    assert list(job["spec"]["pytorchReplicaSpecs"]) == ["Master"]
    assert job["spec"]["nprocPerNode"] == "4"


def test_workers_that_do_not_fill_the_gpus_of_whole_pods_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(InvalidParameterError, match=r"workers=3 .*Resources\(gpus=2\)"):
        compile_distributed(tmp_path, monkeypatch, resources="Resources(gpus=2)", workers=3)


def test_one_worker_or_no_pytorchjob_keeps_the_plain_task(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, _ = compile_distributed(tmp_path, monkeypatch, workers=1)
    args = spec["deploymentSpec"]["executors"]["exec-train"]["container"]["args"]
    assert "--pytorchjob" not in args
    spec, _ = compile_distributed(
        tmp_path / "again",
        monkeypatch,
        options=KubeflowOptions(store="postgresql://db/s", pytorchjob=False),
    )
    container = spec["deploymentSpec"]["executors"]["exec-train"]["container"]
    assert "--pytorchjob" not in container["args"]
    assert container["resources"]["resourceCpuLimit"] == "2"  # workers inside one pod


def test_job_names_are_per_run_and_fit_the_operators_pod_names() -> None:
    first = job_name("train", "3f1c2a9e-0d7b-4c55-9a51-1e0f3b2d6c44")
    assert first == job_name("train", "3f1c2a9e-0d7b-4c55-9a51-1e0f3b2d6c44")  # a retry
    assert first != job_name("train", "another-job")
    assert first.startswith("train-")
    long = job_name("Train_The_Very_Long_Model_Name_" * 4, "r")
    assert len(f"{long}-worker-127") <= 63 and long[0].isalnum() and long[-1].isalnum()
    # The operator's webhook wants a DNS-1035 label: a letter first, even for `2nd_model`.
    for task in ("2nd_model", "_", "Train"):
        assert re.fullmatch(r"[a-z]([-a-z0-9]*[a-z0-9])?", job_name(task, "r")), task
