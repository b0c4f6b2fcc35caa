"""`shipyard endpoints`: deploy registered models to a platform server's endpoints.

The server is `--server` or `SHIPYARD_SERVER` (default http://127.0.0.1:8000), the API token
`--token` or `SHIPYARD_TOKEN`. `--json` prints the server's own documents (the API's JSON).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from shipyard.cli.jobs import ServerOption, TokenOption
from shipyard.cli.options import JsonOption
from shipyard.platform.jobs.client import DEFAULT_SERVER

if TYPE_CHECKING:
    from collections.abc import Callable

    from shipyard.platform.models.client import ModelsClient

app = typer.Typer(
    help="Deploy registered models to a platform server's endpoints and see what they serve.",
    rich_markup_mode=None,
)

ProjectOption = Annotated[str, typer.Option("--project", help="The endpoint's project.")]
EndpointArgument = Annotated[str, typer.Argument(metavar="ENDPOINT", help="The endpoint's name.")]
CanaryOption = Annotated[
    int | None,
    typer.Option("--canary", min=1, help="The canary version.", show_default=False),
]
PercentOption = Annotated[
    float | None,
    typer.Option(
        "--canary-percent",
        help="The canary's share of requests naming no version, in (0, 100].",
        show_default=False,
    ),
]


def models_client(server: str, token: str | None) -> ModelsClient:
    """The client of the server's models and endpoints API."""
    from shipyard.platform.models.client import ModelsClient

    return ModelsClient(server, token=token, timeout_s=300)


@app.command("list")
def list_command(
    project: ProjectOption,
    server: ServerOption = DEFAULT_SERVER,
    token: TokenOption = None,
    json_output: JsonOption = False,
) -> None:
    """List the project's endpoints: model, traffic, state and URL."""
    from rich.table import Table

    from shipyard.cli.output import console, print_json

    endpoints = models_client(server, token).endpoints(project)
    if json_output:
        print_json({"endpoints": endpoints})
        return
    table = Table(title=f"Endpoints of {project}", title_justify="left")
    for column in ("endpoint", "model", "traffic", "state", "url", "message"):
        table.add_column(column)
    for endpoint in endpoints:
        table.add_row(
            endpoint["name"],
            endpoint["model"],
            _traffic(endpoint["traffic"]),
            endpoint["state"],
            endpoint["url"] or "-",
            endpoint["message"],
        )
    console().print(table)


@app.command("status")
def status_command(
    endpoint: EndpointArgument,
    project: ProjectOption,
    server: ServerOption = DEFAULT_SERVER,
    token: TokenOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show what an endpoint's server serves now: each version's state, requests and errors."""
    from rich.table import Table

    from shipyard.cli.output import console, print_json

    status = models_client(server, token).endpoint(project, endpoint)
    if json_output:
        print_json(status)
        return
    out = console()
    _print_line(status)
    if status["error"]:
        out.print(f"Not serving: {status['error']}", markup=False)
        return
    table = Table()
    for column in ("version", "labels", "state", "requests", "errors", "req/s", "err/s"):
        table.add_column(column)
    for version in status["serving"]:
        table.add_row(
            str(version["version"]),
            ", ".join(version["labels"]) or "-",
            version["state"],
            str(version["requests"]),
            str(version["errors"]),
            _rate(version["requests_per_s"]),
            _rate(version["errors_per_s"]),
        )
    out.print(table)


@app.command("deploy")
def deploy_command(
    endpoint: EndpointArgument,
    project: ProjectOption,
    model: Annotated[str, typer.Option("--model", help="The registered model it serves.")],
    version: Annotated[int, typer.Option("--version", min=1, help="The version to serve.")],
    canary: CanaryOption = None,
    canary_percent: PercentOption = None,
    server: ServerOption = DEFAULT_SERVER,
    token: TokenOption = None,
    json_output: JsonOption = False,
) -> None:
    """Serve a registered version at an endpoint, added if new (stable; and a canary)."""
    deployed = models_client(server, token).deploy(
        project, endpoint, model=model, stable=version, canary=canary, canary_percent=canary_percent
    )
    _answer(deployed, json_output=json_output)


@app.command("traffic")
def traffic_command(
    endpoint: EndpointArgument,
    project: ProjectOption,
    stable: Annotated[int, typer.Option("--stable", min=1, help="The stable version.")],
    canary: CanaryOption = None,
    canary_percent: PercentOption = None,
    server: ServerOption = DEFAULT_SERVER,
    token: TokenOption = None,
    json_output: JsonOption = False,
) -> None:
    """Set which versions an endpoint serves, and the canary's share of requests."""
    deployed = models_client(server, token).set_traffic(
        project, endpoint, stable=stable, canary=canary, canary_percent=canary_percent
    )
    _answer(deployed, json_output=json_output)


def _canary_ending(promote: bool) -> Callable[..., None]:
    """The `promote` or `rollback` command."""

    def command(
        endpoint: EndpointArgument,
        project: ProjectOption,
        server: ServerOption = DEFAULT_SERVER,
        token: TokenOption = None,
        json_output: JsonOption = False,
    ) -> None:
        ended = models_client(server, token).end_canary(project, endpoint, promote=promote)
        _answer(ended, json_output=json_output)

    return command


app.command("promote", help="Make an endpoint's canary its stable version.")(
    _canary_ending(promote=True)
)
app.command("rollback", help="Drop an endpoint's canary: its stable version serves every request.")(
    _canary_ending(promote=False)
)


@app.command("delete")
def delete_command(
    endpoint: EndpointArgument,
    project: ProjectOption,
    server: ServerOption = DEFAULT_SERVER,
    token: TokenOption = None,
) -> None:
    """Stop an endpoint's server and remove the endpoint and its files."""
    from shipyard.cli.output import console

    models_client(server, token).delete_endpoint(project, endpoint)
    console().print(f"Deleted endpoint {project}/{endpoint}.", markup=False)


def _answer(endpoint: dict[str, Any], *, json_output: bool) -> None:
    if json_output:
        from shipyard.cli.output import print_json

        print_json(endpoint)
        return
    _print_line(endpoint)


def _print_line(endpoint: dict[str, Any]) -> None:
    from shipyard.cli.output import console

    where = endpoint["url"] or "not running"
    console().print(
        f"{endpoint['project']}/{endpoint['name']} ({endpoint['model']}): "
        f"{_traffic(endpoint['traffic'])}, {endpoint['state']} at {where}: {endpoint['message']}",
        markup=False,
        soft_wrap=True,
    )


def _traffic(traffic: dict[str, Any]) -> str:
    if traffic["stable"] is None:
        return "nothing deployed"
    text = f"stable {traffic['stable']}"
    if traffic["canary"] is not None:
        text += f", canary {traffic['canary']} ({traffic['canary_percent']:g}%)"
    return text


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"
