"""Every project's web UI on the platform server, to its readers only, over a real socket."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from tests.platform.conftest import HOST
from tests.platform.web.server import WebServer, fetch, record_run, running_web_server
from tests.ui.server import Answer, get

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[WebServer, str]]:
    root = tmp_path_factory.mktemp("server")
    run_id = record_run(f"sqlite:///{root / 'store.db'}", root, "demo")
    with running_web_server(root) as running:
        yield running, run_id


def _as(server: WebServer, user: str, path: str) -> Answer:
    return get(server.url + path, headers={"Authorization": f"Bearer {server.tokens[user]}"})


def _hrefs(html: str) -> list[str]:
    return re.findall(r'(?:href|src|action|data-live)="([^"]*)"', html)


def test_the_home_page_lists_only_the_projects_one_may_read(server: tuple[WebServer, str]) -> None:
    running, _ = server
    listed = _as(running, "vera", "/")
    assert listed.status == 200
    assert 'href="/projects/demo/"' in listed.text and "/projects/other/" not in listed.text
    assert "viewer" in listed.text and "Sign out" in listed.text
    both = _as(running, "root", "/").text
    assert "/projects/demo/" in both and "/projects/other/" in both
    olga = _as(running, "olga", "/").text
    assert "/projects/other/" in olga and "/projects/demo/" not in olga
    running.auth.accounts.add_user("nina", actor=HOST)
    running.tokens["nina"] = running.auth.accounts.create_token("nina", actor=HOST).secret
    nina = _as(running, "nina", "/").text
    assert "no role in any project yet" in nina and "/projects/" not in nina


def test_a_project_s_pages_and_api_live_under_its_prefix(server: tuple[WebServer, str]) -> None:
    running, run_id = server
    token = {"Authorization": f"Bearer {running.tokens['vera']}"}
    moved = fetch(f"{running.url}/projects/demo", headers=token)
    assert moved.headers["location"] == "/projects/demo/"
    assert fetch(f"{running.url}/projects/demo/", headers=token).headers["location"] == (
        "/projects/demo/runs"
    )
    home = _as(running, "vera", "/projects/demo/")
    assert home.status == 200 and run_id in home.text  # redirected on to the runs
    runs = _as(running, "vera", "/projects/demo/runs").text
    own = [h for h in _hrefs(runs) if h.startswith("/") and h != "/"]
    assert own and all(h.startswith("/projects/demo/") for h in own), own
    assert f'href="/projects/demo/runs/{run_id}"' in runs
    assert "<span class=project>demo</span>" in runs
    run = _as(running, "vera", f"/projects/demo/runs/{run_id}")
    assert run.status == 200 and "measure" in run.text
    listed = _as(running, "vera", "/projects/demo/api/runs")
    assert [r["id"] for r in listed.json()] == [run_id]
    assert _as(running, "vera", "/projects/demo/static/ui.js").status == 200
    assert _as(running, "vera", "/projects/demo/api/runs/nope").status == 404
    models = _as(running, "vera", "/projects/demo/api/models")
    assert models.status == 200 and models.json() == {"models": []}  # not the server's cwd's


def test_another_project_s_ui_answers_404_as_one_that_does_not_exist(
    server: tuple[WebServer, str],
) -> None:
    running, _ = server
    for path in ("/projects/demo/runs", "/projects/nope/runs", "/projects/Bad!/runs"):
        page = _as(running, "olga", path)
        assert page.status == 404 and "text/html" in page.headers["content-type"], path
    api = _as(running, "olga", "/projects/demo/api/runs")
    assert api.status == 404 and api.headers["content-type"] == "application/problem+json"
    assert _as(running, "root", "/projects/nope/api/runs").status == 404
    refused = [e for e in running.auth.audit.events() if e.actor == "olga"]
    assert [(e.action, e.detail["status"]) for e in refused] == [
        ("GET /projects/demo/runs", 404),
        ("GET /projects/nope/runs", 404),
        ("GET /projects/demo/api/runs", 404),
    ]
    assert get(f"{running.url}/projects/demo/api/runs").status == 401


def test_each_project_s_store_is_opened_once(server: tuple[WebServer, str]) -> None:
    running, _ = server
    for _ in range(3):
        assert _as(running, "root", "/projects/other/runs").status == 200
    assert running.opened.count("other") == 1


def test_the_openapi_document_names_the_ui_paths_under_a_project(
    server: tuple[WebServer, str],
) -> None:
    running, _ = server
    paths = get(f"{running.url}/api/openapi.json").json()["paths"]
    operation = paths["/projects/{project}/api/runs/{run_id}"]["get"]
    assert [p["name"] for p in operation["parameters"]] == ["project", "run_id"]
    assert "/api/runs" not in paths
