"""`shipyard run`: run a pipeline file with a live display."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer

from shipyard.cli.options import (
    AddressOption,
    ArtifactRootOption,
    EngineOption,
    JsonOption,
    StoreOption,
)


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
    engine: EngineOption = "threads",
    address: AddressOption = None,
    store: StoreOption = None,
    artifact_root: ArtifactRootOption = None,
    json_output: JsonOption = False,
) -> None:
    """Run a pipeline: unchanged nodes come from the cache, the rest execute.

    The store is the nearest .shipyard/ at or above the working directory (or SHIPYARD_HOME);
    without one, the run creates .shipyard/ in the working directory. The run ends with the
    model pushed, the blessing and why, the headline metrics and every HTML report written.
    --json prints the run as `shipyard runs show RUN --json` does. Ctrl-C stops the run
    within seconds (training saves a checkpoint first), prints the command that resumes and
    exits 130; a second Ctrl-C exits at once.
    """
    from shipyard.cli.output import EXIT_FAILED, exit_on_interrupt, print_json
    from shipyard.dsl import load_pipeline, parse_param
    from shipyard.runners import run
    from shipyard.runners.display import RichDisplay

    params = dict(parse_param(item) for item in param or [])
    loaded = load_pipeline(pipeline_file, name=pipeline, params=params)
    hint = " ".join(
        ["shipyard", "run", shlex.quote(str(pipeline_file))]
        + [f"--param {shlex.quote(item)}" for item in param or []]
        + ([f"--pipeline {shlex.quote(pipeline)}"] if pipeline else [])
        + ([f"--engine {shlex.quote(engine)}"] if engine != "threads" else [])
        + ([f"--address {shlex.quote(address)}"] if address else [])
    )
    with exit_on_interrupt():  # Ctrl-C: the display printed the resume command
        result = run(
            loaded,
            cache=not no_cache,
            rerun=from_nodes or [],
            store=store,
            artifact_root=artifact_root,
            engine=engine,
            max_workers=workers,
            engine_options=None if address is None else {"address": address},
            progress=False,
            hooks=[RichDisplay(resume_hint=hint)],
        )
    if json_output:
        from shipyard.runners import Project
        from shipyard.runners.run_json import describe_run

        with Project.open(store=store, artifact_root=artifact_root) as project:
            print_json(describe_run(project, result.id))
    if not result.ok:
        raise typer.Exit(EXIT_FAILED)
