"""`shipyard tokens create|list|revoke`: users' API tokens, on the server host."""

from __future__ import annotations

from typing import Annotated

import typer

from shipyard.cli.options import JsonOption, StoreOption

app = typer.Typer(
    help="Make, list and revoke users' API tokens (on the server host).",
    rich_markup_mode=None,
    no_args_is_help=True,
)


@app.command("create")
def create_command(
    user: Annotated[str, typer.Argument(help="The user the token is for.", show_default=False)],
    expires: Annotated[
        str, typer.Option("--expires", help="How long it works: 90m, 12h, 30d, 8w or never.")
    ] = "90d",
    name: Annotated[
        str, typer.Option("--name", help="What the token is for (laptop, ci).")
    ] = "token",
    store: StoreOption = None,
    json_output: JsonOption = False,
) -> None:
    """Make a token for a user and print it, once: the server keeps only its hash.

    The token alone goes to stdout (`export SHIPYARD_TOKEN=$(shipyard tokens create ana)`),
    its id and expiry to stderr; --json prints its document, the token included.
    """
    from shipyard.cli.output import print_json
    from shipyard.cli.server_host import host_actor, open_accounts
    from shipyard.platform.auth.documents import new_token_document
    from shipyard.platform.auth.lifetimes import parse_lifetime

    lifetime = parse_lifetime(expires, name="--expires")
    with open_accounts(store) as accounts:
        made = accounts.create_token(user, actor=host_actor(), name=name, expires_in=lifetime)
    if json_output:
        print_json(new_token_document(made))
        return
    expiry = made.token.expires_at
    until = "never expires" if expiry is None else f"expires {expiry:%Y-%m-%d %H:%M} UTC"
    typer.echo(f"Token {made.token.id} for {user} ({until}); it is shown this once:", err=True)
    typer.echo(made.secret)


@app.command("list")
def list_command(
    user: Annotated[
        str | None,
        typer.Argument(help="Only this user's tokens (default: everyone's).", show_default=False),
    ] = None,
    store: StoreOption = None,
    json_output: JsonOption = False,
) -> None:
    """List tokens: id, user, name, state (active, expired, revoked), expiry, last use."""
    from datetime import UTC, datetime

    from rich.table import Table

    from shipyard.cli.output import console, print_json
    from shipyard.cli.server_host import open_accounts
    from shipyard.platform.auth.documents import token_document

    with open_accounts(store) as accounts:
        tokens = accounts.list_tokens(user)
    now = datetime.now(UTC)
    if json_output:
        print_json({"tokens": [token_document(token, now) for token in tokens]})
        return
    table = Table("id", "user", "name", "kind", "state", "expires", "last used")
    for token in tokens:
        table.add_row(
            token.id,
            token.user,
            token.name,
            token.kind,
            token.state(now),
            "never" if token.expires_at is None else f"{token.expires_at:%Y-%m-%d %H:%M}",
            "-" if token.last_used_at is None else f"{token.last_used_at:%Y-%m-%d %H:%M}",
        )
    console().print(table)


@app.command("revoke")
def revoke_command(
    token_id: Annotated[str, typer.Argument(help="The token's id (tokens list shows it).")],
    store: StoreOption = None,
    json_output: JsonOption = False,
) -> None:
    """Revoke a token: requests with it are refused from the next one on."""
    from datetime import UTC, datetime

    from shipyard.cli.output import print_json
    from shipyard.cli.server_host import host_actor, open_accounts
    from shipyard.platform.auth.documents import token_document

    with open_accounts(store) as accounts:
        revoked = accounts.revoke_token(token_id, actor=host_actor())
    if json_output:
        print_json(token_document(revoked, datetime.now(UTC)))
        return
    typer.echo(f"Revoked token {token_id} of {revoked.user}.")
