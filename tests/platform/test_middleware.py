"""The authentication middleware over a real socket: tokens, principals, refusals, audit."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import JSONResponse
from starlette.routing import Route

from shipyard.platform.access import Action, Role
from shipyard.platform.auth.denials import denial_handlers
from shipyard.platform.auth.middleware import AuthMiddleware, principal_of
from tests.platform.conftest import HOST
from tests.platform.http import call
from tests.ui.server import serving

if TYPE_CHECKING:
    from collections.abc import Iterator

    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.types import Message, Receive, Scope, Send

    from shipyard.platform.auth.accounts import Accounts
    from shipyard.platform.auth.audit import AuditLog

pytestmark = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)


async def _whoami(request: Request) -> Response:
    principal = principal_of(request)
    roles = {project: str(role) for project, role in principal.roles.items()}
    return JSONResponse({"name": principal.name, "roles": roles, "id": request.state.request_id})


async def _edit(request: Request) -> Response:
    principal_of(request).require(Action.EDIT, request.path_params["project"])
    return JSONResponse({"edited": True})


async def _public(request: Request) -> Response:
    return JSONResponse({"principal": request.state.principal is not None})


@pytest.fixture
def url(accounts: Accounts, audit: AuditLog) -> Iterator[str]:
    app = Starlette(
        routes=[
            Route("/api/whoami", _whoami),
            Route("/api/projects/{project}/edit", _edit, methods=["POST"]),
            Route("/api/login", _public),
        ],
        middleware=[Middleware(AuthMiddleware, accounts=accounts, audit=audit)],
        exception_handlers={**denial_handlers(audit)},
    )
    with serving(app) as base:
        yield base


@pytest.fixture
def ana(accounts: Accounts) -> str:
    """A token of the user ana, runner in project taxi, viewer in fraud."""
    accounts.add_user("ana", actor=HOST)
    for project, role in (("taxi", Role.RUNNER), ("fraud", Role.VIEWER), ("ads", None)):
        accounts.add_project(project, actor=HOST)
        if role is not None:
            accounts.grant("ana", project, role, actor=HOST)
    return accounts.create_token("ana", actor=HOST).secret


def test_a_token_puts_its_principal_on_the_request(url: str, ana: str) -> None:
    answer = call("GET", f"{url}/api/whoami", token=ana, headers={"X-Request-Id": "abc-1"})
    assert answer.status == 200
    assert answer.json() == {
        "name": "ana",
        "roles": {"taxi": "runner", "fraud": "viewer"},
        "id": "abc-1",
    }
    assert answer.headers["x-request-id"] == "abc-1"
    drawn = call("GET", f"{url}/api/whoami", token=ana)
    assert len(drawn.headers["x-request-id"]) == 32 == len(drawn.json()["id"])


@pytest.mark.parametrize(
    ("authorization", "challenge", "says"),
    [
        (None, 'Bearer realm="shipyard"', "needs a token"),
        ("Basic YW5hOnB3", 'error="invalid_token"', "must be 'Bearer TOKEN'"),
        ("Bearer shp_nope", 'error="invalid_token"', "not a Shipyard token"),
        ("Bearer shp_" + "A" * 43, 'error="invalid_token"', "not known"),
    ],
)
def test_no_token_or_a_bad_one_is_a_401_and_audited(
    url: str, audit: AuditLog, authorization: str | None, challenge: str, says: str
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    answer = call("GET", f"{url}/api/whoami", headers={**headers, "X-Request-Id": "r-9"})
    assert answer.status == 401
    assert answer.headers["content-type"] == "application/problem+json"
    assert challenge in answer.headers["www-authenticate"]
    assert says in answer.json()["detail"]
    [event] = audit.events()
    assert (event.actor, event.action, event.outcome) == (None, "GET /api/whoami", "denied")
    assert (event.request_id, event.client) == ("r-9", "127.0.0.1")
    assert event.detail["status"] == 401


def test_revoking_a_token_or_a_grant_takes_effect_at_the_next_request(
    url: str, ana: str, accounts: Accounts
) -> None:
    accounts.grant("ana", "taxi", Role.EDITOR, actor=HOST)
    assert call("POST", f"{url}/api/projects/taxi/edit", token=ana).status == 200
    accounts.revoke("ana", "taxi", actor=HOST)
    assert call("POST", f"{url}/api/projects/taxi/edit", token=ana).status == 404
    [token] = accounts.list_tokens("ana")
    accounts.revoke_token(token.id, actor=HOST)
    answer = call("GET", f"{url}/api/whoami", token=ana)
    assert answer.status == 401 and "revoked" in answer.json()["detail"]


def test_a_role_that_may_not_is_403_another_project_404_both_audited(
    url: str, ana: str, audit: AuditLog
) -> None:
    forbidden = call("POST", f"{url}/api/projects/taxi/edit", token=ana)
    assert forbidden.status == 403
    assert "'ana' is runner in project 'taxi'" in forbidden.json()["detail"]
    hidden = call("POST", f"{url}/api/projects/ads/edit", token=ana)
    assert hidden.status == 404 and hidden.json()["title"] == "Not found"
    denied = [
        (e.actor, e.action, e.detail["status"]) for e in audit.events() if e.outcome == "denied"
    ]
    assert denied == [
        ("ana", "POST /api/projects/taxi/edit", 403),
        ("ana", "POST /api/projects/ads/edit", 404),
    ]


def test_a_public_path_needs_no_token_but_refuses_a_bad_one(url: str, ana: str) -> None:
    assert call("GET", f"{url}/api/login").json() == {"principal": False}
    assert call("GET", f"{url}/api/login", token=ana).json() == {"principal": True}
    assert call("GET", f"{url}/api/login", token="shp_" + "B" * 43).status == 401


def test_a_request_id_that_cannot_be_one_is_a_400(url: str, ana: str) -> None:
    answer = call("GET", f"{url}/api/whoami", token=ana, headers={"X-Request-Id": "a b"})
    assert answer.status == 400 and "X-Request-Id" in answer.json()["detail"]


def test_a_websocket_without_a_token_is_closed_with_a_policy_violation(
    accounts: Accounts, audit: AuditLog
) -> None:
    reached: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        reached.append(scope["path"])

    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "websocket", "path": "/api/jobs/1/logs", "headers": [], "client": ("h", 1)}
    asyncio.run(AuthMiddleware(app, accounts=accounts, audit=audit)(scope, receive, send))
    assert reached == [] and sent[0]["type"] == "websocket.close" and sent[0]["code"] == 1008
    [event] = audit.events()
    assert (event.action, event.outcome) == ("WEBSOCKET /api/jobs/1/logs", "denied")


def test_a_session_cookie_reads_but_never_changes_anything(
    url: str, ana: str, accounts: Accounts, audit: AuditLog
) -> None:
    cookie = {"Cookie": f"shipyard_token={ana}"}
    assert call("GET", f"{url}/api/whoami", headers=cookie).json()["name"] == "ana"
    accounts.grant("ana", "taxi", Role.EDITOR, actor=HOST)
    changing = call("POST", f"{url}/api/projects/taxi/edit", headers=cookie)
    assert changing.status == 401 and "only reads" in changing.json()["detail"]
    assert call("POST", f"{url}/api/projects/taxi/edit", token=ana, headers=cookie).status == 200
    forged = call("GET", f"{url}/api/whoami", headers={"Cookie": "shipyard_token=shp_x"})
    assert forged.status == 401 and "session cookie is not" in forged.json()["detail"]
    assert 'error="invalid_token"' in forged.headers["www-authenticate"]
    assert [e.detail["status"] for e in audit.events() if e.outcome == "denied"] == [401, 401]
