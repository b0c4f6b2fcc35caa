"""The HTML report (structure, self-containment), the SVG and PNG charts, notebook rendering."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pyarrow as pa
import pytest
from PIL import Image

from shipyard.artifacts import Statistics
from shipyard.artifacts.statistics_chart import feature_chart, render_png
from shipyard.artifacts.statistics_report import render_report
from shipyard.components.statistics import compute_dataset_statistics


class Cells(HTMLParser):
    """Collects each tag's attributes and the text of table cells by class."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.cells: list[tuple[str, str]] = []
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "td":
            self._open = dict(attrs).get("class") or ""
            self.cells.append((self._open, ""))

    def handle_data(self, data: str) -> None:
        if self._open is not None and self.cells:
            cls, text = self.cells[-1]
            self.cells[-1] = (cls, text + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._open = None


def two_datasets() -> dict[str, object]:
    train = pa.table(
        {
            "fare": [1.0, 2.0, 2.5, 3.0, None, 4.0],
            "city": ["oslo", "rome", "oslo", None, None, "rome"],
            "stops": [[1], [1, 2], [], None, [3], [4]],
        }
    )
    serving = pa.table({"fare": [10.0, 12.0], "city": ["<paris>", "oslo"], "extra": [1, 2]})
    return {
        "train": compute_dataset_statistics(train),
        "serving": compute_dataset_statistics(serving),
    }


def parse(page: str) -> Cells:
    parser = Cells()
    parser.feed(page)
    return parser


def test_report_shows_every_feature_for_both_datasets() -> None:
    page = render_report(two_datasets(), title="train vs serving")  # type: ignore[arg-type]
    cells = parse(page)
    features = re.findall(r"<td class='feature'[^>]*>([^<]*) <span class='type'>", page)
    # numeric, then categorical, then list features; the union of both datasets' features
    assert features == ["fare", "extra", "city", "stops"]
    datasets = [text for cls, text in cells.cells if cls == "dataset"]
    assert datasets.count("train") == 4 and datasets.count("serving") == 4
    assert "absent" in [cls for cls, _ in cells.cells]  # stops is not in serving
    assert "&lt;paris&gt;" in page and "<paris>" not in page  # values are escaped
    assert page.count("<svg") == 3  # fare, extra and city have charts; stops has none


def test_missing_values_are_highlighted() -> None:
    cells = parse(render_report(two_datasets()))  # type: ignore[arg-type]
    missing = [text for cls, text in cells.cells if cls == "missing"]
    assert missing == ["16.7%", "33.3%", "16.7%"]  # fare, city, stops of train


def test_report_is_self_contained() -> None:
    page = render_report(two_datasets())  # type: ignore[arg-type]
    cells = parse(page)
    assert not re.search(r"https?://", page)
    for tag, attrs in cells.tags:
        assert tag not in ("script", "link", "img", "iframe")
        assert "src" not in attrs, (tag, attrs)
        assert (attrs.get("href") or "#").startswith("#"), (tag, attrs)  # in-page links only
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page


def test_overlaid_chart_has_one_series_per_dataset() -> None:
    chart = feature_chart(two_datasets(), "fare")  # type: ignore[arg-type]
    assert chart is not None and chart.kind == "histogram"
    assert [s.name for s in chart.series] == ["train", "serving"]
    assert (chart.x_min, chart.x_max) == (1.0, 12.0)
    assert chart.bin_width == pytest.approx(1.1)  # the range over the 10 buckets
    train, serving = chart.series
    # train's 5 values in buckets 0.3 wide: each a share 0.2, scaled to the 1.1-wide bin
    assert max(bar.height for bar in train.bars) == pytest.approx(0.2 * 1.1 / 0.3)
    # serving's 2 values in buckets too thin to draw: thin bars of their shares
    assert [bar.height for bar in serving.bars if bar.height] == [0.5, 0.5]
    categories = feature_chart(two_datasets(), "city")  # type: ignore[arg-type]
    assert categories is not None and categories.categories == ["oslo", "rome", "<paris>"]
    assert feature_chart(two_datasets(), "stops") is None  # type: ignore[arg-type]


def test_png_export() -> None:
    for feature in ("fare", "city"):
        chart = feature_chart(two_datasets(), feature)  # type: ignore[arg-type]
        assert chart is not None
        image = Image.open(io.BytesIO(render_png(chart, width=640, height=360)))
        assert image.format == "PNG" and image.size == (640, 360) and image.mode == "RGB"
        colors = {color for _, color in image.getcolors(maxcolors=1 << 16) or []}
        assert len(colors) > 5  # bars, text and axis, not a blank image


def test_statistics_artifact_renders_itself(tmp_path: Path) -> None:
    statistics = Statistics(tmp_path / "stats")
    statistics.save(two_datasets())  # type: ignore[arg-type]
    page = statistics._repr_html_()
    assert "shipyard-stats" in page and "<svg" in page
    assert "train" in page and "serving" in page
    assert Statistics(tmp_path / "empty")._repr_html_().startswith("<div>")
