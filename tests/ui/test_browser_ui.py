"""The UI in headless Chromium, clicked through as a user would: runs -> run -> node ->
artifact, with the column choice kept; runs -> two selected -> compare; the models page with
a live request rate; screenshots are saved and every page's layout checked
(nothing wider than the window, no chart without marks, no label over another)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from shipyard.ui import create_app
from shipyard.ui.api import ModelSources
from tests.browser import LAYOUT_RESULT_ID, Layout, layout_script
from tests.cdp import Page, browser
from tests.ui.server import get, serving
from tests.ui.stand_in_server import stand_in_server

if TYPE_CHECKING:
    from pathlib import Path

    from tests.ui.conftest import Penguins

pytestmark = pytest.mark.slow


def _check_layout(page: Page, shots: Path, name: str) -> Layout:
    page.screenshot(shots / f"{name}.png")
    page.evaluate(layout_script())
    found = json.loads(page.evaluate(f"document.getElementById('{LAYOUT_RESULT_ID}').textContent"))
    page.evaluate(f"document.getElementById('{LAYOUT_RESULT_ID}').remove()")
    layout = Layout(**found)
    assert layout.problems() == [], name
    empty = page.evaluate(
        "[...document.querySelectorAll('svg.graph, svg.timeline')]"
        ".filter((s) => !s.querySelector('rect')).length"
    )
    assert empty == 0, f"{name}: a chart without marks"
    return layout


BROKEN_CELLS = """[...document.querySelectorAll('table.runs th, table.runs td')].filter((cell) => {
  const range = document.createRange(); range.selectNodeContents(cell);
  const tops = [...range.getClientRects()].filter((b) => b.width > 0).map((b) => b.top);
  return tops.length && Math.max(...tops) - Math.min(...tops) > 10;
}).map((cell) => cell.textContent)"""
"""The runs table's cells whose text takes more than one line."""


def _check_runs_table(page: Page, shots: Path, width: int) -> None:
    """No cell of the runs table wraps; a table wider than the window scrolls in its frame
    with the run column kept in view."""
    assert page.evaluate(BROKEN_CELLS) == []
    frame = "document.querySelector('.table-wrap.scrolls')"
    scrolls = page.evaluate(f"{frame}.scrollWidth > {frame}.clientWidth")
    if width <= 1024:  # penguins' default columns take about 1,300 px
        assert scrolls
    if scrolls:
        page.evaluate(f"{frame}.scrollLeft = {frame}.scrollWidth")
        run_left = page.evaluate(
            f"document.querySelector('a.run-id').getBoundingClientRect().left"
            f" - {frame}.getBoundingClientRect().left"
        )
        assert 0 <= run_left < 60, run_left  # the run column stuck to the frame's left
        page.screenshot(shots / f"runs-{width}-scrolled.png")
        page.evaluate(f"{frame}.scrollLeft = 0")


@pytest.mark.parametrize("width", [1440, 1024])
def test_click_through_runs_run_node_and_artifact(
    penguins: Penguins, tmp_path: Path, width: int
) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    with browser(tmp_path / "profile", width=width, height=900) as page:
        page.goto(f"{penguins.url}/runs")
        rows = page.evaluate(
            "[...document.querySelectorAll('tr[data-run]')].map(r => r.dataset.run)"
        )
        assert rows == [penguins.failed, penguins.cached, penguins.first]
        _check_layout(page, shots, f"runs-{width}")
        _check_runs_table(page, shots, width)

        # Pick the accuracy column only: the choice outlives the page (a cookie).
        page.evaluate("document.querySelector('details.picker').open = true")
        for column in page.evaluate(
            "[...document.querySelectorAll('input[data-column]:checked')]"
            ".map(b => b.dataset.column)"
        ):
            if column != "m:accuracy":
                page.click_and_wait(f'input[data-column="{column}"]')
                page.evaluate("document.querySelector('details.picker').open = true")
        page.goto(f"{penguins.url}/runs?sort=-metrics.accuracy")
        headers = page.evaluate(
            "[...document.querySelectorAll('table.runs thead th')].map(h => h.textContent)"
        )
        assert headers[-2:] == ["accuracy ↓", "Model"] and "source" not in headers

        page.click_and_wait(f'a.run-id[href="/runs/{penguins.first}"]')
        assert page.evaluate("location.pathname") == f"/runs/{penguins.first}"
        states = page.evaluate(
            "Object.fromEntries([...document.querySelectorAll('svg.graph a[data-node]')]"
            ".map(a => [a.dataset.node, a.dataset.state]))"
        )
        assert states["train"] == "complete" and states["push"] == "complete"
        _check_layout(page, shots, f"run-{width}")

        page.click('svg.graph a[data-node="evaluate"]')
        assert page.evaluate("document.getElementById('node-evaluate').open") is True
        page.click_and_wait('#node-evaluate table.outputs tr[data-port="evaluation"] a')
        assert "ModelEvaluation" in page.evaluate("document.querySelector('h1').textContent")
        assert page.evaluate("document.querySelector('iframe.report').src").endswith(
            "/files/report.html"
        )
        _check_layout(page, shots, f"artifact-{width}")

        page.click_and_wait('a[href$="/lineage"]:not([href^="/api/"])')
        producers = page.evaluate(
            "[...document.querySelectorAll('ul.tree a[href*=\"#node-\"]')].map(a => a.textContent)"
        )
        assert {"evaluate", "train", "transform", "ingest"} <= set(producers)
        drawn = page.evaluate(
            "[...document.querySelectorAll('svg.graph a[data-kind=execution] title')]"
            ".map(t => t.textContent.split(':')[0])"
        )
        assert {"evaluate", "train", "transform", "ingest"} <= set(drawn)
        _check_layout(page, shots, f"lineage-{width}")
        page.click_and_wait("svg.graph a[data-kind=artifact]:not([data-focus])")
        assert page.evaluate("location.pathname").endswith("/lineage")  # another's lineage

        page.goto(f"{penguins.url}/runs/{penguins.failed}")
        assert page.evaluate("document.querySelector('[role=alert]').textContent").startswith(
            "Stopped at "
        )
        _check_layout(page, shots, f"failed-run-{width}")

        # The schema's, the model's and the model run's own viewers: one load each.
        outputs = {
            name: artifact["id"]
            for node in get(f"{penguins.url}/api/runs/{penguins.first}").json()["nodes"].values()
            for name, artifact in node["outputs"].items()
        }
        for name, wanted in (
            ("schema", "table.grid tbody tr"),
            ("model", "table.grid tbody tr"),
            ("model_run", "svg.chart polyline[stroke-width='2']"),
        ):
            page.goto(f"{penguins.url}/artifacts/{outputs[name]}")
            assert page.evaluate(f'document.querySelectorAll("{wanted}").length') > 2, name
            _check_layout(page, shots, f"{name}-{width}")
    assert all(shot.stat().st_size > 5000 for shot in shots.iterdir())


def test_select_two_runs_to_compare_and_see_the_models_with_a_live_request_rate(
    penguins: Penguins, tmp_path: Path
) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    with browser(tmp_path / "profile", width=1024, height=900) as page:
        page.goto(f"{penguins.url}/runs")
        for run in (penguins.first, penguins.failed):
            page.click(f'input[name=runs][value="{run}"]')
        page.click_and_wait("form#compare button")
        assert page.evaluate("location.pathname + location.search") == (
            f"/compare?runs={penguins.failed}&runs={penguins.first}"
        )  # in the table's order, newest first
        assert page.evaluate("document.querySelector('h1').textContent") == "Comparing 2 runs"
        changed = page.evaluate(
            "[...document.querySelectorAll('tr.changed th')].map(h => h.textContent)"
        )
        assert "source changed" in changed
        _check_layout(page, shots, "compare")

        with serving(stand_in_server(counting=True)) as server:
            sources = ModelSources(penguins.folder / "models", server=server)
            with serving(create_app(penguins.project, models=sources)) as url:
                page.goto(f"{url}/runs")
                page.click_and_wait('nav a[href="/models"]')
                assert page.evaluate("document.querySelector('h2').textContent") == "penguins"
                page.evaluate(
                    "new Promise((done) => { const t = setInterval(() => { if (document"
                    ".querySelector('[data-cell=rate]').textContent) { clearInterval(t);"
                    " done(); } }, 100); setTimeout(done, 8000); })"
                )
                rate = page.evaluate("document.querySelector('[data-cell=rate]').textContent")
                requests = page.evaluate(
                    "Number(document.querySelector('[data-cell=requests]').textContent)"
                )
                assert float(rate) > 0 and requests > 42  # counted on from the first read
                _check_layout(page, shots, "models")
    assert all(shot.stat().st_size > 5000 for shot in shots.iterdir())
