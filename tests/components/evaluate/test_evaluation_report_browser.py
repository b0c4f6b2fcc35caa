"""The evaluation reports (binary with a failed blessing, regression) in headless Chromium.

Chromium lays each report out at a desktop and at a half-screen width: nothing may reach
past the window's edge and no chart label may overlap another or leave its chart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from PIL import Image

from shipyard.components.evaluate import decide_blessing
from tests.browser import measure_layout, screenshot
from tests.components.evaluate.test_evaluation_artifacts import (
    _binary_result,
    _regression_result,
)

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("reports")
    binary = _binary_result()
    binary.overall["positive_class"] = "yes"
    binary.overall["model"] = {"id": 12, "name": "churn/2026-01-05T12-03-ab12/train/model"}
    binary.overall["baseline"] = {"id": 3, "metrics": {**binary.metrics, "auc": 0.99}}
    decision = decide_blessing(
        binary.metrics,
        thresholds={"accuracy": {"min": 0.6}, "auc": {"min": 0.5}},
        max_regression={"auc": 0.01},
        baseline=binary.overall["baseline"]["metrics"],
        baseline_id=3,
    )
    pages = {
        "binary": binary.to_html(blessing=decision),
        "regression": _regression_result().to_html(),
    }
    paths = {}
    for name, page in pages.items():
        paths[name] = root / f"{name}.html"
        paths[name].write_text(page, encoding="utf-8")
    return paths


@pytest.mark.parametrize("width", [1366, 800])
@pytest.mark.parametrize(("kind", "charts"), [("binary", 3), ("regression", 3)])
def test_report_fits_the_window_with_readable_charts(
    reports: dict[str, Path], tmp_path: Path, width: int, kind: str, charts: int
) -> None:
    layout = measure_layout(reports[kind], tmp_path, width=width)
    assert layout.problems() == []
    assert layout.svgs == charts
    assert layout.texts >= 10 * charts  # titles, axis titles and tick labels


def test_screenshot_shows_the_blessing_first(reports: dict[str, Path], tmp_path: Path) -> None:
    shot = screenshot(reports["binary"], tmp_path / "binary.png", width=1024, height=900)
    with Image.open(shot) as image:
        rgb = image.convert("RGB")
        colors = {color for _, color in rgb.getcolors(maxcolors=1 << 20) or []}
        assert len(colors) > 50
        # the failed regression check's row is highlighted in the first screenful
        assert (254, 202, 202) in colors
