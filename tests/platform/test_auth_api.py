"""The auth API over a real socket: login and its throttle, tokens, users, members, audit."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from shipyard.platform.auth import routes
from tests.platform.api import PASSWORD, serving_auth_api
from tests.platform.http import call

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.platform.api import Server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with serving_auth_api(tmp_path) as served:
        yield served


def test_a_login_gets_a_token_for_eight_hours(server: Server) -> None:
    answer = call("POST", f"{server.url}/api/login", body={"name": "runner", "password": PASSWORD})
    assert answer.status == 201
    made = answer.json()
    assert made["kind"] == "login" and made["user"] == "runner"
    lifetime = datetime.fromisoformat(made["expires_at"]) - datetime.fromisoformat(
        made["created_at"]
    )
    assert lifetime == timedelta(hours=8)
    mine = call("GET", f"{server.url}/api/tokens", token=made["token"])
    assert made["id"] in [token["id"] for token in mine.json()["tokens"]]
    assert made["token"] not in mine.text
    [event] = [
        e for e in server.audit.events() if e.action == "token.create" and e.actor == "runner"
    ]
    assert event.client == "127.0.0.1" and event.request_id is not None


def test_a_login_for_a_browser_session_sets_a_strict_http_only_cookie(server: Server) -> None:
    body = {"name": "runner", "password": PASSWORD, "session": True}
    answer = call("POST", f"{server.url}/api/login", body=body)
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"shipyard_token={answer.json()['token']};")
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/", "max-age=28800"} <= attributes
    assert "secure" not in attributes  # plain http here; https sets it
    plain = call("POST", f"{server.url}/api/login", body={"name": "runner", "password": PASSWORD})
    assert "set-cookie" not in plain.headers
    stale = {"Cookie": f"shipyard_token=shp_{'x' * 43}"}  # an expired session's cookie
    again = call("POST", f"{server.url}/api/login", body=body, headers=stale)
    assert again.status == 201


def test_five_failed_logins_a_minute_make_the_next_wait_even_with_the_password(
    server: Server,
) -> None:
    url = f"{server.url}/api/login"
    for _ in range(5):
        wrong = call("POST", url, body={"name": "runner", "password": "wrong horse"})
        assert wrong.status == 401
        assert wrong.json()["detail"].startswith("Wrong user name or password")
    throttled = call("POST", url, body={"name": "runner", "password": PASSWORD})
    assert throttled.status == 429
    assert 1 <= int(throttled.headers["retry-after"]) <= 60
    denied = [e.detail["status"] for e in server.audit.events() if e.action == "login"]
    assert denied == [401] * 5 + [429]


def test_failures_from_one_address_throttle_every_name_it_tries(server: Server) -> None:
    url = f"{server.url}/api/login"
    for name in ("a1", "a2", "a3", "a4", "a5"):  # unknown users fail as wrong passwords do
        assert call("POST", url, body={"name": name, "password": "guess123"}).status == 401
    assert call("POST", url, body={"name": "admin", "password": PASSWORD}).status == 429


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"name": "runner"}, 400, "'password' parameter is required"),
        ({"name": 3, "password": PASSWORD}, 400, "'name' parameter must be a JSON string"),
        ([1, 2], 400, "must be a JSON object"),
        ({"name": "runner", "password": "x" * 70_000}, 413, "over 65536 bytes"),
    ],
)
def test_a_bad_login_body_is_a_4xx_naming_what_is_wrong(
    server: Server, body: object, status: int, says: str
) -> None:
    answer = call("POST", f"{server.url}/api/login", body=body)
    assert answer.status == status and says in answer.json()["detail"]


def test_a_token_is_shown_once_and_revoked_by_its_owner(server: Server) -> None:
    base, mine = server.url, server.tokens["viewer"]
    made = call("POST", f"{base}/api/tokens", token=mine, body={"name": "ci", "expires": "never"})
    assert made.status == 201
    document = made.json()
    assert document["expires_at"] is None and document["state"] == "active"
    assert call("GET", f"{base}/api/tokens", token=document["token"]).status == 200
    listed = call("GET", f"{base}/api/tokens", token=mine).json()["tokens"]
    assert "token" not in listed[-1] and listed[-1]["id"] == document["id"]
    revoked = call("DELETE", f"{base}/api/tokens/{document['id']}", token=mine)
    assert revoked.json()["state"] == "revoked"
    assert call("GET", f"{base}/api/tokens", token=document["token"]).status == 401
    bad = call("POST", f"{base}/api/tokens", token=mine, body={"expires": "30 days"})
    assert bad.status == 400 and "'expires' parameter must be a lifetime" in bad.json()["detail"]


def test_users_and_projects_are_added_once_with_names_that_are_allowed(server: Server) -> None:
    root, base = server.tokens["root"], server.url
    added = call(
        "POST", f"{base}/api/users", token=root, body={"name": "eve", "password": PASSWORD}
    )
    assert added.status == 201 and added.json()["has_password"] is True
    again = call("POST", f"{base}/api/users", token=root, body={"name": "eve"})
    assert again.status == 409 and again.json()["title"] == "Conflict"
    short = call("POST", f"{base}/api/users", token=root, body={"name": "bo", "password": "x"})
    assert short.status == 400 and "Got 1 instead" in short.json()["detail"]
    bad = call("POST", f"{base}/api/projects", token=root, body={"name": "Bad Name"})
    assert bad.status == 400 and "Got 'Bad Name' instead" in bad.json()["detail"]
    logged_in = call("POST", f"{base}/api/login", body={"name": "eve", "password": PASSWORD})
    assert logged_in.status == 201


def test_a_project_admin_grants_and_revokes_roles(server: Server) -> None:
    admin, members = server.tokens["admin"], f"{server.url}/api/projects/taxi/members"
    granted = call("PUT", f"{members}/target", token=admin, body={"role": "editor"})
    assert granted.status == 200
    assert granted.json() == {**granted.json(), "role": "editor", "granted_by": "admin"}
    listed = call("GET", members, token=server.tokens["viewer"]).json()["members"]
    assert {m["user"]: m["role"] for m in listed}["target"] == "editor"
    bad = call("PUT", f"{members}/target", token=admin, body={"role": "owner"})
    assert bad.status == 400 and bad.json()["parameter"] == "role"
    unknown = call("PUT", f"{members}/nobody", token=admin, body={"role": "viewer"})
    assert unknown.status == 404 and "No user named 'nobody'" in unknown.json()["detail"]
    revoked = call("DELETE", f"{members}/target", token=admin)
    assert revoked.json() == {"project": "taxi", "user": "target", "had_role": True}
    events = server.audit.events(project="taxi")
    assert [(e.action, e.actor, e.target) for e in events][-2:] == [
        ("grant", "admin", "target"),
        ("revoke", "admin", "target"),
    ]


def test_the_audit_log_exports_as_json_lines_and_csv(server: Server) -> None:
    root, base = server.tokens["root"], server.url
    call("PUT", f"{base}/api/projects/taxi/members/target", token=root, body={"role": "viewer"})
    lines = call("GET", f"{base}/api/audit?project=taxi&format=jsonl", token=root)
    assert lines.headers["content-type"].startswith("application/jsonl")
    entries = [json.loads(line) for line in lines.text.splitlines()]
    assert entries[-1]["action"] == "grant" and entries[-1]["detail"] == {"role": "viewer"}
    assert {entry["project"] for entry in entries} == {"taxi"}
    table = call("GET", f"{base}/api/audit?project=taxi&format=csv", token=root)
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert [row["id"] for row in rows] == [str(entry["id"]) for entry in entries]
    assert json.loads(rows[-1]["detail"]) == {"role": "viewer"}
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    none = call("GET", f"{base}/api/audit?since={later.replace('+', '%2B')}", token=root)
    assert none.json() == {"events": [], "next_after": None}
    recent = call("GET", f"{base}/api/audit?since=1h", token=root).json()["events"]
    assert len(recent) == len(server.audit.events())
    bad = call("GET", f"{base}/api/audit?format=xml", token=root)
    assert bad.status == 400 and bad.json()["parameter"] == "format"
    assert call("GET", f"{base}/api/audit?since=yesterday", token=root).status == 400


def test_the_audit_log_comes_in_pages(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(routes, "MAX_AUDIT_EVENTS", 3)
    root, url = server.tokens["root"], f"{server.url}/api/audit"
    total, after, seen = len(server.audit.events()), None, []
    while True:
        page = call("GET", url + ("" if after is None else f"?after={after}"), token=root).json()
        seen += [event["id"] for event in page["events"]]
        after = page["next_after"]
        if after is None:
            break
    assert seen == sorted(seen) and len(seen) == total > 3
    csv_page = call("GET", f"{url}?format=csv", token=root)
    assert csv_page.headers["x-next-after"] == str(seen[2])
