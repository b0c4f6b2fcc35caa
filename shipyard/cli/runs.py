"""`shipyard runs`: list runs; `shipyard runs show RUN`: one run's executions and artifacts."""

from __future__ import annotations

from typing import Annotated

import typer

from shipyard.cli.options import JsonOption, StoreOption

app = typer.Typer(help="List runs, or show one run.", rich_markup_mode=None)

STATE_STYLES = {
    "complete": "green",
    "cached": "cyan",
    "running": "yellow",
    "failed": "bold red",
    "abandoned": "red",
    "skipped": "dim",
}


@app.callback(invoke_without_command=True)
def list_command(
    ctx: typer.Context,
    pipeline: Annotated[str | None, typer.Option("--pipeline", help="Only this pipeline.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many runs.")] = 20,
    store: StoreOption = None,
    json_output: JsonOption = False,
) -> None:
    """List the newest runs with their state and duration."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.table import Table

    from shipyard.cli.output import console, print_json
    from shipyard.runners import Project
    from shipyard.runners.queries import list_runs

    with Project.open(store=store) as project:
        runs = list_runs(project, pipeline=pipeline, limit=limit)
    if json_output:
        print_json(runs)
        return
    table = Table(title="Runs", title_justify="left")
    for column in ("run", "pipeline", "state", "started", "duration", "nodes"):
        table.add_column(column)
    for run in runs:
        style = STATE_STYLES.get(run["state"], "")
        table.add_row(
            run["id"],
            run["pipeline"],
            f"[{style}]{run['state']}[/]",
            run["started_at"][:19].replace("T", " "),
            "" if run["duration_s"] is None else f"{run['duration_s']:.2f} s",
            str(len(run["properties"].get("nodes", []))),
        )
    console().print(table if runs else "No runs yet: start one with `shipyard run PIPELINE.py`.")


@app.command("show")
def show_command(
    run_id: Annotated[str, typer.Argument(help="A run id, or a prefix matching one run.")],
    store: StoreOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show a run: each execution's state, duration, inputs and outputs."""
    from rich.table import Table

    from shipyard.cli.output import console, print_json
    from shipyard.runners import Project
    from shipyard.runners.queries import show_run

    with Project.open(store=store) as project:
        run = show_run(project, run_id)
    if json_output:
        print_json(run)
        return
    out = console()
    duration = "" if run["duration_s"] is None else f" in {run['duration_s']:.2f} s"
    style = STATE_STYLES.get(run["state"], "")
    out.print(
        f"Run [bold]{run['id']}[/] of {run['pipeline']}: [{style}]{run['state']}[/]{duration}"
    )
    table = Table()
    for column in ("execution", "node", "component", "state", "time", "outputs"):
        table.add_column(column)
    for execution in run["executions"]:
        outputs = ", ".join(
            f"{port}: #{artifact['id']} {artifact['type']}"
            for port, artifact in execution["outputs"].items()
        )
        state = execution["state"]
        if execution["cached_from"]:
            state += f" (from #{execution['cached_from']})"
        table.add_row(
            str(execution["id"]),
            execution["node"],
            execution["component"],
            f"[{STATE_STYLES.get(execution['state'], '')}]{state}[/]",
            "" if execution["duration_s"] is None else f"{execution['duration_s']:.2f} s",
            outputs,
        )
    out.print(table)
    for execution in run["executions"]:
        if execution["state"] == "failed" and execution["error"]:
            out.print(f"[bold red]{execution['node']} failed:[/]")
            out.print(execution["error"].rstrip(), markup=False)
