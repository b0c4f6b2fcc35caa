"""ModelEvaluation and ModelBlessing: JSON round trip, HTML report, terminal summary."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

import numpy as np
import pytest
from rich.console import Console

from shipyard.artifacts import (
    BlessingDecision,
    EvaluationResult,
    ModelBlessing,
    ModelEvaluation,
    artifact_type,
)
from shipyard.artifacts.evaluation import summary_table
from shipyard.components.evaluate import compute_metrics, decide_blessing, slice_metrics
from shipyard.components.evaluate.points import sample_points

if TYPE_CHECKING:
    from pathlib import Path


def _binary_result() -> EvaluationResult:
    rng = np.random.default_rng(0)
    group = np.array(["<b>x</b>", "y", "z", "tiny"])[rng.integers(0, 3, 300)]
    group[:3] = "tiny"
    labels = (rng.random(300) < 0.4).astype(int)
    noise = np.where(group == "y", 0.9, 0.2)  # slice y is nearly random: the worst
    scores = np.clip(labels * (1 - noise) + rng.random(300) * noise, 0, 1)
    overall = compute_metrics(
        labels, probabilities=scores, task="binary", class_labels=["no", "yes"]
    )
    slices = slice_metrics(
        {"group": group},
        labels,
        probabilities=scores,
        task="binary",
        class_labels=["no", "yes"],
        slices=["group"],
        min_slice_size=10,
    )
    return EvaluationResult(overall=overall, slices=tuple(slices), split="eval")


def test_evaluation_round_trip_and_properties(tmp_path: Path) -> None:
    result = _binary_result()
    artifact = ModelEvaluation(tmp_path / "evaluation")
    artifact.save(result)
    assert artifact.load() == result
    assert artifact.properties["task"] == "binary"
    assert artifact.properties["metrics"]["auc"] == result.metrics["auc"]
    assert set(artifact.files()) == {"evaluation.json", "report.html"}
    data = json.loads((tmp_path / "evaluation" / "evaluation.json").read_text())
    assert data["version"] == 1 and data["split"] == "eval"
    assert data["overall"]["confusion_matrix"]["labels"] == ["no", "yes"]
    assert artifact_type("ModelEvaluation") is ModelEvaluation
    preview = artifact.preview()
    assert preview["worst_slices"][0]["name"] == "group=y"


def test_report_is_self_contained_with_the_worst_slice_marked(tmp_path: Path) -> None:
    result = _binary_result()
    page = result.to_html()
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"https?://", page)
    assert "<script" not in page
    assert page.count("<svg") == 3  # ROC, PR, calibration
    assert "ROC curve" in page and "Precision-recall curve" in page
    assert "<table class='confusion'>" in page
    slices = page[page.index("<table class='slices'>") :]
    rows = re.findall(r"<tr class='(\w*)'><td class='name'>([^<]*)", slices)
    assert rows[0] == ("worst", "group=y")  # sorted worst first, highlighted
    assert "<span class='badge'>worst</span>" in slices
    assert "&lt;b&gt;x&lt;/b&gt;" in slices and "<b>x</b>" not in slices  # escaped
    assert "fewer than 10 rows" in slices  # the tiny slice is listed, without metrics
    notebook = ModelEvaluation(tmp_path / "e")
    notebook.save(result)
    assert "sy-eval" in notebook._repr_html_()


def test_regression_report_has_residual_histogram() -> None:
    overall = compute_metrics([1.0, 2.0, 3.0, 5.0], [1.5, 2.0, 2.0, 5.0], task="regression")
    page = EvaluationResult(overall=overall).to_html()
    assert "Residuals" in page and page.count("<svg") == 1
    assert "confusion" not in page


def test_summary_table_renders() -> None:
    console = Console(width=120, record=True)
    console.print(summary_table(_binary_result()))
    text = console.export_text()
    assert "accuracy" in text and "worst slice" in text and "group=y" in text


def test_blessing_round_trip(tmp_path: Path) -> None:
    decision = decide_blessing(
        {"accuracy": 0.85},
        thresholds={"accuracy": {"min": 0.9}},
        max_regression={"accuracy": 0.01},
        baseline={"accuracy": 0.9},
        baseline_id=7,
    )
    artifact = ModelBlessing(tmp_path / "blessing")
    artifact.save(decision)
    assert artifact.load() == decision
    assert artifact.properties == {"blessed": False, "baseline_id": 7}
    assert BlessingDecision.from_json(json.loads(json.dumps(decision.to_json()))) == decision
    assert artifact.preview()["blessed"] is False
    assert "FAIL" in artifact._repr_html_()
    assert artifact_type("ModelBlessing") is ModelBlessing


def _regression_result() -> EvaluationResult:
    rng = np.random.default_rng(1)
    actual = rng.normal(50, 10, 2000)
    predicted = actual * 0.8 + 10 + rng.normal(0, 4, 2000)
    overall = compute_metrics(actual, predicted, task="regression")
    overall["points"] = sample_points(actual, predicted)
    overall["model"] = {"id": 7, "name": "wages/r1/train/model", "estimator": "linear"}
    return EvaluationResult(overall=overall, split="eval")


def test_regression_report_plots_predictions_against_actual_values() -> None:
    result = _regression_result()
    points = result.overall["points"]
    assert len(points["actual"]) == 500 and points["rows"] == 2000  # a sample
    assert _regression_result().overall["points"] == points  # the same sample every time
    page = result.to_html()
    assert page.count("<svg") == 3
    for title in ("Predicted vs actual", "Residual vs predicted", "Residuals"):
        assert f'aria-label="{title}"' in page, title
    scatter = page[page.index('aria-label="Predicted vs actual"') :].split("</svg>")[0]
    assert scatter.count("<circle") == 500
    assert "stroke-dasharray" in scatter  # the y = x reference line
    assert ">actual</text>" in scatter and ">predicted</text>" in scatter  # axis titles


def test_report_names_task_positive_class_and_a_failed_blessing() -> None:
    result = _binary_result()
    result.overall["positive_class"] = "yes"
    result.overall["baseline"] = {
        "id": 3,
        "name": "churn/r0/train/model",
        "estimator": "dnn",
        "metrics": {**result.metrics, "accuracy": 0.99},
    }
    decision = decide_blessing(
        result.metrics,
        thresholds={"auc": {"min": 0.5}},
        max_regression={"accuracy": 0.01},
        baseline=result.overall["baseline"]["metrics"],
        baseline_id=3,
    )
    page = result.to_html(blessing=decision)
    assert "<td>binary, positive class &#x27;yes&#x27;</td>" in page
    assert "churn/r0/train/model #3 (dnn)" in page
    blessing = page[page.index("<h2>Blessing</h2>") : page.index("<h2>Metrics</h2>")]
    assert "<p class='fail'>Not blessed: accuracy fell by" in blessing
    failed = blessing[blessing.index("<tr class='worst'>") :].split("</tr>")[0]
    assert ">accuracy<" in failed and ">regression<" in failed and ">0.99<" in failed
    assert ">FAIL<" in failed
    row = page[page.index("<td class='name'>accuracy</td>", page.index("table class='metrics'")) :]
    assert "<td>0.99</td><td class='worse'>-" in row.split("</tr>")[0]


def test_report_without_blessing_or_baseline_says_so() -> None:
    page = _binary_result().to_html()
    assert "<h2>Blessing</h2>" not in page
    assert "<th>baseline</th><td>none: judged on its own metrics</td>" in page
    assert "<th>baseline</th><th>change</th>" not in page
    empty = decide_blessing({"accuracy": 0.5})
    assert "No check was configured" in _binary_result().to_html(blessing=empty)


def _island_result(predictions: list[int]) -> EvaluationResult:
    island = ["Torgersen", "Torgersen", "Biscoe", "Biscoe", "Dream", "Dream", "Dream"]
    labels = [0, 0, 0, 2, 0, 1, 1]
    names = ["Adelie", "Chinstrap", "Gentoo"]
    overall = compute_metrics(labels, predictions, task="multiclass", class_labels=names)
    slices = slice_metrics(
        {"island": island},
        labels,
        predictions,
        task="multiclass",
        class_labels=names,
        slices=["island"],
    )
    return EvaluationResult(overall=overall, slices=tuple(slices), split="eval")


def test_no_slice_is_flagged_when_every_slice_is_perfect() -> None:
    result = _island_result([0, 0, 0, 2, 0, 1, 1])
    assert {s["metrics"]["f1_macro"] for s in result.slices} == {1.0}
    assert len(result.worst_slices()) == 3  # still ranked, in full
    assert result.flagged_slices() == []
    console = Console(width=120, record=True)
    console.print(summary_table(result))
    assert "worst slice" not in console.export_text()
    assert "<span class='badge'>worst</span>" not in result.to_html()  # nor in the report


def test_flagged_slices_are_those_below_overall_worst_first() -> None:
    result = _island_result([0, 0, 0, 2, 1, 1, 0])  # Dream: 1 of 3 right
    assert result.metrics["accuracy"] == pytest.approx(5 / 7)
    assert [s["name"] for s in result.flagged_slices()] == ["island=Dream"]
    assert result.worst_slices()[0]["name"] == "island=Dream"
    # lower is better for RMSE: the slice with the larger error is flagged
    overall = compute_metrics([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 5.0, 6.0], task="regression")
    slices = slice_metrics(
        {"g": ["a", "a", "b", "b"]},
        [1.0, 2.0, 3.0, 4.0],
        [1.0, 2.0, 5.0, 6.0],
        task="regression",
        slices=["g"],
    )
    regression = EvaluationResult(overall=overall, slices=tuple(slices))
    assert [s["name"] for s in regression.flagged_slices()] == ["g=b"]


def test_primary_metric_is_defined_for_single_class_slices() -> None:
    # a slice of one class: AUC is undefined there, the ranking metric is not
    result = _binary_result()
    one_class = slice_metrics(
        {"g": ["a", "a", "b", "b"]},
        [1, 1, 0, 1],
        probabilities=[0.9, 0.4, 0.3, 0.8],
        task="binary",
        slices=["g"],
    )
    assert one_class[0]["metrics"]["auc"] is None
    ranked = EvaluationResult(overall=result.overall, slices=tuple(one_class)).worst_slices()
    assert [s["name"] for s in ranked] == ["g=a", "g=b"]
