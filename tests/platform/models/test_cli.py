"""`shipyard models register` and `shipyard endpoints` against the API over 127.0.0.1: a
registration, a deploy to a real `shipyard serve`, a canary, its status, a promotion."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from typer.testing import CliRunner

from shipyard.cli.main import app
from shipyard.errors import ServerRequestError
from shipyard.platform.auth.records import Actor
from tests.platform.http import call
from tests.platform.models.api import serving_model_api
from tests.platform.models.pushes import push_run
from tests.serving.conftest import penguin_rows

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from typer.testing import Result

    from tests.platform.models.api import ModelServer


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ModelServer]:
    """The APIs on a fresh store in `tmp_path`."""
    with serving_model_api(tmp_path) as serving:
        yield serving


def _invoke(served: ModelServer, who: str, *args: str) -> Result:
    options = ["--server", served.server.url, "--token", served.server.tokens[who]]
    return CliRunner().invoke(app, [*args, *options])


def _cli(served: ModelServer, who: str, *args: str) -> tuple[int, str]:
    result = _invoke(served, who, *args)
    assert result.exception is None or result.exit_code == 0, result.exception
    return result.exit_code, " ".join(result.output.split())


def _refused(served: ModelServer, who: str, *args: str) -> tuple[int | None, str]:
    """The status and message of the server's refusal (`shipyard` prints it as a headline)."""
    error = _invoke(served, who, *args).exception
    assert isinstance(error, ServerRequestError), error
    return error.status, str(error)


def _json(served: ModelServer, who: str, *args: str) -> Any:
    code, output = _cli(served, who, *args, "--json")
    assert code == 0, output
    return json.loads(output)


def test_register_is_idempotent_and_refusals_name_the_status(
    served: ModelServer, tmp_path: Path
) -> None:
    run, pushed = push_run(served.store, tmp_path / "models", "one")
    register = ("models", "register", "fares", "--project", "taxi", "--run-id", run.id)
    first = _json(served, "editor", *register)
    assert (first["version"], first["artifact_id"], first["blessed"]) == (1, pushed, True)
    assert _json(served, "editor", *register) == first
    code, output = _cli(served, "editor", *register[:-2], "--artifact-id", str(pushed))
    assert code == 0 and "taxi/fares version 1: artifact" in output

    assert _refused(served, "viewer", *register)[0] == 403
    status, message = _refused(
        served, "editor", "endpoints", "promote", "live", "--project", "taxi"
    )
    assert status == 404 and "no endpoint 'live'" in message
    assert _json(served, "viewer", "endpoints", "list", "--project", "taxi") == {"endpoints": []}

    served.supervisor.create("taxi", "spare", model="fares", actor=Actor("root"))
    at = ("spare", "--project", "taxi")
    assert _refused(served, "viewer", "endpoints", "delete", *at)[0] == 403
    code, output = _cli(served, "editor", "endpoints", "delete", *at)
    assert code == 0 and "Deleted endpoint taxi/spare." in output
    assert _refused(served, "editor", "endpoints", "delete", *at)[0] == 404


@pytest.mark.slow
def test_deploy_a_canary_see_it_and_promote_it(
    served: ModelServer, tmp_path: Path, trained: dict[str, Path]
) -> None:
    for tag in ("one", "two"):
        run, _ = push_run(served.store, tmp_path / "models", tag, source=trained["penguins"])
        _json(
            served,
            "editor",
            "models",
            "register",
            "penguins",
            "--project",
            "taxi",
            "--run-id",
            run.id,
        )
    at = ("live", "--project", "taxi")
    deployed = _json(
        served, "editor", "endpoints", "deploy", *at, "--model", "penguins", "--version", "1"
    )
    assert (deployed["state"], deployed["traffic"]["stable"]) == ("running", 1)
    canaried = _json(
        served,
        "editor",
        "endpoints",
        "traffic",
        *at,
        "--stable",
        "1",
        "--canary",
        "2",
        "--canary-percent",
        "30",
    )
    assert canaried["pid"] == deployed["pid"] and canaried["traffic"]["canary_percent"] == 30
    status = _json(served, "viewer", "endpoints", "status", *at)
    assert [(v["version"], v["labels"], v["state"]) for v in status["serving"]] == [
        (2, ["canary"], "AVAILABLE"),
        (1, ["stable"], "AVAILABLE"),
    ]
    code, output = _cli(served, "viewer", "endpoints", "status", *at)
    assert code == 0 and "canary 2 (30%)" in output and "AVAILABLE" in output

    # Predictions through the platform server: its auth, then the endpoint's own server.
    path = f"{served.server.url}/api/projects/taxi/endpoints/live/v1/models/penguins"
    body = {"instances": [penguin_rows()[0]]}
    headers = {"X-Request-Id": "through-the-proxy"}
    answer = call(
        "POST",
        f"{path}/versions/2:predict",
        token=served.server.tokens["viewer"],
        body=body,
        headers=headers,
    )
    assert answer.status == 200 and len(answer.json()["predictions"]) == 1
    assert answer.headers["x-request-id"] == "through-the-proxy"
    assert call("GET", path).status == 401
    assert call("GET", path, token=served.server.tokens["outsider"]).status == 404

    code, output = _cli(served, "editor", "endpoints", "promote", *at)
    assert code == 0 and "stable 2, running at http://127.0.0.1:" in output
    status, message = _refused(served, "editor", "endpoints", "rollback", *at)
    assert status == 409 and "has no canary" in message
    code, output = _cli(served, "viewer", "endpoints", "list", "--project", "taxi")
    assert code == 0 and "live" in output and "penguins" in output
