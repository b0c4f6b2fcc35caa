"""`shipyard runs`: list runs; `runs show RUN`: one run; `runs compare RUN RUN`: side by side;
`runs logs RUN [--node N]`: what its nodes logged.

These commands find the store as git finds its repository (the nearest `.shipyard/` at or
above the working directory, or `SHIPYARD_HOME`, or `--store`) and never create one. They only
read, but for one write: a run of this host still `running` whose process is gone (killed,
crashed, the machine rebooted) is marked `abandoned` before the runs are shown.

A run or node stopped by Ctrl-C or SIGTERM is `interrupted`; `runs show` prints why (and, like
a failure's traceback, how long it had run), and running the pipeline again resumes it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any, get_args

import typer

from shipyard.cli.options import ArtifactRootOption, JsonOption, StoreOption

if TYPE_CHECKING:
    from rich.console import Console

app = typer.Typer(
    help="List runs, show one run, compare runs, or print their logs.", rich_markup_mode=None
)

STATE_STYLES = {
    "complete": "green",
    "cached": "cyan",
    "running": "yellow",
    "failed": "bold red",
    "abandoned": "red",
    "skipped": "dim",
    "pending": "dim",
    "interrupted": "bold yellow",
}
MAX_VALUE_CHARS = 40
"""Parameter values longer than this are shortened in tables (never in --json)."""


@app.callback(invoke_without_command=True)
def list_command(
    ctx: typer.Context,
    pipeline: Annotated[str | None, typer.Option("--pipeline", help="Only this pipeline.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many runs.")] = 20,
    state: Annotated[
        list[str] | None,
        typer.Option("--state", help="Only runs in this state (repeat for several)."),
    ] = None,
    search: Annotated[
        str | None,
        typer.Option("--search", help="Only runs whose id, pipeline or parameters hold this."),
    ] = None,
    sort: Annotated[
        str,
        typer.Option(
            "--sort",
            help="started_at, duration_s or metrics.NAME; a leading '-' sorts largest first.",
        ),
    ] = "-started_at",
    offset: Annotated[int, typer.Option("--offset", min=0, help="Skip this many runs.")] = 0,
    store: StoreOption = None,
    json_output: JsonOption = False,
) -> None:
    """List the newest runs: state, duration, parameters, headline metrics and model.

    A run of this host whose process died (kill -9, a crash) shows as abandoned. The filters
    and the sort are those of the UI's `/api/runs`, which returns the same JSON.
    """
    if ctx.invoked_subcommand is not None:
        return
    from rich.table import Table

    from shipyard.cli.output import console, print_json
    from shipyard.errors import InvalidParameterError
    from shipyard.runners import Project
    from shipyard.runners.liveness import abandon_dead_runs
    from shipyard.runners.run_json import SORT_CHOICES, find_runs, parse_sort
    from shipyard.store import RunQuery
    from shipyard.store.records import RunState

    order = parse_sort(sort)
    if order is None:
        raise InvalidParameterError(f"--sort must be {SORT_CHOICES}. Got {sort!r}.")
    states = get_args(RunState)
    if unknown := [s for s in state or () if s not in states]:
        raise InvalidParameterError(f"--state must be one of {', '.join(states)}. Got {unknown}.")
    query = RunQuery(
        pipeline=pipeline,
        states=tuple(state or ()),
        search=search,
        order_by=order[0],
        descending=order[1],
        offset=offset,
        limit=limit,
    )
    with Project.open(store=store, create=False) as project:
        abandon_dead_runs(project.store, project.storage, pipeline=pipeline)
        runs, _ = find_runs(project, query)
    if json_output:
        print_json(runs)
        return
    if not runs:
        console().print("No runs yet: start one with `shipyard run PIPELINE.py`.")
        return
    table = Table(title="Runs", title_justify="left")
    # The id stays whole; the rest wraps, parameters and metrics one per line.
    table.add_column("run", no_wrap=True)
    for column, width in (("pipeline", 8), ("state", 8), ("started", 10)):
        table.add_column(column, min_width=width)
    for column, width in (("parameters", 8), ("metrics", 10), ("model", 8)):
        table.add_column(column, min_width=width, overflow="fold")
    for run in runs:
        table.add_row(
            run["id"],
            run["pipeline"] + _trigger_line(run["trigger"]),
            _state(run["state"]),
            run["started_at"][:16].replace("T", " ")
            + ("" if run["duration_s"] is None else f"\n{run['duration_s']:.2f} s"),
            "\n".join(f"{k}={_short(v)}" for k, v in run["parameters"].items()),
            "\n".join(f"{k} {v:.4g}" for k, v in run["metrics"].items()),
            _model_cell(run["models"], run["blessed"]),
        )
    console().print(table)


@app.command("show")
def show_command(
    run_id: Annotated[str, typer.Argument(help="A run id, or a prefix matching one run.")],
    store: StoreOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show a run: parameters, each node's state, time and outputs, then its outcome."""
    from rich.table import Table

    from shipyard.cli.output import console, print_json
    from shipyard.runners import Project
    from shipyard.runners.display import print_outcome
    from shipyard.runners.liveness import abandon_dead_runs
    from shipyard.runners.run_json import describe_run, run_outcome_from_store

    with Project.open(store=store, create=False) as project:
        abandon_dead_runs(project.store, project.storage, pipeline=None)
        run = describe_run(project, run_id)
        outcome = run_outcome_from_store(project, project.store.get_run(run["id"]))
    if json_output:
        print_json(run)
        return
    out = console()
    duration = "" if run["duration_s"] is None else f" in {run['duration_s']:.2f} s"
    out.print(f"Run [bold]{run['id']}[/] of {run['pipeline']}: {_state(run['state'])}{duration}")
    trigger = run["properties"].get("trigger")
    if trigger:
        out.print(
            f"Started by trigger {trigger['name']!r} ({trigger['kind']}): {trigger['reason']}",
            soft_wrap=True,
            markup=False,
        )
    if run["parameters"]:
        out.print(
            "Parameters: "
            + ", ".join(f"{k}={json.dumps(v)}" for k, v in run["parameters"].items()),
            soft_wrap=True,
            markup=False,
        )
    table = Table()
    for column in ("node", "component", "state", "time", "outputs"):
        table.add_column(column)
    for name, node in run["nodes"].items():
        outputs = ", ".join(
            f"{port}: #{artifact['id']} {artifact['type']}"
            for port, artifact in node["outputs"].items()
        )
        state = _state(node["state"])
        if node["cached_from"]:
            state += f" (from execution {node['cached_from']})"
        table.add_row(
            name,
            node["component"] or "",
            state,
            "" if node["duration_s"] is None else f"{node['duration_s']:.2f} s",
            outputs,
        )
    out.print(table)
    print_outcome(out, outcome)
    for name, node in run["nodes"].items():
        if node["state"] in ("failed", "interrupted") and node["error"]:
            out.print(f"[{STATE_STYLES[node['state']]}]{name} {node['state']}:[/]")
            out.print(node["error"].rstrip(), markup=False)


@app.command("compare")
def compare_command(
    run_ids: Annotated[
        list[str], typer.Argument(help="Two or more run ids (or prefixes), oldest first.")
    ],
    store: StoreOption = None,
    json_output: JsonOption = False,
) -> None:
    """Compare runs: parameters, metrics (with the change), blessing, model, node outputs."""
    from shipyard.cli.output import console, print_json
    from shipyard.runners import Project
    from shipyard.runners.comparison import compare_runs

    with Project.open(store=store, create=False) as project:
        comparison = compare_runs(project, run_ids)
    if json_output:
        print_json(comparison)
        return
    _print_comparison(console(), comparison)


@app.command("logs")
def logs_command(
    run_id: Annotated[str, typer.Argument(help="A run id, or a prefix matching one run.")],
    node: Annotated[
        str | None, typer.Option("--node", help="Only this node's log.", show_default=False)
    ] = None,
    store: StoreOption = None,
    artifact_root: ArtifactRootOption = None,
    json_output: JsonOption = False,
) -> None:
    """Print what each node of a run logged (kept beside its outputs), node by node."""
    from shipyard.cli.output import console, print_json
    from shipyard.runners import Project
    from shipyard.runners.node_logs import log_line, run_logs

    with Project.open(store=store, artifact_root=artifact_root, create=False) as project:
        logs = run_logs(project, run_id, node)
    if json_output:
        print_json(logs)
        return
    out = console()
    for name, entry in logs["nodes"].items():
        if node is None and not entry["entries"]:
            continue
        out.print(f"[bold]{name}[/] ({_state(entry['state'])})")
        for record in entry["entries"]:
            out.print(log_line(record), markup=False, soft_wrap=True)
        if not entry["entries"]:
            out.print("no log records", style="dim")
    if node is None and not any(e["entries"] for e in logs["nodes"].values()):
        out.print(f"No node of run {logs['run']} logged anything.")


def _print_comparison(out: Console, comparison: dict[str, Any]) -> None:
    from rich.table import Table

    runs = comparison["runs"]
    two = len(runs) == 2  # a change column only makes sense for a pair
    table = Table(title="Runs compared", title_justify="left")
    table.add_column("")
    for run in runs:
        table.add_column(run["id"], no_wrap=True)
    if two:
        table.add_column("change", justify="right")
    table.add_row("pipeline", *(r["pipeline"] for r in runs), *([""] if two else []))
    table.add_row("state", *(_state(r["state"]) for r in runs), *([""] if two else []))
    table.add_section()
    for name, values in comparison["parameters"].items():
        changed = name in comparison["changed_parameters"]
        label = f"[bold yellow]{name}[/]" if changed else name
        cells = ["" if v is None else _short(v) for v in values]
        table.add_row(label, *cells, *(["changed" if changed else ""] if two else []))
    table.add_section()
    for node, metrics in comparison["metrics"].items():
        for name, values in metrics.items():
            cells = ["" if v is None else f"{v:.4g}" for v in values]
            change = ""
            if two and None not in values:
                change = f"{values[1] - values[0]:+.4g}"
            table.add_row(f"{name} ({node})", *cells, *([change] if two else []))
    table.add_row(
        "blessed",
        *("" if b is None else ("yes" if b else "[red]no[/]") for b in comparison["blessed"]),
        *([""] if two else []),
    )
    table.add_row(
        "model",
        *(_model_cell(models, None) for models in comparison["models"]),
        *([""] if two else []),
    )
    table.add_section()
    for node, entry in comparison["nodes"].items():
        states = [_state(s) if s else "-" for s in entry["states"]]
        verdict = {"same": "same outputs", "changed": "[yellow]new outputs[/]"}.get(
            entry["outputs"], entry["outputs"]
        )
        table.add_row(f"node {node}", *states, *([verdict] if two else []))
    out.print(table)
    for output, entry in comparison["artifacts"].items():
        out.print(f"{output} ({entry['type']}): {_artifact_verdict(entry)}", markup=False)


def _artifact_verdict(entry: dict[str, Any]) -> str:
    """One line on how a compared output differs (the UI's compare page shows it all)."""
    if "error" in entry:
        return str(entry["error"])
    if entry["type"] == "Schema":
        changed = entry["changed"]
        listed = f": {', '.join(changed)}" if changed else ""
        return f"{len(changed)} of {len(entry['features'])} features differ{listed}"
    if entry["type"] == "ModelEvaluation":
        return f"{len(entry['changed_slices'])} of {len(entry['slices'])} slices differ"
    rows = {split: figures["rows"] for split, figures in entry["splits"].items()}
    return "rows " + ", ".join(f"{split} {' / '.join(map(str, n))}" for split, n in rows.items())


def _state(state: str) -> str:
    return f"[{STATE_STYLES.get(state, '')}]{state}[/]"


def _trigger_line(trigger: dict[str, Any] | None) -> str:
    """The trigger that started a run, under its pipeline in the table (shipyard schedule)."""
    from rich.markup import escape

    return "" if not trigger else f"\nby {escape(trigger['name'])}"


def _short(value: Any) -> str:
    """A parameter value for a table cell: JSON, shortened, markup escaped."""
    from rich.markup import escape

    text = value if isinstance(value, str) else json.dumps(value)
    return escape(text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…")


def _model_cell(models: list[dict[str, Any]], blessed: bool | None) -> str:
    pushed = ", ".join(f"{m['name']} v{m['version']}" for m in models)
    if pushed:
        return pushed
    if blessed is False:
        return "[red]not blessed[/]"
    return ""
