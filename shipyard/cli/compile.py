"""`shipyard compile` and `shipyard image`: a pipeline for Kubeflow, and the image it runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shipyard.cli.options import ArtifactRootOption, StoreOption


def compile_command(
    pipeline_file: Annotated[Path, typer.Argument(help="The Python file defining the pipeline.")],
    target: Annotated[
        str, typer.Option("--target", help="The orchestrator: kubeflow (KFP v2, Vertex AI).")
    ] = "kubeflow",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the YAML here (default: standard output)."),
    ] = None,
    pipeline: Annotated[
        str | None, typer.Option("--pipeline", help="Which pipeline, if the file defines several.")
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param", "-p", help="key=value: the default of a pipeline parameter (repeat)."
        ),
    ] = None,
    image: Annotated[
        str, typer.Option("--image", help="The image every task runs (shipyard image builds it).")
    ] = "shipyard-pipeline:latest",
    store: StoreOption = None,
    artifact_root: ArtifactRootOption = None,
    store_secret: Annotated[
        str | None,
        typer.Option(
            "--store-secret",
            help="Kubernetes secret NAME[:KEY] (key: url) holding the store URL, instead of "
            "--store (keeps its password out of the YAML).",
        ),
    ] = None,
    pipeline_path: Annotated[
        str | None,
        typer.Option(
            "--pipeline-path",
            help="The pipeline file's path inside the image (default: relative to here).",
        ),
    ] = None,
    allow_local: Annotated[
        bool,
        typer.Option(
            "--allow-local",
            help="Accept a SQLite store and a local artifact root (tasks run on one machine).",
        ),
    ] = False,
    pytorchjob: Annotated[
        bool,
        typer.Option(
            "--pytorchjob/--no-pytorchjob",
            help="Run a node with workers > 1 as a Kubeflow Training Operator PyTorchJob of "
            "its ranks, one pod per rank or per Resources(gpus=G) ranks, which its task "
            "launches (--no-pytorchjob: the workers train inside the node's one pod).",
        ),
    ] = True,
) -> None:
    """Compile a pipeline to Kubeflow Pipelines YAML: one container task per node.

    Each task runs `shipyard execute-node` for its node inside the run whose id is the
    pipeline job's, against the store (--store URL, PostgreSQL; or --store-secret) and the
    artifact root (--artifact-root s3://... or gs://...) every task shares. The pipeline
    function's parameters become the job's parameters (--param sets their defaults). A
    node training with workers > 1 becomes a PyTorchJob (docs/kubeflow.md, RBAC).
    Upload the file to Kubeflow Pipelines or Vertex AI Pipelines (docs/kubeflow.md).
    """
    from shipyard.compile import KubeflowOptions, compile_kubeflow, to_yaml
    from shipyard.dsl import parse_param
    from shipyard.errors import InvalidParameterError

    if target != "kubeflow":
        raise InvalidParameterError(f"--target {target!r}: the targets are: kubeflow.")
    spec, platform = compile_kubeflow(
        pipeline_file,
        params=dict(parse_param(item) for item in param or []),
        pipeline_name=pipeline,
        options=KubeflowOptions(
            image=image,
            # The flags only: SHIPYARD_STORE of this shell is no store of the cluster's.
            store=store,
            artifact_root=artifact_root,
            store_secret=store_secret,
            pipeline_path=pipeline_path,
            allow_local=allow_local,
            pytorchjob=pytorchjob,
        ),
    )
    text = to_yaml(spec, platform)
    if output is None:
        typer.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    tasks = len(spec["root"]["dag"]["tasks"])
    typer.echo(
        f"Wrote {output}: pipeline {spec['pipelineInfo']['name']}, {tasks} tasks, image {image}.",
        err=True,
    )


def image_command(
    tag: Annotated[
        str, typer.Option("--tag", "-t", help="The image name (compile's --image).")
    ] = "shipyard-pipeline:latest",
    context: Annotated[
        Path, typer.Option("--context", help="The project's directory, copied into the image.")
    ] = Path("."),
    shipyard_spec: Annotated[
        str | None,
        typer.Option(
            "--shipyard",
            help="What pip installs in the image (default: shipyard[train,postgres]); "
            "e.g. a wheel's path inside the context.",
        ),
    ] = None,
    tool: Annotated[str, typer.Option("--tool", help="docker or podman.")] = "docker",
    print_only: Annotated[
        bool, typer.Option("--print", help="Print the build command and the Dockerfile's path.")
    ] = False,
) -> None:
    """Build the container image a compiled pipeline runs, from the packaged Dockerfile.

    The project's directory (--context) is copied to /workspace, the tasks' working
    directory, so the pipeline file and its data keep their relative paths.
    """
    import shlex
    import subprocess

    from shipyard.cli.output import EXIT_FAILED
    from shipyard.compile.image import DOCKERFILE, build_command, find_tool

    command = build_command(tag, context=context, shipyard_spec=shipyard_spec, tool=tool)
    if print_only:
        typer.echo(f"# Dockerfile: {DOCKERFILE}")
        typer.echo(shlex.join(command))
        return
    command[0] = find_tool(tool)
    if subprocess.run(command, check=False).returncode != 0:
        raise typer.Exit(EXIT_FAILED)
    typer.echo(f"Built {tag}; push it where the cluster pulls from (docker push {tag}).")
