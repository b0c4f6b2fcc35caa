"""The compare page and `/api/compare` over a real socket on the penguins runs: the JSON is
`shipyard runs compare --json`'s, and the runs page's selection leads to the page."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from typer.testing import CliRunner

from shipyard.cli.main import app as cli
from tests.ui.server import get

if TYPE_CHECKING:
    from tests.ui.conftest import Penguins


def test_the_compare_api_is_the_cli_json_and_takes_either_form_of_the_selection(
    penguins: Penguins,
) -> None:
    first, failed = penguins.first, penguins.failed
    answer = get(f"{penguins.url}/api/compare?runs={first},{failed}")
    result = CliRunner().invoke(
        cli, ["runs", "compare", first, failed, "--store", penguins.store, "--json"]
    )
    assert result.exit_code == 0, result.output
    assert answer.status == 200 and answer.json() == json.loads(result.output)
    assert answer.json()["changed_parameters"] == ["source"]
    as_form = get(f"{penguins.url}/api/compare?runs={first}&runs={failed}")
    assert as_form.json() == answer.json()

    one = get(f"{penguins.url}/api/compare?runs={first}")
    assert one.status == 400 and "at least 2 runs" in one.json()["detail"]
    unknown = get(f"{penguins.url}/api/compare?runs={first},no-such-run")
    assert unknown.status == 404 and "no-such-run" in unknown.json()["detail"]
    many = get(f"{penguins.url}/api/compare?runs=" + ",".join(["a"] * 11))
    assert many.status == 400 and many.json()["parameter"] == "runs"
    other = get(f"{penguins.url}/api/compare?runs={first},{failed}&x=1")
    assert other.status == 400 and other.json()["parameter"] == "x"


def test_the_compare_page_marks_changed_parameters_and_metric_differences(
    penguins: Penguins,
) -> None:
    runs_page = get(f"{penguins.url}/runs").text
    assert '<form id=compare class=compare method=get action="/compare">' in runs_page
    assert f'name=runs value="{penguins.first}" form=compare' in runs_page
    page = get(f"{penguins.url}/compare?runs={penguins.first}&runs={penguins.cached}")
    assert page.status == 200
    html = page.text
    assert "<h1>Comparing 2 runs</h1>" in html
    assert f'href="/runs/{penguins.cached}"' in html
    assert "Parameters (0 changed)" in html and "evaluate: accuracy" in html
    assert "outputs same" in html and "data-changed" not in html  # the cached run: same content
    with_failed = get(f"{penguins.url}/compare?runs={penguins.first},{penguins.failed}").text
    assert "Parameters (1 changed)" in with_failed
    assert '<tr class=changed data-changed=""><th scope=row>source' in with_failed
    missing = get(f"{penguins.url}/compare?runs={penguins.first}")
    assert missing.status == 400 and "role=alert" in missing.text
