"""Decay: labels joined to logged predictions by (request id, row), live metrics per window
and version, compared with the evaluation, and alerted through the monitor."""

from __future__ import annotations

import dataclasses
import functools
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pytest
from fsspec.implementations.local import LocalFileSystem

from shipyard.artifacts import EvaluationResult
from shipyard.errors import NotFoundError
from shipyard.monitoring import decay
from shipyard.monitoring.decay import DecayOptions, measure_decay
from shipyard.monitoring.feedback import feedback_files, labels_from_json, write_labels
from shipyard.monitoring.monitor import MonitorOptions
from shipyard.monitoring.report_html import render_report
from shipyard.monitoring.sources import list_files
from tests.monitoring.logs import HOUR_US, T0, write_log
from tests.monitoring.runs import monitored
from tests.monitoring.test_alerts import receiver  # noqa: F401

if TYPE_CHECKING:
    from pathlib import Path

    from shipyard.runners import Project

NAMES = ["no", "yes"]
EVALUATED = {"accuracy": 0.9, "auc": 0.8, "log_loss": 0.4}


def _evaluation(model: str, version: int) -> tuple[EvaluationResult, str]:
    if version != 3:
        raise NotFoundError(f"No push of model {model!r} version {version}.")
    overall = {
        "task": "binary",
        "class_labels": NAMES,
        "positive_class": "yes",
        "metrics": dict(EVALUATED),
    }
    return EvaluationResult(overall), f"evaluation #7 of {model} v{version}"


def _classified(logs: Path, hour: int, rows: int, *, seed: int, version: int = 3) -> list[int]:
    """A log whose two rows per request predict `no` then `yes`; return the predictions."""
    predicted = np.arange(rows) % 2
    scores = np.where(predicted == 1, 0.8, 0.2)
    write_log(
        logs / "taxi" / str(version),
        hour,
        rows,
        seed=seed,
        sequence=seed,
        columns={
            "version": pa.array(np.full(rows, version, dtype=np.int64)),
            "class_ids": pa.FixedSizeListArray.from_arrays(pa.array(predicted), 1),
            "class_labels": pa.array([NAMES[p] for p in predicted]),
            "probabilities": pa.FixedSizeListArray.from_arrays(
                pa.array(np.column_stack([1 - scores, scores]).ravel()), 2
            ),
        },
    )
    return predicted.tolist()


def _labels(predicted: list[int], *, seed: int, wrong: float) -> list[dict[str, Any]]:
    """A label for each logged row: its prediction, but the first `wrong` share flipped."""
    flipped = int(len(predicted) * wrong)
    return [
        {"request_id": f"r{seed}-{i // 2}", "row": i % 2, "label": NAMES[p ^ (i < flipped)]}
        for i, p in enumerate(predicted)
    ]


def _store(logs: Path, items: list[dict[str, Any]]) -> None:
    write_labels(logs, "taxi", labels_from_json({"feedback": items}))


def _measure(logs: Path, **options: Any) -> Any:
    _, files = list_files(str(logs))
    settings = DecayOptions(find_evaluation=_evaluation, **options)
    return measure_decay(
        LocalFileSystem(), files, feedback_files(str(logs)), settings, window_us=HOUR_US
    )


def test_live_metrics_per_window_are_compared_with_the_evaluation(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    good = _classified(logs, 0, 600, seed=1)
    bad = _classified(logs, 1, 600, seed=2)
    _store(logs, _labels(good, seed=1, wrong=0.1) + _labels(bad, seed=2, wrong=0.3))
    report = _measure(logs)
    assert report.labels == report.matched == 1200 and report.unmatched == 0
    assert report.baselines == {"taxi/3": "evaluation #7 of taxi v3"}
    first, second = report.windows
    assert (first.start_us, first.end_us) == (T0, T0 + HOUR_US)
    assert first.version == "taxi/3" and first.labelled == 600
    assert first.metrics["accuracy"] == pytest.approx(0.9)
    assert first.evaluation == EVALUATED
    assert first.findings == []  # 0.9 is not below 0.9 - 0.05
    assert second.metrics["accuracy"] == pytest.approx(0.7)
    assert second.metrics["log_loss"] > EVALUATED["log_loss"] * 1.25
    decayed = {f.column: f for f in second.findings}
    assert set(decayed) == {"taxi/3:accuracy", "taxi/3:auc", "taxi/3:log_loss"}
    accuracy = decayed["taxi/3:accuracy"]
    assert accuracy.kind == "decay" and accuracy.threshold == pytest.approx(0.85)
    assert "live accuracy 0.7 is 0.2 below its evaluation's 0.9 (tolerance 0.05)" in (
        accuracy.message
    )


def test_the_rows_of_a_request_get_their_own_labels(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    predicted = _classified(logs, 0, 40, seed=1)
    _store(logs, _labels(predicted, seed=1, wrong=0.0))
    (window,) = _measure(logs, min_labels=1).windows
    assert window.metrics["accuracy"] == 1.0  # row 1 of each request is `yes`, row 0 `no`


def test_unmatched_labels_and_unknown_classes_are_counted_not_scored(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    predicted = _classified(logs, 0, 20, seed=1)
    items = _labels(predicted, seed=1, wrong=0.0)
    items[0]["label"] = "maybe"
    _store(logs, [*items, {"request_id": "not-logged", "label": "yes"}])
    _store(logs, [{"request_id": "r1-1", "label": "yes"}])  # newer: the prediction was wrong
    report = _measure(logs, min_labels=1)
    assert (report.labels, report.matched, report.unmatched) == (21, 20, 1)
    assert report.unknown_labels == {"taxi/3": 1}
    (window,) = report.windows
    assert window.labelled == 19 and window.metrics["accuracy"] == pytest.approx(18 / 19)


def test_a_window_with_too_few_labels_or_no_evaluation_raises_no_decay(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    bad = _classified(logs, 0, 100, seed=1)
    other = _classified(logs, 0, 600, seed=2, version=4)
    _store(logs, _labels(bad, seed=1, wrong=0.5) + _labels(other, seed=2, wrong=0.5))
    report = _measure(logs, min_labels=200)
    assert [w.version for w in report.windows] == ["taxi/3", "taxi/4"]
    assert [w.findings for w in report.windows] == [[], []]
    assert report.windows[1].metrics["accuracy"] == pytest.approx(0.5)
    assert report.windows[1].evaluation == {"accuracy": None, "auc": None, "log_loss": None}
    assert report.baselines["taxi/4"].startswith("No push of model 'taxi' version 4")


def test_regression_decay_is_relative_rmse(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    write_log(logs / "taxi" / "3", 0, 10, seed=1, columns={"predictions": pa.array(np.zeros(10))})
    # residuals of 2 on every row: RMSE 2, against an evaluation RMSE of 1.5 (+33%)
    _store(logs, [{"request_id": f"r1-{i // 2}", "row": i % 2, "label": 2} for i in range(10)])
    evaluation = EvaluationResult({"task": "regression", "metrics": {"rmse": 1.5, "mae": 1.9}})
    _, files = list_files(str(logs))
    report = measure_decay(
        LocalFileSystem(),
        files,
        feedback_files(str(logs)),
        DecayOptions(min_labels=10, find_evaluation=lambda m, v: (evaluation, "evaluation")),
        window_us=HOUR_US,
    )
    (window,) = report.windows
    assert window.metrics == {"rmse": 2.0, "mae": 2.0}
    assert [f.column for f in window.findings] == ["taxi/3:rmse"]  # MAE +5% is within 20%


def test_the_monitor_fires_decay_once_and_resolves_it(
    tmp_path: Path, reference: Path, project: Project
) -> None:
    logs = tmp_path / "logs"
    options = MonitorOptions(
        logs=str(logs),
        name="taxi",
        reference=str(reference),
        min_rows=100,
        decay=DecayOptions(min_labels=100, find_evaluation=_evaluation),
    )
    bad = _classified(logs, 0, 400, seed=1)
    _store(logs, _labels(bad, seed=1, wrong=0.3))
    first = monitored(options, project)
    decay = [n for n in first.notifications if n["labels"]["kind"] == "decay"]
    assert {n["labels"]["column"] for n in decay} == {"taxi/3:accuracy", "taxi/3:auc"} | {
        "taxi/3:log_loss"
    }
    assert all(n["status"] == "firing" and n["labels"]["model"] == "taxi/3" for n in decay)
    assert first.alerting and first.to_json()["decay"]["labels"]["matched"] == 400

    more = _classified(logs, 0, 10, seed=5)  # a rerun: still decayed, nothing new fires
    _store(logs, _labels(more, seed=5, wrong=0.0))
    second = monitored(options, project)
    assert not [n for n in second.notifications if n["labels"]["kind"] == "decay"]
    assert len([a for a in second.firing if a["labels"]["kind"] == "decay"]) == 3

    good = _classified(logs, 1, 400, seed=2)  # the next window's labels: healthy again
    _store(logs, _labels(good, seed=2, wrong=0.05))
    third = monitored(options, project)
    resolved = [n for n in third.notifications if n["labels"]["kind"] == "decay"]
    assert {n["status"] for n in resolved} == {"resolved"} and len(resolved) == 3
    assert not [a for a in third.firing if a["labels"]["kind"] == "decay"]
    page = render_report(third)  # every window's live metrics, drawn against evaluation
    assert "Live metrics over time" in page and "taxi/3: accuracy" in page
    assert "0.7073 (410 labels)" in page and "(400 labels)" in page


def test_decay_alerts_are_posted_with_the_monitors_own(
    tmp_path: Path,
    reference: Path,
    project: Project,
    receiver: tuple[str, Any],  # noqa: F811
) -> None:
    url, handler = receiver
    logs = tmp_path / "logs"
    bad = _classified(logs, 0, 400, seed=1)
    _store(logs, _labels(bad, seed=1, wrong=0.3))
    options = MonitorOptions(
        logs=str(logs),
        name="taxi",
        reference=str(reference),
        min_rows=100,
        webhook=url,
        decay=DecayOptions(min_labels=100, find_evaluation=_evaluation),
    )
    report = monitored(options, project)
    assert report.webhook_error is None
    (body,) = handler.bodies
    posted = sorted(
        (a["status"], a["labels"]["kind"], a["labels"]["column"]) for a in body["alerts"]
    )
    assert posted == [
        ("firing", "decay", "taxi/3:accuracy"),
        ("firing", "decay", "taxi/3:auc"),
        ("firing", "decay", "taxi/3:log_loss"),
    ]
    monitored(options, project)  # delivered: nothing pending, nothing new
    assert len(handler.bodies) == 1


def test_outputs_the_metrics_refuse_are_reported_not_fatal(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    write_log(logs / "taxi" / "3", 0, 10, seed=1)  # probabilities that do not sum to 1
    _store(logs, [{"request_id": "r1-0", "label": "yes"}])
    report = _measure(logs, min_labels=1)
    assert report.windows == [] and report.matched == 1
    (problem,) = report.problems
    assert problem.startswith("taxi/3, window 2026-01-01T00:00:00Z: ") and "sum to 1" in problem
    assert report.to_json()["problems"] == [problem]


def test_files_looked_up_in_groups_join_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    logs = tmp_path / "logs"
    good = _classified(logs, 0, 600, seed=1)
    bad = _classified(logs, 1, 600, seed=2)
    _store(logs, _labels(good, seed=1, wrong=0.1) + _labels(bad, seed=2, wrong=0.3))
    together = _measure(logs).to_json()
    monkeypatch.setattr(decay, "GROUP_ROWS", 1)  # one file per lookup
    assert _measure(logs).to_json() == together


def test_a_decay_alert_fires_a_monitor_trigger(
    tmp_path: Path, reference: Path, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shipyard.cli import schedule
    from shipyard.runners import monitor_runs
    from shipyard.scheduling.conditions import evaluate_monitor
    from shipyard.scheduling.triggers import MonitorCondition

    logs = tmp_path / "logs"
    bad = _classified(logs, 0, 600, seed=1)
    _store(logs, _labels(bad, seed=1, wrong=0.3))
    condition = MonitorCondition(
        logs=str(logs / "taxi" / "3"), name="trigger", reference=str(reference), alerts=("decay",)
    )
    ran: list[MonitorOptions] = []

    def run(store: Any, storage: Any, options: MonitorOptions) -> Any:
        # shipyard schedule's runner asks for decay; the evaluation is this test's
        ran.append(options)
        assert options.decay is not None and options.decay.find_evaluation is not None
        decay = DecayOptions(find_evaluation=_evaluation)
        return monitored(dataclasses.replace(options, decay=decay), project)

    monkeypatch.setattr(monitor_runs, "monitor", run)
    fired = evaluate_monitor(condition, {}, functools.partial(schedule._monitor, project))
    assert len(ran) == 1 and fired.candidate is not None
    assert fired.candidate.reason.startswith("3 monitor alerts firing on ")
    assert "taxi/3 decayed: live accuracy 0.7 is 0.2 below" in fired.candidate.reason
