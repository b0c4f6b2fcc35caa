"""`shipyard execute-node`: execute one task where this command runs, as an engine's worker."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer


def execute_node_command(
    task: Annotated[
        str,
        typer.Option(
            "--task",
            help="The task: a JSON file written by TaskSpec.to_json, or - for standard input.",
        ),
    ],
    result: Annotated[
        Path | None,
        typer.Option("--result", help="Write the result's JSON here (default: standard output)."),
    ] = None,
) -> None:
    """Execute one node's task: read its inputs, run its component, publish its outputs.

    The entry point that engines running nodes elsewhere call (a container, a cluster
    node). The task names the component, its inputs and outputs by URI and its parameters;
    the result (TaskResult JSON) lists the published outputs or the error. Progress goes to
    standard error. Exit status 1 when the node failed.
    """
    from shipyard.cli.output import EXIT_FAILED
    from shipyard.engines import TaskSpec
    from shipyard.engines.task import execute_task
    from shipyard.errors import NotFoundError

    if task != "-" and not Path(task).is_file():
        raise NotFoundError(f"--task {task}: no such file; it holds a task's JSON.")
    text = sys.stdin.read() if task == "-" else Path(task).read_text(encoding="utf-8")
    outcome = execute_task(
        TaskSpec.from_json(text),
        engine="execute-node",
        on_progress=lambda progress: print(progress.describe(), file=sys.stderr, flush=True),
    )
    if result is None:
        print(outcome.to_json())
    else:
        result.write_text(outcome.to_json(), encoding="utf-8")
    if not outcome.ok:
        print(f"{outcome.error.headline}: {outcome.error}", file=sys.stderr)  # type: ignore[union-attr]
        raise typer.Exit(EXIT_FAILED)
