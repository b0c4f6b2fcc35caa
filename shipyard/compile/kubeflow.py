"""Compile a pipeline to Kubeflow Pipelines: a KFP v2 `PipelineSpec` (IR YAML).

Each node becomes one container task running `shipyard execute-node --pipeline FILE --node
NAME --run-id ID` in the project's image (`shipyard image`): the node executes inside the run
whose id is the pipeline job's (`{{$.pipeline_job_uuid}}`), reading its inputs from the
metadata store and the artifact root every task shares, exactly as `shipyard run` would
(`shipyard.runners.run_node`); an exit handler's task (`execute-node --finish-run`) runs
after them however they ended and finishes the run record. The pipeline function's
parameters are the job's typed input parameters; the DAG's edges are `dependentTasks`; a
node's `Resources` are its container's CPU, memory and accelerator. Kubeflow's own cache is
off: Shipyard's cache key decides what executes again. The IR is built and checked with the
`kfp-pipeline-spec` package (the `kubeflow` extra), never the `kfp` SDK.
"""

from __future__ import annotations

import inspect
import json
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from shipyard._version import __version__
from shipyard.dsl import Pipeline, load_pipeline
from shipyard.dsl.loading import pipeline_definition, type_hints
from shipyard.errors import InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from shipyard.dsl import Node
    from shipyard.dsl.resources import Resources

RUN_ID_PLACEHOLDER: Final = "{{$.pipeline_job_uuid}}"
"""What the KFP backend replaces with the pipeline job's id: the Shipyard run id."""
RUN_ID_INPUT: Final = "shipyard_run_id"
"""The task input that carries the run id into each container's command line."""
DEFAULT_IMAGE: Final = "shipyard-pipeline:latest"
GPU_RESOURCE: Final = "nvidia.com/gpu"
SCHEMA_VERSION: Final = "2.1.0"
NODES_TASK: Final = "shipyard-nodes"
"""The root DAG's task holding every node's task: the exit handler's body."""
FINISH_TASK: Final = "shipyard-finish-run"
"""The root DAG's task that runs after the nodes however they ended: it finishes the run."""

_KFP_TYPES: Final = {
    str: "STRING",
    int: "NUMBER_INTEGER",
    float: "NUMBER_DOUBLE",
    bool: "BOOLEAN",
    list: "LIST",
    tuple: "LIST",
    dict: "STRUCT",
}
_NAME = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class KubeflowOptions:
    """How the compiled tasks reach the image, the store and the artifacts.

    Attributes:
        image: The container image every task runs (`shipyard image` builds it).
        store: The metadata store URL every task shares (PostgreSQL in a cluster); None:
            the tasks read `SHIPYARD_STORE` from their environment (`store_secret`).
        artifact_root: The artifact root every task shares (`s3://`, `gs://`...); None:
            `SHIPYARD_ARTIFACT_ROOT` from the environment.
        store_secret: A Kubernetes secret `NAME` or `NAME:KEY` (key default `url`) whose
            value becomes each task's `SHIPYARD_STORE`, so no password lands in the YAML.
        pipeline_path: The pipeline file's path inside the image, relative to its working
            directory (default: the path given, relative to the current directory).
        allow_local: Accept a SQLite store or a local artifact root (to run the compiled
            tasks on one machine; each pod of a cluster has its own disk).
        env: More environment variables of every task.
        pytorchjob: Run a node with `workers` > 1 as a Kubeflow Training Operator
            `PyTorchJob` of its ranks, which its task launches (False: its workers train
            inside its one pod).
    """

    image: str = DEFAULT_IMAGE
    store: str | None = None
    artifact_root: str | None = None
    store_secret: str | None = None
    pipeline_path: str | None = None
    allow_local: bool = False
    env: Mapping[str, str] = field(default_factory=dict)
    pytorchjob: bool = True


def compile_kubeflow(
    path: str | Path,
    *,
    params: Mapping[str, Any] | None = None,
    pipeline_name: str | None = None,
    options: KubeflowOptions | None = None,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Compile the pipeline of `path` to a KFP `PipelineSpec` and its platform spec.

    Args:
        path: The pipeline file.
        params: Arguments of the pipeline function; they become the job parameters'
            defaults.
        pipeline_name: Which pipeline, when the file defines several.
        options: Image, store and artifact root of the tasks.

    Returns:
        The `PipelineSpec` as a dict (checked by parsing it with `kfp-pipeline-spec`), and
        the Kubernetes `PlatformSpec` (secrets) or None.

    Raises:
        InvalidParameterError: A store or artifact root the tasks cannot share, a parameter
            Kubeflow cannot type, or a resource Kubernetes cannot request.
        PluginNotInstalled: The `kubeflow` extra is missing.
    """
    opts = options or KubeflowOptions()
    _check_shared(opts)
    pipeline = load_pipeline(path, name=pipeline_name, params=params)
    parameters = _parameters(path, pipeline_name, pipeline)
    file = opts.pipeline_path or _relative(Path(path))
    components: dict[str, Any] = {}
    executors: dict[str, Any] = {}
    tasks: dict[str, Any] = {}
    keys = task_keys(pipeline)
    for node in pipeline.nodes:
        key = keys[node.name]
        inputs = {RUN_ID_INPUT: {"parameterType": "STRING"}} | {
            name: {"parameterType": spec["parameterType"]} for name, spec in parameters.items()
        }
        components[f"comp-{key}"] = {
            "executorLabel": f"exec-{key}",
            "inputDefinitions": {"parameters": inputs},
        }
        container = _container(node, file, parameters, pipeline_name, opts)
        executors[f"exec-{key}"] = {"container": _launcher(node, container, pipeline, opts)}
        task: dict[str, Any] = {
            "taskInfo": {"name": node.name},
            "componentRef": {"name": f"comp-{key}"},
            "cachingOptions": {"enableCache": False},
            "inputs": {
                "parameters": {RUN_ID_INPUT: {"runtimeValue": {"constant": RUN_ID_PLACEHOLDER}}}
                | {name: {"componentInputParameter": name} for name in parameters}
            },
        }
        if node.upstream:
            task["dependentTasks"] = sorted(keys[up.name] for up in node.upstream)
        tasks[key] = task
    root_tasks = _exit_handler(tasks, parameters, components, executors, keys)
    executors[f"exec-{FINISH_TASK}"] = {
        "container": _container(None, file, parameters, pipeline_name, opts)
    }
    spec: dict[str, Any] = {
        "pipelineInfo": {"name": _NAME.sub("-", pipeline.name.lower()).strip("-")},
        "sdkVersion": f"shipyard-{__version__}",
        "schemaVersion": SCHEMA_VERSION,
        "deploymentSpec": {"executors": executors},
        "components": components,
        "root": {"dag": {"tasks": root_tasks}},
    }
    if pipeline.description:
        spec["pipelineInfo"]["description"] = pipeline.description
    if parameters:
        spec["root"]["inputDefinitions"] = {"parameters": parameters}
    if opts.artifact_root and "://" in opts.artifact_root:
        spec["defaultPipelineRoot"] = opts.artifact_root
    platform = _platform(list(executors), opts.store_secret)
    _check_parses(spec, platform)
    return spec, platform


def param_args(name: str, optional: bool) -> list[str]:
    """The `--param` of a job parameter; one without a default only when the job gives it.

    `{"IfPresent": ...}` is the KFP v2 placeholder that the launcher expands to its `Then`
    arguments when the input is present, and to nothing otherwise.
    """
    given = ["--param", f"{name}={{{{$.inputs.parameters['{name}']}}}}"]
    if not optional:
        return given
    return [json.dumps({"IfPresent": {"InputName": name, "Then": given}})]


def task_keys(pipeline: Pipeline) -> dict[str, str]:
    """Each node's task name in the DAG: lower case, dashes (`compute_statistics` ->
    `compute-statistics`), as Kubernetes names its pods.

    Raises:
        InvalidParameterError: Two nodes' names give the same task name.
    """
    keys: dict[str, str] = {}
    for node in pipeline.nodes:
        key = _NAME.sub("-", node.name.lower()).strip("-") or "node"
        clash = [name for name, taken in keys.items() if taken == key]
        if clash:
            raise InvalidParameterError(
                f"nodes {clash[0]!r} and {node.name!r} both become the Kubeflow task {key!r}; "
                f"rename one (node.with_options(name=...))."
            )
        keys[node.name] = key
    return keys


def _check_shared(opts: KubeflowOptions) -> None:
    """Refuse a store or artifact root that the pods of a cluster cannot share."""
    if opts.store is not None and opts.store_secret is not None:
        raise InvalidParameterError(
            "--store and --store-secret both give the store; give one (the secret keeps a "
            "password out of the YAML)."
        )
    if opts.allow_local:
        return
    if opts.store is not None and opts.store.startswith("sqlite"):
        raise InvalidParameterError(
            f"--store {opts.store}: a SQLite file in a pod is lost with it, and the tasks of a "
            f"run run in different pods; give a PostgreSQL URL (or --allow-local to run the "
            f"tasks on this machine)."
        )
    root = opts.artifact_root
    if root is not None and ("://" not in root or root.startswith("file://")):
        raise InvalidParameterError(
            f"--artifact-root {root}: a local directory is not shared by the pods of a run; "
            f"give an object store URL such as s3://bucket/shipyard or gs://bucket/shipyard "
            f"(or --allow-local to run the tasks on this machine)."
        )


def _relative(path: Path) -> str:
    """The pipeline file relative to the working directory: where the image has it too."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(Path.cwd()).as_posix()
    except ValueError:
        raise InvalidParameterError(
            f"{path}: the pipeline file is outside the current directory {Path.cwd()}, which "
            f"`shipyard image` copies into the image; compile from the project's directory or "
            f"give --pipeline-path (its path inside the image)."
        ) from None


def _parameters(path: str | Path, pipeline_name: str | None, pipeline: Pipeline) -> dict[str, Any]:
    """The pipeline function's parameters as typed KFP input parameters, with defaults."""
    definition = pipeline_definition(path, name=pipeline_name)
    if isinstance(definition, Pipeline):
        return {}
    function: Callable[..., Pipeline] = definition
    hints = type_hints(function, path)
    found: dict[str, Any] = {}
    for name, param in inspect.signature(function).parameters.items():
        kind = _kfp_type(hints.get(name, str))
        if kind is None:
            raise InvalidParameterError(
                f"{path}: parameter {name!r} of {function.__name__}() is typed "
                f"{hints.get(name)!r}, which a Kubeflow parameter cannot carry; type it str, "
                f"int, float, bool, list or dict."
            )
        value = pipeline.parameters.get(name)
        spec: dict[str, Any] = {"parameterType": kind}
        if value is not None:
            spec["defaultValue"] = list(value) if isinstance(value, tuple) else value
            spec["isOptional"] = True
        elif param.default is not inspect.Parameter.empty:  # None: passed only when given
            spec["isOptional"] = True
        found[name] = spec
    return found


def _kfp_type(annotation: Any) -> str | None:
    """The KFP parameter type of a Python annotation (`X | None` as X), or None."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _kfp_type(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        kinds = {_kfp_type(arg) for arg in typing.get_args(annotation) if arg is not type(None)}
        return kinds.pop() if len(kinds) == 1 else None
    if origin is typing.Literal:
        return _kfp_type(type(typing.get_args(annotation)[0]))
    if annotation is Path:
        return "STRING"
    return _KFP_TYPES.get(origin or annotation)


def _exit_handler(
    tasks: dict[str, Any],
    parameters: Mapping[str, Any],
    components: dict[str, Any],
    executors: Mapping[str, Any],
    keys: Mapping[str, str],
) -> dict[str, Any]:
    """The root DAG: the nodes' tasks inside an exit handler, and the task that finishes
    the run after them however they ended (what `kfp.dsl.ExitHandler` compiles to).

    Raises:
        InvalidParameterError: A node's task name is one of the two of the root DAG.
    """
    taken = sorted({NODES_TASK, FINISH_TASK} & set(keys.values()))
    if taken:
        raise InvalidParameterError(
            f"a node becomes the Kubeflow task {taken[0]!r}, which the compiled pipeline "
            f"uses for itself; rename it (node.with_options(name=...))."
        )
    job_inputs = {name: {"componentInputParameter": name} for name in parameters}
    run_id = {RUN_ID_INPUT: {"runtimeValue": {"constant": RUN_ID_PLACEHOLDER}}}
    nodes: dict[str, Any] = {"dag": {"tasks": tasks}}
    if parameters:
        nodes["inputDefinitions"] = {
            "parameters": {
                name: {"parameterType": spec["parameterType"]} for name, spec in parameters.items()
            }
        }
    components[f"comp-{NODES_TASK}"] = nodes
    components[f"comp-{FINISH_TASK}"] = {
        "executorLabel": f"exec-{FINISH_TASK}",
        "inputDefinitions": {
            "parameters": {RUN_ID_INPUT: {"parameterType": "STRING"}}
            | {name: {"parameterType": spec["parameterType"]} for name, spec in parameters.items()}
        },
    }
    return {
        NODES_TASK: {
            "taskInfo": {"name": NODES_TASK},
            "componentRef": {"name": f"comp-{NODES_TASK}"},
            "inputs": {"parameters": job_inputs},
        },
        FINISH_TASK: {
            "taskInfo": {"name": FINISH_TASK},
            "componentRef": {"name": f"comp-{FINISH_TASK}"},
            "dependentTasks": [NODES_TASK],
            "triggerPolicy": {"strategy": "ALL_UPSTREAM_TASKS_COMPLETED"},
            "cachingOptions": {"enableCache": False},
            "inputs": {"parameters": run_id | job_inputs},
        },
    }


def _container(
    node: Node | None,
    file: str,
    parameters: Mapping[str, Any],
    pipeline_name: str | None,
    opts: KubeflowOptions,
) -> dict[str, Any]:
    """The container of a node's task (or, with no node, of the task finishing the run):
    the image, `shipyard execute-node ...`, resources."""
    args = ["execute-node", "--pipeline", file]
    args += ["--finish-run"] if node is None else ["--node", node.name]
    args += ["--run-id", f"{{{{$.inputs.parameters['{RUN_ID_INPUT}']}}}}"]
    for name, spec in parameters.items():
        args += param_args(name, "defaultValue" not in spec and spec.get("isOptional", False))
    if pipeline_name is not None:
        args += ["--pipeline-name", pipeline_name]
    if opts.store is not None:
        args += ["--store", opts.store]
    if opts.artifact_root is not None:
        args += ["--artifact-root", opts.artifact_root]
    container: dict[str, Any] = {"image": opts.image, "command": ["shipyard"], "args": args}
    if node is not None and node.resources is not None:
        container["resources"] = container_resources(node.name, node.resources)
    if opts.env:
        container["env"] = [{"name": k, "value": v} for k, v in sorted(opts.env.items())]
    return container


def _launcher(
    node: Node, container: dict[str, Any], pipeline: Pipeline, opts: KubeflowOptions
) -> dict[str, Any]:
    """The node's container, or for a node of several workers the launcher of the
    PyTorchJob of its ranks: `execute-node --pytorchjob MANIFEST` and the node's arguments."""
    from shipyard.compile import pytorchjob

    shape = pytorchjob.layout(node) if opts.pytorchjob else None
    if shape is None:
        return container
    secret = _secret(opts.store_secret) if opts.store_secret is not None else None
    job = pytorchjob.manifest(
        node, shape, image=opts.image, pipeline=pipeline.name, env=opts.env, store_secret=secret
    )
    launcher = {k: v for k, v in container.items() if k != "resources"}  # a light pod
    launcher["args"] = [
        "execute-node",
        "--pytorchjob",
        json.dumps(job, sort_keys=True),
        *container["args"][1:],
    ]
    return launcher


def container_resources(node: str, resources: Resources) -> dict[str, Any]:
    """A node's `Resources` as a KFP container's requests and limits.

    Raises:
        InvalidParameterError: A fraction of a GPU, which Kubernetes cannot request.
    """
    found: dict[str, Any] = {}
    if resources.cpus is not None:
        cpus = f"{resources.cpus:g}"
        found |= {"resourceCpuRequest": cpus, "resourceCpuLimit": cpus}
    memory = resources.memory_bytes
    if memory is not None:
        found |= {
            "resourceMemoryRequest": quantity(memory),
            "resourceMemoryLimit": quantity(memory),
        }
    if resources.gpus:
        if resources.gpus != int(resources.gpus):
            raise InvalidParameterError(
                f"node {node!r}: Resources(gpus={resources.gpus:g}): Kubernetes gives whole "
                f"GPUs; ask for 1 or more, or share GPUs with the device plugin's time-slicing."
            )
        found["accelerator"] = {
            "resourceType": GPU_RESOURCE,
            "resourceCount": str(int(resources.gpus)),
        }
    return found


def quantity(size_bytes: int) -> str:
    """Bytes as a Kubernetes quantity: `4Gi`, `512Mi`, or plain bytes."""
    for unit, factor in (("Gi", 1024**3), ("Mi", 1024**2), ("Ki", 1024)):
        if size_bytes % factor == 0:
            return f"{size_bytes // factor}{unit}"
    return str(size_bytes)


def _platform(executors: list[str], secret: str | None) -> dict[str, Any] | None:
    """The kfp-kubernetes platform spec that sets `SHIPYARD_STORE` from a secret."""
    if secret is None:
        return None
    name, key = _secret(secret)
    config = {
        "secretAsEnv": [
            {"secretName": name, "keyToEnv": [{"secretKey": key, "envVar": "SHIPYARD_STORE"}]}
        ]
    }
    return {
        "platforms": {
            "kubernetes": {"deploymentSpec": {"executors": {label: config for label in executors}}}
        }
    }


def _secret(secret: str) -> tuple[str, str]:
    """`--store-secret NAME[:KEY]` as (name, key); the key defaults to `url`."""
    name, _, key = secret.partition(":")
    if not name:
        raise InvalidParameterError(f"--store-secret {secret!r}: give NAME or NAME:KEY.")
    return name, key or "url"


def _check_parses(spec: Mapping[str, Any], platform: Mapping[str, Any] | None) -> None:
    """Parse the IR with the KFP spec package: a field KFP does not know fails here."""
    from google.protobuf import json_format
    from kfp.pipeline_spec import pipeline_spec_pb2

    json_format.ParseDict(spec, pipeline_spec_pb2.PipelineSpec())
    if platform is not None:
        json_format.ParseDict(platform, pipeline_spec_pb2.PlatformSpec())


def to_yaml(spec: Mapping[str, Any], platform: Mapping[str, Any] | None) -> str:
    """The IR YAML as `kfp` writes it: the pipeline spec, then its platform spec."""
    import yaml

    text = "# PIPELINE DEFINITION\n" + yaml.safe_dump(dict(spec), sort_keys=True)
    if platform is not None:
        text += "---\n" + yaml.safe_dump(dict(platform), sort_keys=True)
    return text
