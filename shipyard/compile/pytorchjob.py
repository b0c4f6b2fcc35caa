"""A distributed training node of a compiled pipeline as a Kubeflow Training Operator
`PyTorchJob` (`kubeflow.org/v1`).

A node whose `workers` parameter is above 1 (`train(..., workers=N)`) compiles to a launcher
task: `shipyard execute-node --pytorchjob MANIFEST --pipeline FILE --node NAME --run-id ID
...`. The manifest, written here at compile time, is the PyTorchJob of the node's ranks: a
`Master` replica and `replicas - 1` `Worker` replicas of the same image, each running

    torchrun --nnodes R --nproc-per-node P --node-rank $(RANK)
             --master-addr $(MASTER_ADDR) --master-port $(MASTER_PORT)
             -m -- shipyard execute-node

to which the launcher appends its own arguments (`--pipeline ... --run-id ...`, as the KFP
backend resolved them: no job parameter is ever pasted into JSON). `RANK`, `MASTER_ADDR` and
`MASTER_PORT` are what the operator sets in every replica (its pod's rank, the Master's
service, the `pytorchjob-port`); Kubernetes expands `$(NAME)` in a container's arguments.
torchrun then gives each process the `torch.distributed` environment, and `execute-node`
runs as a rank (`shipyard.runners.ranks`). The node's `Resources` are each replica's.

The layout: `Resources(gpus=G)` with G >= 1 puts G ranks in each pod (one per GPU) and
`N / G` pods; otherwise one rank per pod and N pods. The launcher (`pytorchjob_launch`)
creates the job, waits for its `Succeeded` or `Failed` condition and exits with it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from shipyard.errors import InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from shipyard.dsl import Node
    from shipyard.dsl.resources import Resources

API_VERSION: Final = "kubeflow.org/v1"
KIND: Final = "PyTorchJob"
CONTAINER: Final = "pytorch"
"""The container name the operator looks for (its port, its environment)."""
PORT_NAME: Final = "pytorchjob-port"
PORT: Final = 23456
"""The operator's default rendezvous port: the Master's service and `MASTER_PORT`."""
TTL_S: Final = 3600
"""How long the operator keeps a finished job (and its failed pods' logs) before deleting it."""
WORKERS_PARAMETER: Final = "workers"
GPU: Final = "nvidia.com/gpu"
_NAME = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Layout:
    """How the ranks of a node spread over pods.

    Attributes:
        replicas: Pods: one Master and `replicas - 1` Workers.
        per_pod: Ranks in each pod (torchrun's `--nproc-per-node`).
    """

    replicas: int
    per_pod: int

    @property
    def world_size(self) -> int:
        """Ranks in all: `train(workers=N)`'s N."""
        return self.replicas * self.per_pod


def layout(node: Node) -> Layout | None:
    """The pods of `node`'s ranks, or None when the node trains in one process.

    Raises:
        InvalidParameterError: `workers` is not a multiple of the GPUs each pod gets.
    """
    workers = node.parameters.get(WORKERS_PARAMETER)
    if not isinstance(workers, int) or isinstance(workers, bool) or workers <= 1:
        return None
    gpus = node.resources.gpus if node.resources is not None else None
    per_pod = int(gpus) if gpus is not None and gpus >= 1 and gpus == int(gpus) else 1
    if workers % per_pod:
        raise InvalidParameterError(
            f"node {node.name!r}: workers={workers} ranks cannot fill pods of "
            f"Resources(gpus={per_pod}) (one rank per GPU); give workers a multiple of "
            f"{per_pod}, or gpus that divide {workers}."
        )
    return Layout(replicas=workers // per_pod, per_pod=per_pod)


def manifest(
    node: Node,
    shape: Layout,
    *,
    image: str,
    pipeline: str,
    env: Mapping[str, str],
    store_secret: tuple[str, str] | None,
) -> dict[str, Any]:
    """The `PyTorchJob` of `node`'s ranks (its name is the launcher's to give).

    Args:
        node: The training node.
        shape: Its pods and ranks per pod (`layout`).
        image: The image of every replica (the pipeline's).
        pipeline: The pipeline's name, a label of the job.
        env: More environment variables of every replica.
        store_secret: The secret (name, key) whose value is `SHIPYARD_STORE`, or None.

    Returns:
        The manifest as a dict; the ranks' arguments end at `execute-node`.
    """
    container: dict[str, Any] = {
        "name": CONTAINER,
        "image": image,
        "command": ["torchrun"],
        "args": [
            *("--nnodes", str(shape.replicas), "--nproc-per-node", str(shape.per_pod)),
            *("--node-rank", "$(RANK)", "--master-addr", "$(MASTER_ADDR)"),
            *("--master-port", "$(MASTER_PORT)"),
            # `--` ends torchrun's options: its `--node-rank` would take `--node` for itself.
            *("-m", "--", "shipyard", "execute-node"),
        ],
        "ports": [{"name": PORT_NAME, "containerPort": PORT}],
    }
    if node.resources is not None:
        container["resources"] = pod_resources(node.name, node.resources)
    variables: list[dict[str, Any]] = [{"name": k, "value": v} for k, v in sorted(env.items())]
    if store_secret is not None:
        name, key = store_secret
        variables.append(
            {"name": "SHIPYARD_STORE", "valueFrom": {"secretKeyRef": {"name": name, "key": key}}}
        )
    if variables:
        container["env"] = variables

    def replica(count: int) -> dict[str, Any]:
        # Never: a rank that died cannot rejoin torchrun's static group; the job fails and
        # the KFP task's retry (if any) starts a new job.
        return {
            "replicas": count,
            "restartPolicy": "Never",
            "template": {
                # An Istio sidecar (Kubeflow's profile namespaces inject one) would keep a
                # finished rank's pod running and get in the way of the ranks' group.
                "metadata": {"annotations": {"sidecar.istio.io/inject": "false"}},
                "spec": {"containers": [json.loads(json.dumps(container))]},
            },
        }

    replicas = {"Master": replica(1)}
    if shape.replicas > 1:
        replicas["Worker"] = replica(shape.replicas - 1)
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {
            "labels": {
                "app.kubernetes.io/managed-by": "shipyard",
                "shipyard.dev/pipeline": _label(pipeline),
                "shipyard.dev/node": _label(node.name),
            }
        },
        "spec": {
            "nprocPerNode": str(shape.per_pod),
            "runPolicy": {
                "backoffLimit": 0,
                "cleanPodPolicy": "Running",  # finished pods stay, with their logs
                "ttlSecondsAfterFinished": TTL_S,
            },
            "pytorchReplicaSpecs": replicas,
        },
    }


def pod_resources(node: str, resources: Resources) -> dict[str, Any]:
    """A node's `Resources` as a Kubernetes container's `requests` and `limits`.

    Raises:
        InvalidParameterError: A fraction of a GPU, which Kubernetes cannot request.
    """
    from shipyard.compile.kubeflow import container_resources, quantity

    container_resources(node, resources)  # the same checks as the other tasks'
    amounts: dict[str, str] = {}
    if resources.cpus is not None:
        amounts["cpu"] = f"{resources.cpus:g}"
    if resources.memory_bytes is not None:
        amounts["memory"] = quantity(resources.memory_bytes)
    if resources.gpus:
        amounts[GPU] = str(int(resources.gpus))
    return {"requests": dict(amounts), "limits": dict(amounts)} if amounts else {}


def job_name(task: str, run_id: str) -> str:
    """The job's name for the node's task `task` in run `run_id`: the same on a retried
    launcher (which then finds its job), short enough for the operator's pod and service
    names (`NAME-worker-12`, at most 63 characters) and a DNS-1035 label (a letter first),
    as the operator's webhook requires."""
    digest = hashlib.sha256(f"{task}\0{run_id}".encode()).hexdigest()[:10]
    stem = _label(task)
    stem = stem if stem[0].isalpha() else f"job-{stem}"
    return f"{stem[:36].rstrip('-')}-{digest}"


def _label(text: str) -> str:
    """`text` as a Kubernetes label value / name part: lower case, dashes, 63 at most."""
    return _NAME.sub("-", text.lower()).strip("-")[:63].strip("-") or "node"
