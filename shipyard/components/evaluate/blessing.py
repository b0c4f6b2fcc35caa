"""Bless a model: check its metrics against absolute bounds and against a baseline.

`thresholds` bound metrics absolutely (`{"accuracy": {"min": 0.9}, "rmse": {"max": 10}}`);
`max_regression` limits how much worse than the baseline a metric may be, as an absolute
change in the metric's bad direction (`{"accuracy": 0.01, "rmse": 0.5}`): a drop for
higher-is-better metrics, a rise for lower-is-better ones. The first model (no baseline) is
judged on the absolute thresholds alone, and the decision says so in its notes.

Defaults, so that only a model at least as good as the last blessed one is pushed:
- With a baseline and no `max_regression`, the task's primary metric (`PRIMARY_METRICS`:
  AUC for binary, accuracy for multiclass, R² for regression) may fall short of the
  baseline's by at most `DEFAULT_MAX_REGRESSION` (0.01). `max_regression={}` turns the
  comparison off.
- A degenerate classifier (one class predicted for every row, or a binary classifier that
  never finds the positive class) is not blessed, unless `allow_degenerate`.
"""

from __future__ import annotations

import typing
from typing import TYPE_CHECKING, Any, Literal

from shipyard.artifacts.evaluation import (
    BlessingCheck,
    BlessingDecision,
    format_metric,
    metric_direction,
)
from shipyard.dsl.parameters import invalid_parameter

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from numpy.typing import NDArray

_WHO = "decide_blessing"
Bound = Literal["min", "max"]
_TOLERANCE = 1e-12
"""Rounding slack, so that 0.9 - 0.01 still admits 0.89."""

DEFAULT_MAX_REGRESSION = 0.01
"""How much the primary metric may fall short of the baseline's when no limit is given."""

PRIMARY_METRICS = {"binary": "auc", "multiclass": "accuracy", "regression": "r2"}
"""The metric a model must not regress on, per task, when `max_regression` is not given."""


def default_max_regression(task: str) -> dict[str, float]:
    """Return the regression limit used when none is given: the primary metric, 0.01."""
    return {PRIMARY_METRICS.get(task, "accuracy"): DEFAULT_MAX_REGRESSION}


def degenerate_reason(
    labels: Sequence[int] | NDArray[Any],
    predictions: Sequence[int] | NDArray[Any],
    *,
    task: str,
    class_labels: Sequence[Any] | None = None,
    positive_class_id: int | None = None,
) -> str | None:
    """Say why a classifier's predictions are degenerate; None when they are not.

    Degenerate: the labels hold several classes and the model predicts one for every row,
    or (binary) it never predicts the positive class although the labels hold it.
    """
    import numpy as np

    if task == "regression" or len(labels) == 0:
        return None
    truth = np.asarray(labels)
    predicted = np.asarray(predictions)
    names = list(class_labels or [])

    def name(class_id: int) -> str:
        return repr(names[class_id]) if 0 <= class_id < len(names) else str(class_id)

    present = np.unique(truth)
    chosen = np.unique(predicted)
    if present.size > 1 and chosen.size == 1:
        return (
            f"the model predicts {name(int(chosen[0]))} for every one of the {truth.size} "
            f"rows, although the labels hold {present.size} classes."
        )
    if positive_class_id is not None and task == "binary":
        positives = int((truth == positive_class_id).sum())
        if positives and not (predicted == positive_class_id).any():
            return (
                f"the model never predicts the positive class {name(positive_class_id)} "
                f"(recall 0 on its {positives} rows)."
            )
    return None


def decide_blessing(
    metrics: Mapping[str, float | None],
    *,
    thresholds: Mapping[str, Mapping[str, float]] | None = None,
    max_regression: Mapping[str, float] | None = None,
    baseline: Mapping[str, float | None] | None = None,
    baseline_id: int | str | None = None,
    undefined: Mapping[str, str] | None = None,
    degenerate: str | None = None,
    allow_degenerate: bool = False,
) -> BlessingDecision:
    """Decide whether a model is blessed: every check must pass.

    Args:
        metrics: The candidate's metrics (`compute_metrics(...)["metrics"]`).
        thresholds: Absolute bounds per metric: `{"auc": {"min": 0.8}, "rmse": {"max": 10}}`.
        max_regression: The largest allowed change for the worse vs the baseline, per metric.
        baseline: The baseline model's metrics; None for the first model.
        baseline_id: The baseline model's id, recorded in the decision.
        undefined: Why some metrics are None (`compute_metrics(...)["undefined"]`).
        degenerate: Why the classifier is degenerate (`degenerate_reason(...)`), or None.
        allow_degenerate: Bless a degenerate classifier all the same (noted).

    Returns:
        The decision, with every check and its reason.

    Raises:
        InvalidParameterError: A threshold is malformed, names a metric not computed, or a
            regression limit names a metric whose direction is unknown.

    Example:
        >>> decision = decide_blessing({"accuracy": 0.93}, thresholds={"accuracy": {"min": 0.9}},
        ...                            max_regression={"accuracy": 0.01},
        ...                            baseline={"accuracy": 0.95}, baseline_id=12)
        >>> decision.blessed, decision.failed[0].reason
        (False, 'accuracy fell by 0.02 from the baseline's 0.95 to 0.93; at most 0.01 ...')
    """
    thresholds = dict(thresholds or {})
    max_regression = dict(max_regression or {})
    undefined = dict(undefined or {})
    _check_parameters(metrics, thresholds, max_regression)
    checks: list[BlessingCheck] = []
    for metric, bounds in thresholds.items():
        value = metrics[metric]
        for kind in typing.get_args(Bound):
            if kind in bounds:
                checks.append(_absolute(metric, kind, value, float(bounds[kind]), undefined))
    notes: list[str] = []
    if degenerate is not None:
        if allow_degenerate:
            notes.append(f"Degenerate, allowed: {degenerate}")
        else:
            reason = (
                f"Degenerate classifier: {degenerate} Such a model is not blessed "
                "(allow_degenerate=True blesses it)."
            )
            checks.append(
                BlessingCheck("predicted_classes", "degenerate", None, None, False, reason)
            )
    if baseline is None:
        if max_regression:
            limits = ", ".join(f"{m} {format_metric(v)}" for m, v in max_regression.items())
            notes.append(
                f"No baseline yet (no model of this pipeline was blessed before): the "
                f"regression limits ({limits}) were not checked."
            )
    else:
        for metric, allowed in max_regression.items():
            check = _regression(metric, metrics[metric], baseline.get(metric), float(allowed))
            if check is None:
                notes.append(f"The baseline has no {metric}: the regression limit was skipped.")
            else:
                checks.append(check)
    return BlessingDecision(
        blessed=all(c.passed for c in checks),
        checks=tuple(checks),
        baseline_id=baseline_id if baseline is not None else None,
        notes=tuple(notes),
    )


def _check_parameters(
    metrics: Mapping[str, float | None],
    thresholds: dict[str, Mapping[str, float]],
    max_regression: dict[str, float],
) -> None:
    known = ", ".join(map(repr, metrics)) or "none"
    for metric, bounds in thresholds.items():
        if metric not in metrics:
            raise invalid_parameter(
                _WHO, "thresholds", f"keyed by computed metrics ({known})", metric
            )
        if (
            not isinstance(bounds, dict)
            or not bounds
            or set(bounds) - {"min", "max"}
            or not all(_is_number(v) for v in bounds.values())
            or bounds.get("min", -float("inf")) > bounds.get("max", float("inf"))
        ):
            raise invalid_parameter(
                _WHO,
                f"thresholds[{metric!r}]",
                "a dict with 'min' and/or 'max' numbers, min <= max",
                bounds,
            )
    for metric, allowed in max_regression.items():
        if metric not in metrics:
            raise invalid_parameter(
                _WHO, "max_regression", f"keyed by computed metrics ({known})", metric
            )
        if metric_direction(metric) is None:
            raise invalid_parameter(
                _WHO,
                "max_regression",
                "keyed by metrics whose better direction is known (not a custom metric)",
                metric,
            )
        if not _is_number(allowed) or allowed < 0:
            raise invalid_parameter(_WHO, f"max_regression[{metric!r}]", "a number >= 0", allowed)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _absolute(
    metric: str,
    kind: Bound,
    value: float | None,
    bound: float,
    undefined: dict[str, str],
) -> BlessingCheck:
    if value is None:
        why = undefined.get(metric, "it is undefined on this data")
        reason = (
            f"{metric} has no value ({why}), so its {kind} {format_metric(bound)} cannot be met."
        )
        return BlessingCheck(metric, kind, None, bound, False, reason)
    passed = value >= bound - _TOLERANCE if kind == "min" else value <= bound + _TOLERANCE
    relation = {("min", True): ">=", ("min", False): "<", ("max", True): "<=", ("max", False): ">"}
    reason = (
        f"{metric} {format_metric(value)} {relation[kind, passed]} {kind} {format_metric(bound)}."
    )
    return BlessingCheck(metric, kind, value, bound, passed, reason)


def _regression(
    metric: str, value: float | None, baseline: float | None, allowed: float
) -> BlessingCheck | None:
    if baseline is None:
        return None
    higher = metric_direction(metric) == "higher"
    bound = baseline - allowed if higher else baseline + allowed
    if value is None:
        return BlessingCheck(
            metric,
            "regression",
            None,
            bound,
            False,
            f"{metric} has no value, so it cannot be compared with the baseline's "
            f"{format_metric(baseline)}.",
            baseline,
        )
    worse_by = (baseline - value) if higher else (value - baseline)
    passed = worse_by <= allowed + _TOLERANCE
    verb = "fell" if higher else "rose"
    if worse_by <= 0:
        reason = (
            f"{metric} {format_metric(value)} is no worse than the baseline's "
            f"{format_metric(baseline)}."
        )
    else:
        reason = (
            f"{metric} {verb} by {format_metric(worse_by)} from the baseline's "
            f"{format_metric(baseline)} to {format_metric(value)}; "
            f"at most {format_metric(allowed)} is allowed."
        )
    return BlessingCheck(metric, "regression", value, bound, passed, reason, baseline)
