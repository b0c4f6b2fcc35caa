"""`PyTorchJobServer`: the Kubernetes API server users' tests launch PyTorchJobs against
refuses what the real API server and the Training Operator's webhook would refuse."""

from __future__ import annotations

from typing import Any

import pytest

from shipyard.compile.kube_api import KubeApi
from shipyard.testing.kubernetes import PyTorchJobServer

JOBS = "/apis/kubeflow.org/v1/namespaces/ml/pytorchjobs"


def job(name: str = "train-1", **spec: Any) -> dict[str, Any]:
    container = {"name": "pytorch", "image": "img"}
    template = {"spec": {"containers": [container]}}
    return {
        "apiVersion": "kubeflow.org/v1",
        "kind": "PyTorchJob",
        "metadata": {"name": name},
        "spec": {
            "nprocPerNode": "1",
            "pytorchReplicaSpecs": {"Master": {"replicas": 1, "template": template}},
            **spec,
        },
    }


@pytest.fixture
def api() -> Any:
    with PyTorchJobServer(namespace="ml") as server:
        yield KubeApi(server=server.url, namespace="ml")


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (job(nprocPerNode=2), "spec.nprocPerNode: Invalid value: must be a string"),
        (job("2nd-train"), "metadata.name '2nd-train': not a DNS-1035 label"),
        (job("x" * 64), "not a DNS-1035 label"),
        (job(pytorchReplicaSpecs={"Chief": {"replicas": 1}}), "['Chief']: Master and Worker only"),
        (job(pytorchReplicaSpecs={"Master": {"replicas": 2}}), "[Master].replicas: Forbidden"),
        (
            job(pytorchReplicaSpecs={"Master": {"replicas": 1}}),
            "Master: no container named pytorch",
        ),
    ],
)
def test_what_the_operator_refuses_is_invalid(
    api: KubeApi, body: dict[str, Any], problem: str
) -> None:
    code, answer = api.request("POST", JOBS, body)
    assert code == 422 and answer["kind"] == "Status" and answer["reason"] == "Invalid"
    assert problem in answer["message"]


def test_jobs_are_created_read_listed_and_deleted(api: KubeApi) -> None:
    assert api.request("POST", JOBS, job())[0] == 201
    code, answer = api.request("POST", JOBS, job())
    assert (code, answer["reason"]) == (409, "AlreadyExists")
    code, found = api.request("GET", f"{JOBS}/train-1")
    assert code == 200 and found["status"]["conditions"][0]["type"] == "Created"
    assert [item["metadata"]["name"] for item in api.request("GET", JOBS)[1]["items"]] == [
        "train-1"
    ]
    assert api.request("DELETE", f"{JOBS}/train-1")[0] == 200
    code, answer = api.request("GET", f"{JOBS}/train-1")
    assert (code, answer["reason"]) == (404, "NotFound")
    assert api.request("GET", "/apis/kubeflow.org/v1/pytorchjobs/x")[0] == 404


def test_conditions_advance_one_per_read_and_running_ends_with_the_job() -> None:
    with PyTorchJobServer(namespace="ml", message="all ranks exited 0") as server:
        api = KubeApi(server=server.url, namespace="ml")
        api.request("POST", JOBS, job())
        seen = [api.request("GET", f"{JOBS}/train-1")[1]["status"]["conditions"] for _ in range(4)]
    assert [len(each) for each in seen] == [1, 2, 3, 3]
    final = {each["type"]: each for each in seen[-1]}
    assert final["Running"]["status"] == "False" and final["Succeeded"]["status"] == "True"
    assert final["Succeeded"]["message"] == "all ranks exited 0"
