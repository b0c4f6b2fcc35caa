"""Every endpoint of the auth API x every role x this project and another one's.

Default deny: no token is a 401; a role that may not is a 403; a project one may not read,
or another user's token, is a 404 like a miss.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import pytest

from shipyard.platform.access import Role
from tests.platform.api import PASSWORD, serving_auth_api
from tests.platform.conftest import HOST
from tests.platform.http import call

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.platform.api import Server

WHO = ("anonymous", "viewer", "runner", "editor", "admin", "outsider", "root")
_serial = itertools.count()


def _only(allowed: str | tuple[str, ...], status: int, *, others: int = 403) -> dict[str, int]:
    """`status` for the principals in `allowed` (and root), `others` for the rest, 401 for none."""
    chosen = {allowed} if isinstance(allowed, str) else set(allowed)
    return {
        who: 401 if who == "anonymous" else status if who in chosen | {"root"} else others
        for who in WHO
    }


READERS = ("viewer", "runner", "editor", "admin")
TAXI_ADMIN = {**_only("admin", 200), "outsider": 404}
MATRIX: dict[str, dict[str, int]] = {
    "GET /api/projects": _only(WHO, 200),
    "POST /api/projects": _only((), 201),
    "GET /api/projects/taxi/members": {**_only(READERS, 200), "outsider": 404},
    "GET /api/projects/fraud/members": {**_only("outsider", 200, others=404)},
    "PUT /api/projects/taxi/members/target": TAXI_ADMIN,
    "DELETE /api/projects/taxi/members/target": TAXI_ADMIN,
    "PUT /api/projects/fraud/members/target": _only("outsider", 200, others=404),
    "GET /api/projects/nope/members": _only((), 404, others=404),
    "GET /api/audit?project=taxi": TAXI_ADMIN,
    "GET /api/audit?project=fraud": _only("outsider", 200, others=404),
    "GET /api/audit": _only((), 200),
    "GET /api/users": _only((), 200),
    "POST /api/users": _only((), 201),
    "GET /api/tokens": _only(WHO, 200),
    "GET /api/tokens?user=target": _only((), 200),
    "POST /api/tokens": _only(WHO, 201),
    "POST /api/tokens (for target)": _only((), 201),
    "DELETE /api/tokens/{target's}": _only((), 200, others=404),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving_auth_api(tmp_path_factory.mktemp("matrix")) as served:
        yield served


def _request(server: Server, endpoint: str) -> tuple[str, str, object]:
    method, _, rest = endpoint.partition(" ")
    path = rest.split(" ")[0]
    body: object = None
    if endpoint == "POST /api/projects":
        body = {"name": f"p{next(_serial)}"}
    elif endpoint == "POST /api/users":
        body = {"name": f"u{next(_serial)}", "password": PASSWORD}
    elif method == "PUT":
        body = {"role": "viewer"}
    elif endpoint == "POST /api/tokens":
        body = {"name": "matrix", "expires": "1d"}
    elif endpoint == "POST /api/tokens (for target)":
        body = {"name": "matrix", "user": "target"}
    elif endpoint == "DELETE /api/tokens/{target's}":
        path = f"/api/tokens/{server.accounts.create_token('target', actor=HOST).token.id}"
    return method, path, body


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("endpoint", MATRIX)
def test_each_endpoint_answers_each_principal_as_its_role_allows(
    server: Server, endpoint: str, who: str
) -> None:
    method, path, body = _request(server, endpoint)
    token = server.tokens.get(who)
    answer = call(method, f"{server.url}{path}", token=token, body=body)
    expected = MATRIX[endpoint][who]
    assert answer.status == expected, (answer.status, answer.body)
    if expected >= 400:
        assert answer.headers["content-type"] == "application/problem+json"
    if expected >= 400 and who != "root":  # root's 404 is a miss, not a refusal
        [event] = server.audit.events(after=_last_id(server) - 1)
        assert (event.outcome, event.action) == ("denied", f"{method} {path.split('?')[0]}")
        assert event.actor == (None if who == "anonymous" else who)


def _last_id(server: Server) -> int:
    return server.audit.events()[-1].id


def test_each_user_lists_only_the_projects_it_may_read_with_its_role(server: Server) -> None:
    def listed(who: str) -> dict[str, str | None]:
        answer = call("GET", f"{server.url}/api/projects", token=server.tokens[who])
        return {p["name"]: p["role"] for p in answer.json()["projects"]}

    assert listed("runner") == {"taxi": "runner"}
    assert listed("outsider") == {"fraud": "admin"}
    assert {"taxi": None, "fraud": None}.items() <= listed("root").items()


def test_a_grant_takes_effect_at_the_next_request(server: Server) -> None:
    url, token = f"{server.url}/api/audit?project=taxi", server.tokens["viewer"]
    assert call("GET", url, token=token).status == 403
    server.accounts.grant("viewer", "taxi", Role.ADMIN, actor=HOST)
    try:
        assert call("GET", url, token=token).status == 200
    finally:
        server.accounts.grant("viewer", "taxi", Role.VIEWER, actor=HOST)
    assert call("GET", url, token=token).status == 403
