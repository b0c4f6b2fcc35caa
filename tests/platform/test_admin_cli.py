"""The admin commands on the server host: users, projects, grant, revoke, tokens, audit."""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any

import pytest
from typer.testing import CliRunner

from shipyard.cli.main import app as cli
from shipyard.errors import AlreadyExistsError, InvalidParameterError, NotFoundError
from shipyard.platform.access import Action
from shipyard.platform.auth.accounts import Accounts
from shipyard.platform.database import Database
from tests.cli.command import shipyard

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)


@pytest.fixture
def run(store_url: str) -> Iterator[Any]:
    def invoke(*args: str, stdin: str | None = None, code: int = 0) -> str:
        result = CliRunner().invoke(cli, [*args, "--store", store_url], input=stdin)
        assert result.exit_code == code, (result.output, result.exception)
        return result.stdout

    yield invoke


@pytest.fixture
def accounts(store_url: str) -> Iterator[Accounts]:
    with Database(store_url) as database:
        yield Accounts(database)


def test_users_are_added_with_a_password_from_stdin_listed_and_disabled(
    run: Any, accounts: Accounts
) -> None:
    assert run("users", "add", "ana", "--password-stdin", stdin="correct horse\n") == (
        "Added user ana.\n"
    )
    added = json.loads(run("users", "add", "root", "--admin", "--json"))
    assert (added["name"], added["superuser"], added["has_password"]) == ("root", True, False)
    assert accounts.check_password("ana", "correct horse") is not None
    listed = json.loads(run("users", "list", "--json"))["users"]
    assert [user["name"] for user in listed] == ["ana", "root"]
    assert "Disabled user ana." in run("users", "disable", "ana")
    assert accounts.check_password("ana", "correct horse") is None
    run("users", "enable", "ana")
    assert accounts.check_password("ana", "correct horse") is not None
    run("users", "password", "root", "--password-stdin", stdin="battery staple\n")
    assert accounts.check_password("root", "battery staple") is not None


def test_projects_grants_and_revokes_change_what_a_token_may_do(
    run: Any, accounts: Accounts
) -> None:
    run("users", "add", "ana")
    run("projects", "add", "taxi")
    granted = json.loads(run("grant", "ana", "--project", "taxi", "--role", "editor", "--json"))
    assert granted["role"] == "editor" and granted["granted_by"].startswith("host:")
    token = run("tokens", "create", "ana").strip()
    assert accounts.authenticate(token).may(Action.EDIT, "taxi")
    [project] = json.loads(run("projects", "list", "--json"))["projects"]
    assert [(m["user"], m["role"]) for m in project["members"]] == [("ana", "editor")]
    assert "no role in project taxi any more" in run("revoke", "ana", "--project", "taxi")
    assert accounts.authenticate(token).roles == {}
    assert "nothing changed" in run("revoke", "ana", "--project", "taxi")


def test_a_token_is_printed_once_listed_without_it_and_revoked(
    run: Any, accounts: Accounts
) -> None:
    run("users", "add", "ana")
    made = json.loads(run("tokens", "create", "ana", "--expires", "12h", "--name", "ci", "--json"))
    assert made["token"].startswith("shp_") and made["name"] == "ci"
    assert accounts.authenticate(made["token"]).name == "ana"
    listed = run("tokens", "list", "ana", "--json")
    assert made["token"] not in listed
    [token] = json.loads(listed)["tokens"]
    assert (token["id"], token["state"]) == (made["id"], "active")
    assert json.loads(run("tokens", "revoke", made["id"], "--json"))["state"] == "revoked"
    never = json.loads(run("tokens", "create", "ana", "--expires", "never", "--json"))
    assert never["expires_at"] is None


def test_the_admin_commands_write_the_audit_log_which_exports(run: Any) -> None:
    run("users", "add", "ana")
    run("projects", "add", "taxi")
    run("projects", "add", "fraud")
    run("grant", "ana", "--project", "taxi", "--role", "viewer")
    lines = [json.loads(line) for line in run("audit").splitlines()]
    assert [entry["action"] for entry in lines] == [
        "user.add",
        "project.add",
        "project.add",
        "grant",
    ]
    assert {entry["actor"] for entry in lines} == {lines[0]["actor"]}
    assert lines[0]["actor"].startswith("host:")
    rows = list(csv.DictReader(io.StringIO(run("audit", "--project", "taxi", "--format", "csv"))))
    assert [row["action"] for row in rows] == ["project.add", "grant"]
    assert run("audit", "--since", "2999-01-01T00:00:00") == ""


@pytest.mark.parametrize(
    ("args", "error", "says"),
    [
        (["users", "add", "ana"], AlreadyExistsError, "'ana' exists already"),
        (["grant", "ana", "--project", "taxi", "--role", "viewer"], NotFoundError, "'taxi'"),
        (["tokens", "create", "bob"], NotFoundError, "No user named 'bob'"),
        (["tokens", "create", "ana", "--expires", "soon"], InvalidParameterError, "'--expires'"),
        (["audit", "--since", "yesterday"], InvalidParameterError, "'--since' parameter"),
        (["users", "add", "x", "--password-stdin"], InvalidParameterError, "Got 5 instead"),
        (["users", "password", "nobody", "--password-stdin"], InvalidParameterError, "Got 5"),
        (["users", "password", "ana"], InvalidParameterError, "No password to set"),
    ],
)
def test_mistakes_are_refused_with_what_to_do(
    run: Any, store_url: str, args: list[str], error: type[Exception], says: str
) -> None:
    run("users", "add", "ana")
    with pytest.raises(error, match=says):
        CliRunner().invoke(
            cli, [*args, "--store", store_url], input="short\n", catch_exceptions=False
        )


@pytest.mark.slow
def test_a_token_alone_goes_to_stdout_and_errors_print_a_headline(
    store_url: str, tmp_path: Path
) -> None:
    store = ["--store", store_url]
    assert shipyard(tmp_path, "users", "add", "ana", *store).returncode == 0
    made = shipyard(tmp_path, "tokens", "create", "ana", *store)
    assert made.returncode == 0 and made.stdout.startswith("shp_")
    assert made.stdout.count("\n") == 1 and "shown this once" in made.stderr
    taken = shipyard(tmp_path, "users", "add", "ana", *store)
    assert taken.returncode == 1
    assert "Error: Already exists: A user named 'ana' exists already." in taken.stderr
