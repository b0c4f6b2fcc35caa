"""The Anomalies artifact: JSON codec, preview, self-contained HTML report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shipyard.artifacts import Anomalies, Anomaly, AnomalyReport, artifact_type
from shipyard.errors import DataError

REPORT = AnomalyReport(
    anomalies=(
        Anomaly(
            "island",
            "out_of_domain",
            "error",
            "'island' has 1 value outside its domain: '<script>alert(1)</script>'.",
            split="eval",
            fraction=0.25,
            examples=("<script>alert(1)</script>",),
            count=1,
        ),
        Anomaly("mass", "out_of_range", "warning", "too heavy", split="eval", fraction=0.1),
        Anomaly("size", "skew", "error", "skews", split="train vs eval", value=0.3, threshold=0.1),
    ),
    environment="TRAINING",
    splits=("train", "eval"),
)


def test_round_trip_and_properties(tmp_path: Path) -> None:
    artifact = Anomalies(tmp_path / "a")
    artifact.save(REPORT)
    assert artifact.load() == REPORT
    assert artifact.properties == {"errors": 2, "warnings": 1, "environment": "TRAINING"}
    data = json.loads((tmp_path / "a" / "anomalies.json").read_text())
    assert data["anomalies"][0] == {
        "feature": "island",
        "kind": "out_of_domain",
        "severity": "error",
        "description": "'island' has 1 value outside its domain: '<script>alert(1)</script>'.",
        "split": "eval",
        "fraction": 0.25,
        "examples": ["<script>alert(1)</script>"],
        "value": None,
        "threshold": None,
        "count": 1,
    }
    assert artifact_type("Anomalies") is Anomalies
    preview = artifact.preview()
    assert preview["summary"] == "2 errors and 1 warning in train, eval (TRAINING)."
    assert len(preview["anomalies"]) == 3


def test_html_is_self_contained_and_escaped(tmp_path: Path) -> None:
    page = REPORT.to_html(title="Validation of eval.csv")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "http://" not in page and "https://" not in page and "<link" not in page
    assert page.count("<tr class='sy-error'>") == 2 and page.count("<tr class='sy-warning'>") == 1
    assert "<th>values</th>" in page and "<td>1 (25.0%)</td>" in page and "<td>10.0%</td>" in page
    artifact = Anomalies(tmp_path / "a")
    artifact.save(REPORT)
    assert (tmp_path / "a" / "report.html").read_text() == REPORT.to_html()
    notebook = artifact._repr_html_()
    assert "sy-anomalies" in notebook and "body{" not in notebook


def test_extent_shows_count_and_a_small_share_as_non_zero() -> None:
    one = Anomaly("x", "out_of_range", "warning", "d", fraction=1 / 150_000, count=1)
    assert one.extent() == "1 (0.0007%)"
    many = Anomaly("x", "wrong_type", "error", "d", fraction=0.5, count=150_000)
    assert many.extent() == "150,000 (50.0%)"
    assert Anomaly("x", "skew", "error", "d").extent() == ""
    old = {k: v for k, v in one.to_json().items() if k != "count"}  # written before `count`
    assert Anomaly.from_json(old).count is None


def test_empty_report_says_ok() -> None:
    empty = AnomalyReport(splits=("train",))
    assert empty.summary() == "OK: no anomalies in train."
    assert "OK: no anomalies" in empty.to_html() and "<table" not in empty.to_html()


def test_malformed_json_is_a_data_error() -> None:
    with pytest.raises(DataError, match="malformed anomaly report"):
        AnomalyReport.from_json({"environment": None})
