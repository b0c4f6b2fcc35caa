"""`shipyard projects add|list`, `shipyard grant` and `shipyard revoke`, on the server host."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from shipyard.cli.options import JsonOption, StoreOption
from shipyard.platform.access import Role

if TYPE_CHECKING:
    from shipyard.platform.auth.records import Grant, Project

app = typer.Typer(
    help="Add and list the platform server's projects (on the server host).",
    rich_markup_mode=None,
    no_args_is_help=True,
)

UserArgument = Annotated[
    str, typer.Argument(help="The user's name.", metavar="USER", show_default=False)
]
ProjectOption = Annotated[str, typer.Option("--project", help="The project.", show_default=False)]


@app.command("add")
def add_command(
    name: Annotated[str, typer.Argument(help="The project's name.", show_default=False)],
    store: StoreOption = None,
    json_output: JsonOption = False,
) -> None:
    """Add a project; nobody has a role in it until granted one."""
    from shipyard.cli.output import print_json
    from shipyard.cli.server_host import host_actor, open_accounts
    from shipyard.platform.auth.documents import project_document

    with open_accounts(store) as accounts:
        project = accounts.add_project(name, actor=host_actor())
    if json_output:
        print_json(project_document(project))
        return
    typer.echo(
        f"Added project {project.name}. Give roles with: "
        f"shipyard grant USER --project {name} --role viewer"
    )


@app.command("list")
def list_command(store: StoreOption = None, json_output: JsonOption = False) -> None:
    """List the projects and who has which role in each."""
    from shipyard.cli.output import print_json
    from shipyard.cli.server_host import open_accounts
    from shipyard.platform.auth.documents import grant_document, project_document

    with open_accounts(store) as accounts:
        projects = accounts.list_projects()
        grants = accounts.list_grants()
    if json_output:
        documents = [
            {
                **project_document(project),
                "members": [grant_document(g) for g in grants if g.project == project.name],
            }
            for project in projects
        ]
        print_json({"projects": documents})
        return
    _print_projects(projects, grants)


def _print_projects(projects: list[Project], grants: list[Grant]) -> None:
    from rich.table import Table

    from shipyard.cli.output import console

    members: dict[str, list[str]] = {}
    for grant in grants:
        members.setdefault(grant.project, []).append(f"{grant.user} ({grant.role})")
    table = Table("project", "members", "added", "by")
    for project in projects:
        table.add_row(
            project.name,
            ", ".join(members.get(project.name, [])) or "-",
            f"{project.created_at:%Y-%m-%d %H:%M}",
            project.created_by or "",
        )
    console().print(table)


def grant_command(
    user: UserArgument,
    project: ProjectOption,
    role: Annotated[Role, typer.Option("--role", help="The role to give.", show_default=False)],
    store: StoreOption = None,
    json_output: JsonOption = False,
) -> None:
    """Give a user a role in a project (viewer, runner, editor or admin), replacing its own."""
    from shipyard.cli.output import print_json
    from shipyard.cli.server_host import host_actor, open_accounts
    from shipyard.platform.auth.documents import grant_document

    with open_accounts(store) as accounts:
        granted = accounts.grant(user, project, role, actor=host_actor())
    if json_output:
        print_json(grant_document(granted))
        return
    typer.echo(f"{user} is {role} in project {project}.")


def revoke_command(
    user: UserArgument,
    project: ProjectOption,
    store: StoreOption = None,
    json_output: JsonOption = False,
) -> None:
    """Take away a user's role in a project."""
    from shipyard.cli.output import print_json
    from shipyard.cli.server_host import host_actor, open_accounts

    with open_accounts(store) as accounts:
        had = accounts.revoke(user, project, actor=host_actor())
    if json_output:
        print_json({"project": project, "user": user, "had_role": had})
        return
    typer.echo(
        f"{user} has no role in project {project} any more."
        if had
        else f"{user} had no role in project {project}; nothing changed."
    )
