"""Artifacts compared across runs: two penguins runs on different data and schemas get their
schemas and evaluations diffed and their statistics compared, in `shipyard runs compare
--json`, `/api/compare` and on the compare page, with the statistics overlaid in a frame."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

import shipyard
from shipyard.cli.main import app as cli
from shipyard.ui import create_app
from shipyard.ui.read_only import open_read_only
from tests.ui.server import get, serving

if TYPE_CHECKING:
    from collections.abc import Iterator

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str, str]]:
    """The store, the UI's URL, and two runs: all the penguins, then two thirds of them (every
    third row left out) against a schema whose `island` domain gained a value."""
    folder = tmp_path_factory.mktemp("diffs") / "penguins"
    shutil.copytree(EXAMPLES / "penguins", folder, ignore=shutil.ignore_patterns("models", ".*"))
    lines = (folder / "data" / "penguins.csv").read_text().splitlines(keepends=True)
    kept = [line for index, line in enumerate(lines) if index % 3]  # every species stays
    (folder / "data" / "fewer.csv").write_text(lines[0] + "".join(kept))
    schema = (folder / "schema.yaml").read_text()
    wider = schema.replace("[Biscoe, Dream, Torgersen]", "[Biscoe, Dream, Torgersen, Anvers]")
    assert wider != schema
    (folder / "wider.yaml").write_text(wider)
    store = f"sqlite:///{folder / '.shipyard' / 'store.db'}"
    options = {"store": store, "artifact_root": str(folder / ".shipyard" / "artifacts"),
               "progress": False}  # fmt: skip
    runs = [
        shipyard.run(  # type: ignore[arg-type]
            folder / "pipeline.py",
            params={"source": str(folder / "data" / data), "schema": str(folder / schema_file)},
            **options,
        )
        for data, schema_file in (("penguins.csv", "schema.yaml"), ("fewer.csv", "wider.yaml"))
    ]
    first, second = runs
    assert first.ok and second.ok
    project = open_read_only(store, options["artifact_root"])  # type: ignore[arg-type]
    with serving(create_app(project)) as url:
        yield store, url, first.id, second.id
    project.close()


def test_schemas_evaluations_and_statistics_are_diffed(
    two_runs: tuple[str, str, str, str],
) -> None:
    store, url, first, second = two_runs
    answer = get(f"{url}/api/compare?runs={first},{second}").json()
    result = CliRunner().invoke(cli, ["runs", "compare", first, second, "--store", store, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == answer  # one serialisation
    text = CliRunner().invoke(cli, ["runs", "compare", first, second, "--store", store]).output
    assert " (Schema): 1 of 8 features differ: island\n" in text
    artifacts = answer["artifacts"]
    kinds = {entry["type"] for entry in artifacts.values()}
    assert kinds == {"Schema", "ModelEvaluation", "Statistics"}

    schema = next(e for e in artifacts.values() if e["type"] == "Schema")
    assert schema["changed"] == ["island"]
    island = schema["features"]["island"]
    assert "Anvers" not in island[0]["constraint"] and "Anvers" in island[1]["constraint"]

    evaluation = next(e for e in artifacts.values() if e["type"] == "ModelEvaluation")
    assert set(evaluation["metrics"]) >= {"accuracy"}
    assert all(len(values) == 2 for values in evaluation["metrics"].values())
    assert {name.split("=")[0] for name in evaluation["slices"]} == {"island"}
    assert evaluation["changed_slices"]  # fewer rows: each island's count changed
    a_slice = evaluation["slices"][evaluation["changed_slices"][0]]
    assert a_slice["count"][0] != a_slice["count"][1]

    statistics = [e for e in artifacts.values() if e["type"] == "Statistics"]
    assert statistics
    train = statistics[0]["splits"]["train"]
    assert train["rows"][0] > train["rows"][1] > 0
    bill = train["features"]["bill_length_mm"]
    assert set(bill) == {"missing_share", "mean", "std"} and bill["mean"][0] != bill["mean"][1]
    assert train["features"]["island"]["distinct"] == [3, 3]


def test_the_compare_page_shows_the_diffs_and_overlays_the_statistics(
    two_runs: tuple[str, str, str, str],
) -> None:
    _, url, first, second = two_runs
    page = get(f"{url}/compare?runs={first}&runs={second}").text
    assert "1 of 8 features differ." in page
    assert (
        '<tr class=changed data-changed=""><th scope=row>island <span class=badge>changed' in page
    )
    assert "<h3>Slices (" in page and "island=" in page
    frame = page.split('<iframe class=report title="Statistics of ', 1)[1]
    src = frame.split('src="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    overlay = get(url + src)
    assert overlay.status == 200 and "<svg" in overlay.text
    assert f"{first} train" in overlay.text and f"{second} train" in overlay.text
    missing = get(f"{url}/compare/statistics?runs={first},{second}")
    assert missing.status == 400 and "output" in missing.text
    wrong = get(f"{url}/compare/statistics?runs={first},{second}&output=train/model")
    assert wrong.status == 404
