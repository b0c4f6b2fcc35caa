"""The statistics report of a wide dataset (58 features, sliced, compared) in headless Chromium.

Chromium lays the page out at a desktop and at a half-screen width: nothing may reach past
the window's edge, no content may be cut off, and no chart label may overlap another or
leave its chart. Screenshots are taken at both widths and must show the page, not a blank.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pytest
from PIL import Image

from shipyard.artifacts.statistics_report import render_report
from shipyard.components.statistics import compute_dataset_statistics
from tests.browser import measure_layout, screenshot

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.slow

WIDTHS = (1366, 800)


def wide_table(rows: int, seed: int) -> pa.Table:
    """Return 58 columns: numbers on scales from 1e-4 to 1e7 (some missing, some with long
    names), categories with long values, a list and a bool column."""
    rng = np.random.default_rng(seed)
    columns: dict[str, object] = {}
    for i in range(40):
        values = rng.normal(i, 3, rows) * 10.0 ** (i % 12 - 4)
        if i % 5 == 0:
            values = np.where(rng.random(rows) < 0.2, np.nan, values)
        name = f"measurement_{i:02d}" if i % 7 else f"a_rather_long_sensor_reading_name_{i:02d}"
        columns[name] = pa.array(values, from_pandas=True)
    for i in range(15):
        vocabulary = [
            f"value {j} of group {i}, with a long description" if i % 3 == 0 else f"v{j}"
            for j in range(3 + i)
        ]
        columns[f"category_{i:02d}"] = rng.choice(vocabulary, rows)
    columns["region"] = rng.choice(["north", "south", "east"], rows)
    columns["tags"] = [[1] * int(k) for k in rng.integers(0, 4, rows)]
    columns["flag"] = rng.random(rows) < 0.3
    return pa.table(columns)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    train = compute_dataset_statistics(wide_table(2000, 0), slice_columns=["region"])
    serving = compute_dataset_statistics(wide_table(500, 1))
    assert len(train.features) == 58
    page = tmp_path_factory.mktemp("report") / "stats.html"
    page.write_text(render_report({"train.csv": train, "serving.csv": serving}), "utf-8")
    return page


@pytest.mark.parametrize("width", WIDTHS)
def test_wide_report_fits_the_window_with_readable_charts(
    report: Path, tmp_path: Path, width: int
) -> None:
    layout = measure_layout(report, tmp_path, width=width)
    assert layout.viewport == width
    assert layout.problems() == []
    # 57 charted features (all but the list), again in the slices' section (opened)
    assert layout.svgs == 2 * 57
    assert layout.texts > 10 * layout.svgs  # every chart has tick labels and axis titles


@pytest.mark.parametrize("width", WIDTHS)
def test_screenshot_shows_the_report(report: Path, tmp_path: Path, width: int) -> None:
    shot = screenshot(report, tmp_path / f"report-{width}.png", width=width, height=1200)
    with Image.open(shot) as image:
        assert image.size == (width, 1200)
        rgb = image.convert("RGB")
        colors = {color for _, color in rgb.getcolors(maxcolors=1 << 20) or []}
        assert len(colors) > 50  # text, tables and charts, not a blank page
        # the right edge holds the charts column, not cut-off content: its last pixel
        # column is the page's background
        edge = {rgb.getpixel((width - 1, y)) for y in range(0, 1200, 7)}
        assert edge <= {(255, 255, 255), (243, 244, 246)}, edge


def test_layout_check_catches_a_page_wider_than_the_window(tmp_path: Path) -> None:
    page = tmp_path / "wide.html"
    page.write_text(
        "<!DOCTYPE html><html><body><table><tr><td><div style='width:1500px'>x</div></td></tr>"
        "</table><svg width='100' height='40'><text x='0' y='20'>overlap</text>"
        "<text x='2' y='21'>overlap</text><text x='90' y='20'>outside</text></svg></body></html>",
        "utf-8",
    )
    problems = measure_layout(page, tmp_path, width=800).problems()
    assert any(p.startswith("too wide: table") for p in problems), problems
    assert any(p.startswith("overlapping labels") for p in problems), problems
    assert problems[-1].startswith("the page is 15"), problems  # 1500px and the margins
    outside = [p for p in problems if p.startswith("label outside")]
    assert len(outside) == 1 and outside[0].endswith("outside"), problems
