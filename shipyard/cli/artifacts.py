"""`shipyard artifacts show ID`: an artifact's record, producer, consumers and content."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from shipyard.cli.options import ArtifactRootOption, JsonOption, StoreOption

app = typer.Typer(help="Inspect artifacts.", no_args_is_help=True, rich_markup_mode=None)


@app.command("show")
def show_command(
    artifact_id: Annotated[int, typer.Argument(help="The artifact's id.")],
    store: StoreOption = None,
    artifact_root: ArtifactRootOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show an artifact: type, URI, properties, lineage neighbours and a preview.

    Only reads: the store is found as for `shipyard runs` and never created. The URI and
    paths are printed whole, however narrow the terminal.
    """
    from rich.markup import escape

    from shipyard.cli.output import console, print_json
    from shipyard.runners import Project
    from shipyard.runners.queries import show_artifact

    with Project.open(store=store, artifact_root=artifact_root, create=False) as project:
        artifact = show_artifact(project, artifact_id)
    if json_output:
        print_json(artifact)
        return
    producer = artifact["producer"]
    rows = {
        "type": artifact["type"],
        "name": artifact["name"],
        "uri": artifact["uri"],
        "state": artifact["state"],
        "fingerprint": artifact["fingerprint"],
        "created": artifact["created_at"][:19].replace("T", " "),
        "produced by": f"{producer['node']} (execution {producer['id']}, run {producer['run']})"
        if producer
        else "-",
        "read by": ", ".join(f"{e['node']} (execution {e['id']})" for e in artifact["consumers"])
        or "-",
    }
    for key, value in artifact["properties"].items():
        rows[f"property {key}"] = json.dumps(value)
    out = console()
    out.print(f"[bold]Artifact #{artifact['id']}[/]")
    width = max(map(len, rows))
    for key, value in rows.items():  # not a table: a table would cut long URIs to fit
        out.print(f"[bold]{key.ljust(width)}[/]  {escape(str(value))}", soft_wrap=True)
    if artifact["type"] == "ModelEvaluation" and artifact["state"] == "live":
        from shipyard.artifacts import ModelEvaluation
        from shipyard.cli.evaluation import print_evaluation

        print_evaluation(out, ModelEvaluation(Path(artifact["uri"])).load())
    elif artifact["preview"]:
        out.print_json(json.dumps(artifact["preview"], default=str))
