"""`shipyard users add|list|disable|enable`: the platform server's users, on its host."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from shipyard.cli.options import JsonOption, StoreOption

if TYPE_CHECKING:
    from shipyard.platform.auth.records import User

app = typer.Typer(
    help="Add, list, disable and enable the platform server's users, set their passwords "
    "(on the server host).",
    rich_markup_mode=None,
    no_args_is_help=True,
)

NameArgument = Annotated[
    str, typer.Argument(help="The user's name.", metavar="NAME", show_default=False)
]


@app.command("add")
def add_command(
    name: NameArgument,
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read the password from the first line of stdin."),
    ] = False,
    admin: Annotated[
        bool, typer.Option("--admin", help="Make the user a server administrator.")
    ] = False,
    email: Annotated[
        str | None, typer.Option("--email", help="The user's e-mail address.", show_default=False)
    ] = None,
    store: StoreOption = None,
    json_output: JsonOption = False,
) -> None:
    """Add a user, with no role in any project.

    The password is read from stdin with --password-stdin, else asked for on a terminal;
    without either the user has no password (it logs in with tokens made for it, or OIDC).
    """
    from shipyard.cli.server_host import host_actor, open_accounts

    password = _password(password_stdin)
    with open_accounts(store) as accounts:
        user = accounts.add_user(
            name, actor=host_actor(), password=password, superuser=admin, email=email
        )
    _print_user(user, json_output, "Added")


def _password(from_stdin: bool) -> str | None:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if sys.stdin.isatty():
        return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))
    return None


@app.command("password")
def password_command(
    name: NameArgument,
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read the password from the first line of stdin."),
    ] = False,
    store: StoreOption = None,
) -> None:
    """Set a user's password (read from stdin with --password-stdin, else asked for)."""
    from shipyard.cli.server_host import host_actor, open_accounts
    from shipyard.errors import InvalidParameterError

    password = _password(password_stdin)
    if password is None:
        raise InvalidParameterError(
            "No password to set: give it on stdin with --password-stdin, or run the command "
            "on a terminal."
        )
    with open_accounts(store) as accounts:
        accounts.set_password(name, password, actor=host_actor())
    typer.echo(f"Set the password of {name}.")


@app.command("list")
def list_command(store: StoreOption = None, json_output: JsonOption = False) -> None:
    """List the users: administrators, disabled ones, who has a password."""
    from rich.table import Table

    from shipyard.cli.output import console, print_json
    from shipyard.cli.server_host import open_accounts
    from shipyard.platform.auth.documents import user_document

    with open_accounts(store) as accounts:
        users = accounts.list_users()
    if json_output:
        print_json({"users": [user_document(user) for user in users]})
        return
    table = Table("name", "admin", "disabled", "password", "email", "added")
    for user in users:
        table.add_row(
            user.name,
            "yes" if user.superuser else "",
            "disabled" if user.disabled else "",
            "yes" if user.has_password else "no",
            user.email or "",
            f"{user.created_at:%Y-%m-%d %H:%M}",
        )
    console().print(table)


@app.command("disable")
def disable_command(
    name: NameArgument, store: StoreOption = None, json_output: JsonOption = False
) -> None:
    """Disable a user: its password and every token of it stop working at once."""
    _set_disabled(name, True, store, json_output)


@app.command("enable")
def enable_command(
    name: NameArgument, store: StoreOption = None, json_output: JsonOption = False
) -> None:
    """Enable a disabled user again."""
    _set_disabled(name, False, store, json_output)


def _set_disabled(name: str, disabled: bool, store: str | None, json_output: bool) -> None:
    from shipyard.cli.server_host import host_actor, open_accounts

    with open_accounts(store) as accounts:
        user = accounts.set_disabled(name, disabled, actor=host_actor())
    _print_user(user, json_output, "Disabled" if disabled else "Enabled")


def _print_user(user: User, json_output: bool, verb: str) -> None:
    from shipyard.cli.output import print_json
    from shipyard.platform.auth.documents import user_document

    if json_output:
        print_json(user_document(user))
        return
    role = " (server administrator)" if user.superuser else ""
    password = "" if user.has_password else ", without a password"
    typer.echo(f"{verb} user {user.name}{role}{password}.")
