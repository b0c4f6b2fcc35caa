"""Each artifact type's own viewer, on the artifacts a real penguins run made, over a real
socket: the schema's features, the model's signature, card and files, the training curves."""

from __future__ import annotations

import html
import json
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any

import pytest

from shipyard.ui.html import key_values
from shipyard.ui.model_run_viewer import chart, metric_series, render_model_run
from shipyard.ui.model_viewer import size_text
from tests.ui.server import get

if TYPE_CHECKING:
    from tests.ui.conftest import Penguins


@pytest.fixture(scope="module")
def outputs(penguins: Penguins) -> dict[str, dict[str, Any]]:
    """The first run's artifacts by output name (`schema`, `model`, `model_run`...)."""
    run = get(f"{penguins.url}/api/runs/{penguins.first}").json()
    found: dict[str, dict[str, Any]] = {}
    for node in run["nodes"].values():
        found |= node["outputs"]
    return found


class Table(HTMLParser):
    """The first `<table class=grid>` of a page whose caption starts with `caption`: its
    caption and its rows of cell texts (header row included)."""

    def __init__(self, caption: str) -> None:
        super().__init__()
        self.wanted = caption
        self.caption = ""
        self.rows: list[list[str]] = []
        self._depth = 0
        self._in_caption = False
        self._cell: list[str] | None = None
        self._done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._done:
            return
        if tag == "table" and ("class", "grid") in attrs:
            self._depth, self.caption, self.rows = 1, "", []
        elif self._depth and tag == "caption":
            self._in_caption = True
        elif self._depth and tag == "tr":
            self.rows.append([])
        elif self._depth and tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if self._done or not self._depth:
            return
        if tag == "caption":
            self._in_caption = False
        elif tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._depth = 0
            self._done = self.caption.startswith(self.wanted)

    def handle_data(self, data: str) -> None:
        if self._in_caption:
            self.caption += data
        elif self._cell is not None:
            self._cell.append(data)


def table(html: str, caption: str) -> list[list[str]]:
    """The rows of the viewer table captioned `caption...`; fails when there is none."""
    parser = Table(caption)
    parser.feed(html)
    assert parser.caption.startswith(caption), f"no table captioned {caption!r}"
    return parser.rows


def test_the_schema_viewer_lists_every_feature_sortable_by_name_with_its_yaml(
    penguins: Penguins, outputs: dict[str, dict[str, Any]]
) -> None:
    schema = outputs["schema"]["id"]
    api = get(f"{penguins.url}/api/artifacts/{schema}").json()
    features = api["preview"]["features"]
    assert features["species"]["skew"] == "by type <= 0.15 (schema)"
    assert features["species"]["not_in"] == "SERVING"

    page = get(f"{penguins.url}/artifacts/{schema}").text
    rows = table(page, "Features, in column order")
    assert rows[0] == [
        "Feature",
        "Type",
        "Presence",
        "Domain or range",
        "Not in",
        "Skew check",
        "Drift check",
    ]
    assert [r[0] for r in rows[1:]] == list(features)  # every feature, in the schema's order
    species = rows[1 + list(features).index("species")]
    assert species == [
        "species",
        "string",
        "required",
        "Adelie, Chinstrap, Gentoo",
        "SERVING",
        "by type <= 0.15 (schema)",
        "by type <= 0.1 (schema)",
    ]
    assert "<details><summary>Preview" not in page  # the viewer replaces the JSON preview

    ascending = table(get(f"{penguins.url}/artifacts/{schema}?sort=name").text, "Features")
    assert [r[0] for r in ascending[1:]] == sorted(features, key=str.lower)
    descending = get(f"{penguins.url}/artifacts/{schema}?sort=-name").text
    assert 'aria-sort="descending"' in descending
    assert [r[0] for r in table(descending, "Features")[1:]] == sorted(
        features, key=str.lower, reverse=True
    )
    bad = get(f"{penguins.url}/artifacts/{schema}?sort=type")
    assert bad.status == 400 and "The &#x27;sort&#x27; parameter must be one of" in bad.text

    download = f"/artifacts/{schema}/files/schema.yaml"
    assert f'href="{download}"' in page
    yaml = get(penguins.url + download)
    assert yaml.status == 200 and yaml.headers["content-type"].startswith("text/plain")
    assert "species:" in yaml.text and "not_in: [SERVING]" in yaml.text
    assert get(f"{penguins.url}/artifacts/{schema}/files/other.yaml").status == 404


def test_the_model_viewer_shows_the_signature_the_card_and_the_files(
    penguins: Penguins, outputs: dict[str, dict[str, Any]]
) -> None:
    model = outputs["model"]["id"]
    preview = get(f"{penguins.url}/api/artifacts/{model}").json()["preview"]
    page = get(f"{penguins.url}/artifacts/{model}").text
    assert "<details><summary>Preview" not in page

    inputs = table(page, "Inputs")
    assert inputs[0] == ["Name", "Dtype", "Shape", "Optional"]
    by_name = {row[0]: row[1:] for row in inputs[1:]}
    assert set(by_name) == {spec["name"] for spec in preview["inputs"]}
    assert "species" not in by_name  # the label is not an input
    island = next(spec for spec in preview["inputs"] if spec["name"] == "island")
    assert island["dtype"] == "string" and island["shape"] == [None, 1]
    assert by_name["island"] == ["string", "[batch, 1]", "yes" if island["optional"] else "no"]
    assert by_name["bill_length_mm"][0] == "float"
    outputs_table = table(page, "Outputs")
    assert {row[0] for row in outputs_table[1:]} >= {"class_labels", "probabilities"}
    vocabulary = preview["label_vocabulary"]
    assert sorted(vocabulary) == ["Adelie", "Chinstrap", "Gentoo"]
    assert f"Label vocabulary: {', '.join(vocabulary)}" in page

    card = preview["card"]
    loss = f"{card['metrics']['eval_loss']:.4g}"
    assert f"<th scope=row>eval_loss</th><td class=num>{loss}</td>" in page
    assert f"<th scope=row>estimator</th><td>{card['estimator']}</td>" in page
    assert f"<th scope=row>rows_train</th><td>{card['data']['rows_train']}</td>" in page
    schema = card["lineage"]["schema_id"]
    assert f'<td><a href="/artifacts/{schema}">artifact #{schema}</a></td>' in page
    assert "<caption>Parameters</caption>" in page and "<th scope=row>epochs</th>" in page
    encoded = table(page, "Features (")
    assert encoded[0] == ["name", "cardinality", "kind"]
    assert [row[0] for row in encoded[1:]] == [f["name"] for f in card["features"]]
    island_row = next(row for row in encoded if row[0] == "island")
    assert island_row[2] == "id" and int(island_row[1]) >= 3

    files = preview["files"]
    rows = table(page, f"{len(files)} files, ")
    assert rows[0] == ["File", "Size"]
    assert [row[0] for row in rows[1:]] == [f["name"] for f in files]
    assert {"model.onnx", "signature.json", "model_card.json", "model_card.md"} <= {
        f["name"] for f in files
    }
    onnx = next(f for f in files if f["name"] == "model.onnx")
    assert onnx["size_bytes"] > 1000 and rows[1:][files.index(onnx)][1].endswith("kB")
    link = f"/artifacts/{model}/files/model_card.md"
    assert f'href="{link}"' in page
    served = get(penguins.url + link)
    assert served.status == 200 and served.text.startswith("# Model card")
    raw = get(f"{penguins.url}/artifacts/{model}/files/model.onnx")
    assert raw.headers["content-type"] == "application/octet-stream"
    assert int(raw.headers["content-length"]) == onnx["size_bytes"]


@pytest.mark.parametrize(
    ("size_bytes", "shown"),
    [
        (0, "0 B"),
        (999, "999 B"),
        (1000, "1.0 kB"),
        (12_400, "12.4 kB"),
        (3_100_000, "3.1 MB"),
        (2_000_000_000, "2.0 GB"),
    ],
)
def test_file_sizes_read_in_powers_of_1000(size_bytes: int, shown: str) -> None:
    assert size_text(size_bytes) == shown


def test_the_model_run_viewer_draws_a_curve_per_metric_from_the_history(
    penguins: Penguins, outputs: dict[str, dict[str, Any]]
) -> None:
    model_run = outputs["model_run"]["id"]
    preview = get(f"{penguins.url}/api/artifacts/{model_run}").json()["preview"]
    history = preview["history"]
    assert len(history) == preview["epochs"] > 1 and history[-1] == preview["last"]

    page = get(f"{penguins.url}/artifacts/{model_run}").text
    assert "<details><summary>Preview" not in page
    assert 'aria-label="loss by epoch (train, eval)"' in page  # both sides on one chart
    assert 'aria-label="accuracy by epoch (eval)"' in page
    assert 'aria-label="learning_rate by epoch"' in page
    assert page.count('<svg class="chart"') == 3
    # each curve has one point per epoch: the train loss's polyline is the second series
    loss_svg = page[page.index('aria-label="loss by epoch') :].split("</svg>")[0]
    curves = [p for p in loss_svg.split("<polyline")[1:] if 'stroke-width="2"' in p]
    assert len(curves) == 2
    assert all(c.split('points="')[1].split('"')[0].count(",") == len(history) for c in curves)
    rows = table(page, "History, one row per epoch")
    assert rows[0][:2] == ["epoch", "train_loss"] and len(rows) == len(history) + 1
    assert rows[-1][1] == f"{history[-1]['train_loss']:.4g}"


def test_a_missing_value_breaks_the_curve_and_a_step_axis_is_used() -> None:
    history: list[dict[str, Any]] = [
        {"step": 10, "train_loss": 1.0, "eval_loss": 1.2},
        {"step": 20, "train_loss": 0.5, "eval_loss": None},
        {"step": 30, "train_loss": 0.4, "eval_loss": 0.6},
    ]
    assert metric_series(history) == {"loss": {"train": [1.0, 0.5, 0.4], "eval": [1.2, None, 0.6]}}
    html = render_model_run({"id": 3, "preview": {"history": history}})
    assert 'aria-label="loss by step (train, eval)"' in html
    curves = [p for p in html.split("<polyline")[1:] if 'stroke-width="2"' in p]
    assert sorted(p.split('points="')[1].split('"')[0].count(",") for p in curves) == [1, 1, 3]
    assert html.count("<circle") == 2  # the eval side's lone points
    empty = render_model_run({"id": 3, "preview": {"history": []}})
    assert "recorded no epoch" in empty and "<svg" not in empty


def test_a_constant_metric_is_drawn_mid_chart_on_an_axis_around_its_value() -> None:
    html = chart("learning_rate", "epoch", [1.0, 2.0, 3.0], {"": [0.01, 0.01, 0.01]})
    ticks = [float(t.rsplit(">", 1)[1]) for t in html.split("</text>") if 'text-anchor="end"' in t]
    assert ticks and min(ticks) >= 0.008 and max(ticks) <= 0.012


def test_a_long_property_is_folded_under_its_beginning_and_a_short_one_is_not() -> None:
    history = json.dumps([{"epoch": i, "loss": 1 / (i + 1)} for i in range(40)])
    page = key_values({"history": history, "kind": "<dnn>"}, caption="Properties")
    assert "<td>&lt;dnn&gt;</td>" in page
    folded = page.split("<details class=long>", 1)[1]
    summary, whole = folded.split("</summary>", 1)
    assert f"({len(history):,} characters)" in summary
    assert len(html.unescape(summary)) < 120
    assert html.unescape(whole.split("<pre>", 1)[1].split("</pre>", 1)[0]) == history
