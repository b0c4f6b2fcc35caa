"""The UI's JSON API and pages over a real socket, on a store filled by real penguins runs:
the API returns exactly what the CLI's --json returns, and bad input is a 400 naming it."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from shipyard.errors import StoreError
from shipyard.runners import Project
from shipyard.runners.queries import lineage, show_artifact
from shipyard.runners.run_json import describe_run, list_runs
from tests.ui.server import get

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.ui.conftest import Penguins


@pytest.fixture(scope="module")
def reader(penguins: Penguins) -> Iterator[Project]:
    """The same store opened as the CLI opens it."""
    project = Project.open(store=penguins.store, artifact_root=penguins.artifacts, create=False)
    yield project
    project.close()


def test_the_runs_api_is_the_cli_listing_with_the_total_in_a_header(
    penguins: Penguins, reader: Project
) -> None:
    answer = get(f"{penguins.url}/api/runs")
    assert answer.status == 200 and answer.headers["content-type"] == "application/json"
    assert answer.json() == list_runs(reader, limit=50)
    assert [r["id"] for r in answer.json()] == [penguins.failed, penguins.cached, penguins.first]
    assert answer.headers["x-total-count"] == "3"

    best = get(f"{penguins.url}/api/runs?sort=-metrics.accuracy&limit=2").json()
    assert [r["id"] for r in best] == [penguins.cached, penguins.first]  # equal: newest first
    assert best[0]["metrics"]["accuracy"] >= 0.9 and best[0]["models"][0]["version"] == 1
    failed = get(f"{penguins.url}/api/runs?state=failed,interrupted&q=MISSING.CSV")
    assert [r["id"] for r in failed.json()] == [penguins.failed]
    assert failed.headers["x-total-count"] == "1"
    page = get(f"{penguins.url}/api/runs?offset=2&limit=1&sort=started_at")
    assert [r["id"] for r in page.json()] == [penguins.failed]


def test_a_run_an_artifact_and_its_lineage_are_the_cli_json(
    penguins: Penguins, reader: Project
) -> None:
    run = get(f"{penguins.url}/api/runs/{penguins.cached}").json()
    assert run == json.loads(json.dumps(describe_run(reader, penguins.cached)))
    evaluation = run["nodes"]["evaluate"]["outputs"]["evaluation"]["id"]
    artifact = get(f"{penguins.url}/api/artifacts/{evaluation}").json()
    assert artifact == json.loads(json.dumps(show_artifact(reader, evaluation)))
    assert artifact["producer"]["run"] == penguins.first
    found = get(f"{penguins.url}/api/artifacts/{evaluation}/lineage?depth=3").json()
    assert found == json.loads(json.dumps(lineage(reader, evaluation, depth=3)))

    events = get(f"{penguins.url}/api/runs/{penguins.first}/events")  # ended: one event
    assert events.headers["content-type"].startswith("text/event-stream")
    head, data = events.text.strip().split("\n", 1)
    assert head == "event: run" and json.loads(data.removeprefix("data: "))["state"] == "complete"


@pytest.mark.parametrize(
    ("path", "status", "parameter"),
    [
        ("/api/runs?limit=abc", 400, "limit"),
        ("/api/runs?limit=0", 400, "limit"),
        ("/api/runs?offset=-1", 400, "offset"),
        ("/api/runs?sort=size", 400, "sort"),
        ("/api/runs?sort=metrics.a%20b", 400, "sort"),
        ("/api/runs?state=done", 400, "state"),
        ("/api/runs?colour=red", 400, "colour"),
        ("/api/runs?q=" + "x" * 201, 400, "q"),
        ("/api/artifacts/seven", 400, "artifact_id"),
        ("/api/artifacts/1/lineage?depth=0", 400, "depth"),
        ("/api/runs/no-such-run", 404, None),
        ("/api/runs/no-such-run/logs", 404, None),
        ("/api/runs/2/logs?nodes=train", 400, "nodes"),
        ("/api/runs/2/logs/events?level=INFO", 400, "level"),
        ("/api/artifacts/99999", 404, None),
        ("/api/nothing", 404, None),
    ],
)
def test_bad_input_is_a_problem_naming_the_parameter(
    penguins: Penguins, path: str, status: int, parameter: str | None
) -> None:
    answer = get(penguins.url + path)
    assert answer.status == status
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["status"] == status and problem["detail"]
    assert problem.get("parameter") == parameter
    if parameter:
        assert f"'{parameter}'" in problem["detail"]


def test_the_openapi_document_describes_every_api_route(penguins: Penguins) -> None:
    document = get(f"{penguins.url}/api/openapi.json").json()
    assert document["openapi"] == "3.1.0"
    for path, methods in document["paths"].items():
        concrete = path.replace("{run_id}", penguins.first).replace("{artifact_id}", "1")
        if path == "/api/compare":
            concrete += f"?runs={penguins.first},{penguins.cached}"
        assert get(penguins.url + concrete).status == 200, path
        assert "400" in methods["get"]["responses"] or "404" in methods["get"]["responses"]
    names = [p["name"] for p in document["paths"]["/api/runs"]["get"]["parameters"]]
    assert names == ["pipeline", "state", "q", "sort", "offset", "limit"]


def test_pages_show_runs_a_failed_run_and_an_artifact_report(penguins: Penguins) -> None:
    runs = get(f"{penguins.url}/runs", headers={"Cookie": "shipyard-columns=m%3Aaccuracy"})
    assert runs.status == 200 and all(
        run in runs.text for run in (penguins.first, penguins.cached, penguins.failed)
    )
    assert "sort=-metrics.accuracy" in runs.text  # the picked metric column sorts
    assert "<th scope=col>source</th>" not in runs.text  # parameters not picked: no column
    assert "<th scope=col>source</th>" in get(f"{penguins.url}/runs").text  # the default

    failed = get(f"{penguins.url}/runs/{penguins.failed}").text
    assert "missing.csv" in failed and "Resume with: <code class=command>shipyard run " in failed
    first = get(f"{penguins.url}/runs/{penguins.first}")
    assert first.status == 200 and "<svg class=graph" in first.text
    assert 'href="#node-train"' in first.text and "<svg class=timeline" in first.text

    run = get(f"{penguins.url}/api/runs/{penguins.first}").json()
    evaluation = run["nodes"]["evaluate"]["outputs"]["evaluation"]["id"]
    page = get(f"{penguins.url}/artifacts/{evaluation}").text
    report = f"/artifacts/{evaluation}/files/report.html"
    assert f'src="{report}"' in page
    served = get(penguins.url + report)
    assert served.status == 200 and served.headers["content-type"].startswith("text/html")
    assert get(f"{penguins.url}/artifacts/{evaluation}/files/..%2Fstore.db").status == 404
    lineage_page = get(f"{penguins.url}/artifacts/{evaluation}/lineage").text
    assert f'href="/runs/{penguins.first}#node-train"' in lineage_page  # upstream, linked
    missing = get(f"{penguins.url}/runs/no-such-run")
    assert missing.status == 404 and "No run" in missing.text


def test_the_ui_cannot_write_to_the_store(penguins: Penguins) -> None:
    with pytest.raises(StoreError, match="readonly"):
        penguins.project.store.create_run("penguins")


@pytest.mark.slow
def test_the_cli_lists_the_same_runs_with_the_same_filters(penguins: Penguins) -> None:
    from tests.cli.command import shipyard

    common = ["--store", penguins.store, "--json"]
    listed = shipyard(
        penguins.folder, "runs", "--sort", "-metrics.accuracy", "--state", "complete",
        "--limit", "1", "--offset", "1", *common,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    api = get(f"{penguins.url}/api/runs?sort=-metrics.accuracy&state=complete&limit=1&offset=1")
    assert json.loads(listed.stdout) == api.json()
    assert [r["id"] for r in api.json()] == [penguins.first]
    wrong = shipyard(penguins.folder, "runs", "--sort", "size", *common)
    assert wrong.returncode == 1 and "--sort must be started_at, duration_s" in wrong.stderr
    wrong = shipyard(penguins.folder, "runs", "--state", "done", *common)
    assert wrong.returncode == 1 and "--state must be one of running" in wrong.stderr
