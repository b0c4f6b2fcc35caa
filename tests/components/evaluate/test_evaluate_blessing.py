"""decide_blessing: absolute thresholds, regression vs a baseline, directions."""

from __future__ import annotations

import pytest

from shipyard.components.evaluate import decide_blessing
from shipyard.errors import InvalidParameterError


def test_first_model_is_judged_on_absolute_thresholds_alone() -> None:
    decision = decide_blessing(
        {"accuracy": 0.93, "auc": 0.7},
        thresholds={"accuracy": {"min": 0.9}},
        max_regression={"accuracy": 0.01},
    )
    assert decision.blessed
    assert [(c.metric, c.kind, c.passed) for c in decision.checks] == [("accuracy", "min", True)]
    assert decision.baseline_id is None
    assert "No baseline yet" in decision.notes[0]
    failing = decide_blessing({"accuracy": 0.85}, thresholds={"accuracy": {"min": 0.9}})
    assert not failing.blessed
    assert failing.failed[0].reason == "accuracy 0.85 < min 0.9."
    assert decide_blessing({"accuracy": 0.5}).blessed  # no checks at all


def test_regression_beyond_allowed_drop_fails() -> None:
    decision = decide_blessing(
        {"accuracy": 0.89, "auc": 0.95},
        thresholds={"accuracy": {"min": 0.8}},
        max_regression={"accuracy": 0.01, "auc": 0.02},
        baseline={"accuracy": 0.92, "auc": 0.94},
        baseline_id=12,
    )
    assert not decision.blessed
    assert decision.baseline_id == 12
    by_metric = {(c.metric, c.kind): c for c in decision.checks}
    accuracy = by_metric["accuracy", "regression"]
    assert not accuracy.passed and accuracy.baseline == 0.92
    assert accuracy.bound == pytest.approx(0.91)
    assert "fell by 0.03" in accuracy.reason and "at most 0.01" in accuracy.reason
    assert by_metric["auc", "regression"].passed  # improved
    assert by_metric["accuracy", "min"].passed
    assert decision.summary().startswith("Not blessed: accuracy fell by 0.03")


def test_drop_exactly_at_the_limit_passes() -> None:
    decision = decide_blessing(
        {"accuracy": 0.89}, max_regression={"accuracy": 0.01}, baseline={"accuracy": 0.9}
    )
    assert decision.blessed


def test_lower_is_better_metrics() -> None:
    decision = decide_blessing(
        {"rmse": 10.4, "log_loss": 0.3},
        thresholds={"rmse": {"max": 10}},
        max_regression={"rmse": 0.5, "log_loss": 0.05},
        baseline={"rmse": 10.0, "log_loss": 0.2},
    )
    by_metric = {(c.metric, c.kind): c for c in decision.checks}
    assert not by_metric["rmse", "max"].passed  # 10.4 > 10
    assert by_metric["rmse", "regression"].passed  # rose 0.4 <= 0.5
    assert by_metric["rmse", "regression"].bound == pytest.approx(10.5)
    assert not by_metric["log_loss", "regression"].passed  # rose 0.1 > 0.05
    assert "rose by 0.1" in by_metric["log_loss", "regression"].reason
    better = decide_blessing({"rmse": 8.0}, max_regression={"rmse": 0.0}, baseline={"rmse": 9.0})
    assert better.blessed and "no worse" in better.checks[0].reason


def test_undefined_metric_fails_its_threshold_with_the_reason() -> None:
    decision = decide_blessing(
        {"auc": None},
        thresholds={"auc": {"min": 0.8}},
        undefined={"auc": "undefined: the labels contain no negative example"},
    )
    assert not decision.blessed
    assert "no negative example" in decision.checks[0].reason


def test_baseline_without_the_metric_skips_the_comparison() -> None:
    decision = decide_blessing(
        {"auc": 0.9}, max_regression={"auc": 0.01}, baseline={"accuracy": 0.9}, baseline_id="m1"
    )
    assert decision.blessed and decision.checks == ()
    assert "no auc" in decision.notes[0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"thresholds": {"rmse": {"max": 1}}}, "computed metrics ('accuracy', 'custom')"),
        ({"thresholds": {"accuracy": {"minimum": 0.9}}}, "'min' and/or 'max'"),
        ({"thresholds": {"accuracy": {"min": 0.9, "max": 0.5}}}, "min <= max"),
        ({"max_regression": {"custom": 0.1}}, "direction is known"),
        ({"max_regression": {"accuracy": -0.1}}, "a number >= 0"),
    ],
)
def test_invalid_thresholds(kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        decide_blessing({"accuracy": 0.9, "custom": 1.0}, **kwargs)
    assert message in str(info.value)


def test_a_degenerate_classifier_is_not_blessed_unless_allowed() -> None:
    from shipyard.components.evaluate.blessing import degenerate_reason

    labels = [0, 1, 1, 0, 1]
    reason = degenerate_reason(labels, [1] * 5, task="binary", class_labels=["no", "yes"])
    assert reason is not None and "predicts 'yes' for every one of the 5 rows" in reason
    never = degenerate_reason(
        labels, [0, 0, 0, 0, 2], task="multiclass", class_labels=["a", "b", "c"]
    )
    assert never is None  # two classes predicted: not degenerate for multiclass
    missed = degenerate_reason(
        [0, 1, 0, 0], [0, 0, 2, 0], task="binary", class_labels=["no", "yes"], positive_class_id=1
    )
    assert missed is not None and "never predicts the positive class 'yes'" in missed
    assert degenerate_reason([0, 1], [0, 1], task="binary", positive_class_id=1) is None
    assert degenerate_reason([1.0, 2.0], [1.5, 1.5], task="regression") is None
    assert degenerate_reason([1, 1], [1, 1], task="binary") is None  # the labels hold one class

    refused = decide_blessing({"accuracy": 0.93}, degenerate=reason)
    assert not refused.blessed
    [check] = refused.failed
    assert check.kind == "degenerate" and "allow_degenerate=True" in check.reason
    allowed = decide_blessing({"accuracy": 0.93}, degenerate=reason, allow_degenerate=True)
    assert allowed.blessed and "Degenerate, allowed" in allowed.notes[0]


def test_the_default_regression_limit_is_the_primary_metric_of_the_task() -> None:
    from shipyard.components.evaluate.blessing import DEFAULT_MAX_REGRESSION, default_max_regression

    assert DEFAULT_MAX_REGRESSION == 0.01
    assert default_max_regression("binary") == {"auc": 0.01}
    assert default_max_regression("multiclass") == {"accuracy": 0.01}
    assert default_max_regression("regression") == {"r2": 0.01}
