"""The models and endpoints API over a real socket, behind the platform's auth: every route
for every role, in its project and in another, and the errors it answers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from starlette.routing import Route

from shipyard.platform.auth.records import Actor
from shipyard.platform.models.openapi import PROXY_PREFIX, model_paths
from shipyard.platform.models.routes import model_routes
from tests.platform.http import call
from tests.platform.models.api import serving_model_api
from tests.platform.models.pushes import push_run

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.platform.api import Server

ROOT = Actor("root")
READERS = ("viewer", "runner", "editor", "admin", "root")
EDITORS = ("editor", "admin", "root")
P = "/api/projects/taxi"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The auth and model APIs; taxi has model `fares` (version 1) and endpoints `live` and
    `d-USER` for each editor; fraud has model `secret` and endpoint `hidden`."""
    folder = tmp_path_factory.mktemp("api")
    with serving_model_api(folder) as served:
        _, pushed = push_run(served.store, folder / "models", "one")
        for project, model, endpoints in (
            ("taxi", "fares", ["live", *(f"d-{who}" for who in EDITORS)]),
            ("fraud", "secret", ["hidden"]),
        ):
            served.registry.create_model(project, model, actor=ROOT)
            served.registry.register_version(project, model, artifact_id=pushed, actor=ROOT)
            for name in endpoints:
                served.supervisor.create(project, name, model=model, actor=ROOT)
        yield served.server


def _cases() -> list[tuple[str, str, Any, dict[str, int]]]:
    """(method, path, body, status by user) for each route; `{who}` names the user."""
    reads = {who: 200 for who in READERS}

    def edit(done: int) -> dict[str, int]:
        return {"viewer": 403, "runner": 403, **dict.fromkeys(EDITORS, done)}

    traffic = {"stable": 1, "canary": 1, "canary_percent": 5}
    return [
        ("GET", f"{P}/models", None, reads),
        ("GET", f"{P}/models/fares", None, reads),
        ("GET", f"{P}/endpoints", None, reads),
        ("GET", f"{P}/endpoints/live", None, reads),
        ("GET", f"{P}/endpoints/live/v1/models/fares", None, dict.fromkeys(READERS, 503)),
        ("POST", f"{P}/models", {"name": "m-{who}"}, edit(201)),
        ("POST", f"{P}/models/fares/versions", {"run_id": "{run}"}, edit(200)),
        ("POST", f"{P}/endpoints", {"name": "e-{who}", "model": "fares"}, edit(201)),
        ("PUT", f"{P}/endpoints/live/traffic", traffic, edit(400)),
        ("POST", f"{P}/endpoints/live/promote", None, edit(409)),
        ("POST", f"{P}/endpoints/live/rollback", None, edit(409)),
        ("DELETE", f"{P}/endpoints/d-{{who}}", None, edit(204)),
    ]


@pytest.mark.parametrize(("method", "path", "body", "expected"), _cases())
@pytest.mark.parametrize("who", [*READERS, "outsider", "anonymous"])
def test_every_route_answers_each_role(
    server: Server, who: str, method: str, path: str, body: Any, expected: dict[str, int]
) -> None:
    status = {"outsider": 404, "anonymous": 401, **expected}[who]
    run_id = _run_id(server)
    sent = None
    if body is not None:
        sent = {
            k: v.format(who=who, run=run_id) if isinstance(v, str) else v for k, v in body.items()
        }
    token = None if who == "anonymous" else server.tokens[who]
    answer = call(method, server.url + path.format(who=who), token=token, body=sent)
    assert answer.status == status, (answer.status, answer.body)
    if status >= 400:
        assert answer.headers["content-type"] == "application/problem+json"
    if status in (401, 403, 404):
        [event] = server.audit.events(after=server.audit.events()[-1].id - 1)
        assert (event.outcome, event.action) == ("denied", f"{method} {path.format(who=who)}")


def _run_id(server: Server) -> str:
    answer = call("GET", f"{server.url}{P}/models/fares", token=server.tokens["root"])
    return str(answer.json()["versions"][0]["run_id"])


def test_another_projects_models_and_endpoints_are_misses(server: Server) -> None:
    for who, path in [
        ("editor", "/api/projects/fraud/models/secret"),
        ("editor", "/api/projects/fraud/endpoints/hidden"),
        ("outsider", "/api/projects/fraud/endpoints/live"),
        ("outsider", "/api/projects/fraud/models/fares"),
    ]:
        answer = call("GET", server.url + path, token=server.tokens[who])
        assert answer.status == 404, (who, path, answer.body)
    mine = call("GET", f"{server.url}/api/projects/fraud/models", token=server.tokens["outsider"])
    assert [m["name"] for m in mine.json()["models"]] == ["secret"]


def test_documents_and_bad_fields(server: Server) -> None:
    token = server.tokens["editor"]
    fares = call("GET", f"{server.url}{P}/models/fares", token=token).json()
    assert [(v["version"], v["blessed"]) for v in fares["versions"]] == [(1, True)]
    live = call("GET", f"{server.url}{P}/endpoints/live", token=token).json()
    assert (live["model"], live["state"], live["url"], live["serving"]) == (
        "fares",
        "stopped",
        None,
        [],
    )
    assert live["error"].startswith("not running: created")
    assert live["traffic"] == {"stable": None, "canary": None, "canary_percent": 0.0}

    for method, path, body, field in [
        ("POST", "/models/fares/versions", {"artifact_id": "7"}, "artifact_id"),
        ("POST", "/models", {"description": "no name"}, "name"),
        ("PUT", "/endpoints/live/traffic", {"canary": 2}, "stable"),
        ("PUT", "/endpoints/live/traffic", {"stable": 1, "canary_percent": "5"}, "canary_percent"),
    ]:
        answer = call(method, f"{server.url}{P}{path}", token=token, body=body)
        assert (answer.status, answer.json().get("parameter")) == (400, field), answer.body
    unknown = call(
        "PUT", f"{server.url}{P}/endpoints/live/traffic", token=token, body={"stable": 9}
    )
    assert unknown.status == 404 and "no version 9" in unknown.json()["detail"]
    taken = call("POST", f"{server.url}{P}/models", token=token, body={"name": "fares"})
    assert taken.status == 409
    bad_name = call(
        "POST", f"{server.url}{P}/endpoints", token=token, body={"name": "a/b", "model": "fares"}
    )
    assert bad_name.status == 400 and "endpoint name must be" in bad_name.json()["detail"]


def test_the_openapi_paths_are_the_routes() -> None:
    documented = {
        (path, method.upper())
        for path, item in model_paths().items()
        for method in item
        if method != "parameters"
    }
    routes = model_routes(None, None, None)  # type: ignore[arg-type]
    served = {
        (route.path, method)
        for route in routes
        if isinstance(route, Route) and not route.path.endswith("{rest:path}")
        for method in (route.methods or set()) - {"HEAD"}
    }
    proxied = {(path, method) for path, method in documented if "/{endpoint}/v" in path}
    assert documented - proxied == served
    proxy = next(r for r in routes if isinstance(r, Route) and r.path.endswith("{rest:path}"))
    assert proxy.path == PROXY_PREFIX + "/{rest:path}"
    assert {method for _path, method in proxied} <= (proxy.methods or set())
    assert all(
        path.startswith((f"{PROXY_PREFIX}/v1/", f"{PROXY_PREFIX}/v2/")) for path, _ in proxied
    )
