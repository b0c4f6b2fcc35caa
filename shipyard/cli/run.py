"""`shipyard run`: run a pipeline file with a live display."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shipyard.cli.options import ArtifactRootOption, JsonOption, StoreOption

if TYPE_CHECKING:
    from shipyard.runners import Run


def run_command(
    pipeline_file: Annotated[Path, typer.Argument(help="The Python file defining the pipeline.")],
    pipeline: Annotated[
        str | None, typer.Option("--pipeline", help="Which pipeline, if the file defines several.")
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="key=value argument of the pipeline function (repeat)."),
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Execute every node, reusing nothing.")
    ] = False,
    from_nodes: Annotated[
        list[str] | None,
        typer.Option("--from", help="Execute this node and all downstream again (repeat)."),
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="Nodes that run at once.")
    ] = None,
    store: StoreOption = None,
    artifact_root: ArtifactRootOption = None,
    json_output: JsonOption = False,
) -> None:
    """Run a pipeline: unchanged nodes come from the cache, the rest execute."""
    from shipyard.cli.output import EXIT_FAILED, print_json
    from shipyard.dsl import load_pipeline, parse_param
    from shipyard.runners import run
    from shipyard.runners.display import RichDisplay

    params = dict(parse_param(item) for item in param or [])
    loaded = load_pipeline(pipeline_file, name=pipeline, params=params)
    hint = " ".join(
        ["shipyard", "run", shlex.quote(str(pipeline_file))]
        + [f"--param {shlex.quote(item)}" for item in param or []]
        + ([f"--pipeline {shlex.quote(pipeline)}"] if pipeline else [])
    )
    result = run(
        loaded,
        cache=not no_cache,
        rerun=from_nodes or [],
        store=store,
        artifact_root=artifact_root,
        max_workers=workers,
        progress=False,
        hooks=[RichDisplay(resume_hint=hint)],
    )
    if json_output:
        print_json(run_json(result))
    if not result.ok:
        raise typer.Exit(EXIT_FAILED)


def run_json(result: Run) -> dict[str, Any]:
    """The outcome of a run as JSON: state, and per node state, time, outputs, error."""
    return {
        "id": result.id,
        "pipeline": result.pipeline,
        "state": result.state,
        "duration_s": result.duration_s,
        "store": result.store_url,
        "nodes": {
            name: {
                "component": node.component,
                "state": node.state,
                "execution_id": node.execution_id,
                "duration_s": node.duration_s,
                "cached_from": node.cached_from,
                "outputs": {
                    port: {"id": a.id, "type": a.type_name, "uri": a.uri, "name": a.name}
                    for port, a in node.outputs.items()
                },
                "error": None if node.error is None else node.error.user_traceback,
            }
            for name, node in result.nodes.items()
        },
    }
