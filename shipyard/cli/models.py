"""`shipyard models`: each model's versions, blessings, labels, decisions and serving state;
`shipyard models register`: register a pushed model on a platform server."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shipyard.cli.jobs import ServerOption, TokenOption
from shipyard.cli.options import JsonOption, ModelConfigOption, ModelsDirOption, StoreOption
from shipyard.platform.jobs.client import DEFAULT_SERVER

if TYPE_CHECKING:
    from shipyard.promotion.listing import ModelListing

app = typer.Typer(rich_markup_mode=None)


@app.callback(invoke_without_command=True)
def models_command(
    context: typer.Context,
    models_dir: ModelsDirOption = Path("models"),
    model_config: ModelConfigOption = None,
    server: Annotated[
        str | None,
        typer.Option(
            "--server", help="A server's URL, to show what it serves.", show_default=False
        ),
    ] = None,
    store: StoreOption = None,
    json_output: JsonOption = False,
) -> None:
    """List each model's versions: blessing, infra validation, labels, decisions, serving.

    `shipyard models register` registers a pushed model on a platform server instead.
    """
    if context.invoked_subcommand is not None:
        return
    from shipyard.promotion.listing import list_models
    from shipyard.runners import Project

    directory = models_dir.expanduser().resolve()
    config = None if model_config is None else model_config.expanduser().resolve()
    with Project.open(store=store) as project:
        known = None if project.is_new else project.store  # listing never creates a store
        listings = list_models(directory, model_config=config, store=known, server=server)
    if json_output:
        from shipyard.cli.output import print_json

        print_json({"models": [listing.to_json() for listing in listings]})
        return
    if not listings:
        typer.echo(f"No model under {directory}.")
        return
    for listing in listings:
        _print_model(listing, with_server=server is not None)


@app.command("register")
def register_command(
    model: Annotated[str, typer.Argument(metavar="MODEL", help="The registered model's name.")],
    project: Annotated[str, typer.Option("--project", help="The model's project.")],
    artifact_id: Annotated[
        int | None,
        typer.Option(
            "--artifact-id", min=1, help="The PushedModel artifact's id.", show_default=False
        ),
    ] = None,
    run_id: Annotated[
        str | None,
        typer.Option("--run-id", help="A run whose newest push to register.", show_default=False),
    ] = None,
    server: ServerOption = DEFAULT_SERVER,
    token: TokenOption = None,
    json_output: JsonOption = False,
) -> None:
    """Register a pushed model as a model's next version on a platform server."""
    from shipyard.cli.endpoints import models_client
    from shipyard.cli.output import console, print_json

    version = models_client(server, token).register(
        project, model, artifact_id=artifact_id, run_id=run_id
    )
    if json_output:
        print_json(version)
        return
    console().print(
        f"{project}/{model} version {version['version']}: artifact {version['artifact_id']} "
        f"({version['path']}), run {version['run_id'] or '-'}, blessed "
        f"{version['blessed']}",
        markup=False,
        soft_wrap=True,
    )


def _print_model(listing: ModelListing, *, with_server: bool) -> None:
    from rich.table import Table

    from shipyard.cli.output import console

    def flag(value: bool | None) -> str:
        return "-" if value is None else "yes" if value else "no"

    table = Table(title=f"{listing.name} ({listing.base_path})", title_justify="left")
    columns = ["version", "labels", "blessed", "infra", "pushed by", "rejected"]
    for column in [*columns, *(["served"] if with_server else [])]:
        table.add_column(column)
    for version in listing.versions:
        labels = ", ".join(
            f"canary {listing.canary_percent:g}%" if label == "canary" else label
            for label in version.labels
        )
        row = [
            str(version.version),
            labels or "-",
            flag(version.blessed),
            flag(version.infra_blessed),
            version.pushed_by or "-",
            "rejected" if version.rejected else "",
        ]
        table.add_row(*row, *([version.state or "-"] if with_server else []))
    out = console()
    out.print(table)
    if listing.server_error:
        out.print(f"[yellow]Server[/]: {listing.server_error}", markup=True)
    for decision in listing.decisions[:5]:
        verb = "promoted" if decision.action == "promote" else "rolled back"
        out.print(
            f"{decision.decided_at[:19]} {verb} version {decision.canary}: {decision.reason}",
            markup=False,
        )
