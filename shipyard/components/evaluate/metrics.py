"""Model quality metrics from plain arrays: classification and regression, vectorized.

`compute_metrics` checks its inputs once (lengths, NaN, probabilities summing to 1, class
ids in range) and returns a JSON-ready dict: the scalar metrics, the metrics that are
undefined on this data with the reason why, and the detail behind them (confusion matrix,
ROC and PR curves, calibration buckets, residuals).

Macro averages (`precision_macro`, `recall_macro`, `f1_macro`) average over the classes
present in the rows evaluated, in their labels or their predictions, as scikit-learn does
without `labels=`: a slice of one island holding one species scores 1.0 when every row is
right, not a third for the two species it does not contain. Ranking metrics (AUC, average
precision) are exact, ties included; see `shipyard.components.evaluate.curves`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from shipyard.components.evaluate import curves
from shipyard.dsl.parameters import invalid_parameter
from shipyard.errors import DataError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

Task = Literal["binary", "multiclass", "regression"]
TASKS: tuple[Task, ...] = ("binary", "multiclass", "regression")

PROBABILITY_TOLERANCE = 1e-3
"""How far a row of probabilities may sum from 1."""
LOG_LOSS_EPS = 1e-15
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
RESIDUAL_BINS = 20
_WHO = "compute_metrics"


def compute_metrics(
    labels: Any,
    predictions: Any = None,
    *,
    probabilities: Any = None,
    task: Task,
    class_labels: Sequence[str] | None = None,
    positive_class: int | str | None = None,
) -> dict[str, Any]:
    """Compute every metric of `task` for one set of labels and model outputs.

    Args:
        labels: The true values: class ids `0..C-1` (classification) or numbers (regression),
            as a list, NumPy array or Arrow column.
        predictions: Predicted class ids `[N]` (classification; derived from `probabilities`
            by argmax when omitted) or predicted values `[N]` (regression).
        probabilities: Class probabilities `[N, C]`; for `binary` also `[N]`, the probability
            of class 1. Needed for AUC, PR AUC, log loss, calibration and the curves.
        task: `binary`, `multiclass` or `regression`.
        class_labels: Names of the classes, by id, for reports.
        positive_class: For `binary`, the class (its id, or its name in `class_labels`)
            that precision, recall, F1, AUC, PR AUC, the curves and the calibration are
            computed for. Default: by the rule of `shipyard.components.labels` on the class
            names (`1`/`true`/`yes`-like, else the larger number, else the later name),
            never by frequency.

    Returns:
        `{"task", "count", "metrics": {name: float | None}, "undefined": {name: reason}, ...}`
        plus `class_labels`, `confusion_matrix`, `curves`, `calibration`, `per_class`
        (classification), `positive_class` (its name; binary) or `residuals` (regression).

    Raises:
        InvalidParameterError: `task` or `class_labels` is wrong, or outputs are missing.
        DataError: The arrays are empty, of different lengths, contain NaN, or the
            probabilities do not sum to 1.

    Example:
        >>> compute_metrics([0, 1, 1], probabilities=[0.2, 0.7, 0.4], task="binary")["metrics"]
        {'accuracy': 0.666..., 'auc': 1.0, ...}
    """
    if task not in TASKS:
        raise invalid_parameter(_WHO, "task", "one of 'binary', 'multiclass', 'regression'", task)
    if task == "regression":
        if predictions is None:
            raise invalid_parameter(
                _WHO, "predictions", "the predicted values for regression", None
            )
        y = _column(labels, "labels")
        pred = _column(predictions, "predictions")
        _check_lengths(labels=y, predictions=pred)
        return regression_metrics(y, pred)
    return classification_metrics(
        labels,
        predictions,
        probabilities=probabilities,
        task=task,
        class_labels=class_labels,
        positive_class=positive_class,
    )


def classification_metrics(
    labels: Any,
    predictions: Any = None,
    *,
    probabilities: Any = None,
    task: Literal["binary", "multiclass"],
    class_labels: Sequence[str] | None = None,
    positive_class: int | str | None = None,
) -> dict[str, Any]:
    """Compute the classification metrics; see `compute_metrics`."""
    if predictions is None and probabilities is None:
        raise invalid_parameter(
            _WHO, "predictions", "given when probabilities are not (class ids [N])", None
        )
    y_raw = _column(labels, "labels")
    proba = None if probabilities is None else _probabilities(probabilities, task)
    pred_raw = None if predictions is None else _column(predictions, "predictions")
    _check_lengths(labels=y_raw, predictions=pred_raw, probabilities=proba)
    num_classes = _num_classes(task, y_raw, pred_raw, proba, class_labels)
    y = _class_ids(y_raw, "labels", num_classes)
    pred = (
        _class_ids(pred_raw, "predictions", num_classes)
        if pred_raw is not None
        else np.argmax(proba, axis=1)  # type: ignore[arg-type]
    )
    names = list(class_labels) if class_labels is not None else [str(i) for i in range(num_classes)]
    matrix = np.bincount(y * num_classes + pred, minlength=num_classes**2).reshape(
        num_classes, num_classes
    )
    metrics: dict[str, float | None] = {"accuracy": float(np.trace(matrix) / len(y))}
    undefined: dict[str, str] = {}
    result: dict[str, Any] = {
        "task": task,
        "count": len(y),
        "class_labels": names,
        "metrics": metrics,
        "undefined": undefined,
        "confusion_matrix": {"labels": names, "matrix": matrix.tolist()},
    }
    precision, recall, f1, support = _per_class_scores(matrix)
    per_class: dict[str, dict[str, float | int | None]] = {
        name: {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i, name in enumerate(names)
    }
    if task == "binary":
        positive = _positive_index(names, positive_class)
        result["positive_class"] = names[positive]
        metrics.update(
            precision=float(precision[positive]),
            recall=float(recall[positive]),
            f1=float(f1[positive]),
        )
    else:
        weights = support / support.sum()
        present = (support > 0) | (matrix.sum(axis=0) > 0)
        for metric, values in (("precision", precision), ("recall", recall), ("f1", f1)):
            metrics[f"{metric}_macro"] = float(values[present].mean())
            metrics[f"{metric}_weighted"] = float(values @ weights)
        result["per_class"] = per_class
    if proba is None:
        for metric in ("auc", "pr_auc", "log_loss", "expected_calibration_error"):
            metrics[metric] = None
            undefined[metric] = "needs probabilities; only predicted class ids were given"
        return result
    _probability_metrics(result, y, proba, names, per_class)
    return result


def _probability_metrics(
    result: dict[str, Any],
    y: NDArray[np.int64],
    proba: NDArray[np.float64],
    names: list[str],
    per_class: dict[str, dict[str, float | int | None]],
) -> None:
    metrics: dict[str, float | None] = result["metrics"]
    undefined: dict[str, str] = result["undefined"]
    picked = proba[np.arange(len(y)), y]
    metrics["log_loss"] = float(-np.mean(np.log(np.clip(picked, LOG_LOSS_EPS, 1.0))))
    if result["task"] == "binary":
        index = names.index(result["positive_class"])
        positive, score = y == index, proba[:, index]
        calibration = curves.calibration(score, positive.astype(np.float64))
        auc, reason = curves.roc_auc(positive, score)
        metrics["auc"] = auc
        if reason:
            undefined["auc"] = reason
        metrics["pr_auc"], reason = curves.average_precision(positive, score)
        if reason:
            undefined["pr_auc"] = reason
        result["curves"] = {
            "roc": curves.roc_curve(positive, score),
            "pr": curves.pr_curve(positive, score),
        }
    else:
        confidence = proba.max(axis=1)
        correct = (np.argmax(proba, axis=1) == y).astype(np.float64)
        calibration = curves.calibration(confidence, correct)
        aucs: list[float] = []
        missing: list[str] = []
        for index, name in enumerate(names):
            auc, reason = curves.roc_auc(y == index, proba[:, index])
            per_class[name]["auc"] = auc
            if auc is None:
                missing.append(name)
            else:
                aucs.append(auc)
        if missing:
            metrics["auc"] = None
            undefined["auc"] = (
                f"one-vs-rest AUC is undefined for class(es) {', '.join(map(repr, missing))}: "
                "each class needs both positive and negative labels; see per_class for the rest"
            )
        else:
            metrics["auc"] = float(np.mean(aucs))
        metrics["pr_auc"] = None
        undefined["pr_auc"] = "average precision is reported for binary tasks only"
    metrics["expected_calibration_error"] = calibration["expected_calibration_error"]
    result["calibration"] = calibration


def regression_metrics(y: NDArray[np.float64], pred: NDArray[np.float64]) -> dict[str, Any]:
    """Compute RMSE, MAE, R² and a summary of the residuals `label - prediction`."""
    residuals = y - pred
    total = float(np.sum((y - y.mean()) ** 2))
    metrics: dict[str, float | None] = {
        "rmse": float(np.sqrt(np.mean(residuals**2))),
        "mae": float(np.mean(np.abs(residuals))),
        "r2": None if total == 0 else float(1 - np.sum(residuals**2) / total),
        "mean_error": float(residuals.mean()),
    }
    undefined = {} if total else {"r2": "all labels are equal, so R² is undefined"}
    low, high = float(residuals.min()), float(residuals.max())
    if low == high:
        low, high = low - 0.5, high + 0.5
    counts, edges = np.histogram(residuals, bins=RESIDUAL_BINS, range=(low, high))
    return {
        "task": "regression",
        "count": len(y),
        "metrics": metrics,
        "undefined": undefined,
        "residuals": {
            "mean": float(residuals.mean()),
            "std": float(residuals.std()),
            "min": float(residuals.min()),
            "max": float(residuals.max()),
            "quantiles": {
                str(q): float(v)
                for q, v in zip(QUANTILES, np.quantile(residuals, QUANTILES), strict=True)
            },
            "histogram": {"edges": edges.tolist(), "counts": counts.tolist()},
        },
    }


def _positive_index(names: list[str], positive_class: int | str | None) -> int:
    """The id of the binary positive class: named, given by id, or by the documented rule."""
    from shipyard.components.labels import positive_class as choose

    if isinstance(positive_class, int) and not isinstance(positive_class, bool):
        if positive_class not in (0, 1):
            raise invalid_parameter(_WHO, "positive_class", "0, 1 or a class name", positive_class)
        return positive_class
    return choose(names, None if positive_class is None else str(positive_class), who=_WHO).index


def _per_class_scores(
    matrix: NDArray[np.int64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Precision, recall, F1 and support per class; 0 where a denominator is 0."""
    true_positive = np.diag(matrix).astype(np.float64)
    predicted = matrix.sum(axis=0)
    support = matrix.sum(axis=1)
    precision = np.divide(
        true_positive, predicted, out=np.zeros_like(true_positive), where=predicted > 0
    )
    recall = np.divide(true_positive, support, out=np.zeros_like(true_positive), where=support > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros_like(both), where=both > 0)
    return precision, recall, f1, support


def to_numpy(values: Any) -> NDArray[Any]:
    """Convert a list, NumPy array or Arrow array / chunked array to a NumPy array."""
    if hasattr(values, "to_numpy") and hasattr(values, "type"):  # Arrow
        if hasattr(values, "combine_chunks"):
            values = values.combine_chunks()
        if str(values.type).startswith(("list", "fixed_size_list", "large_list")):
            return _arrow_rows(values)
        return np.asarray(values.to_numpy(zero_copy_only=False))
    array = np.asarray(values)
    if array.dtype == object and array.ndim == 1 and len(array) and np.ndim(array[0]) == 1:
        return np.stack([np.asarray(row, dtype=np.float64) for row in array])
    return array


def _arrow_rows(values: Any) -> NDArray[np.float64]:
    """Turn an Arrow list column of equal-length rows into a 2-D array, without Python lists."""
    import pyarrow.compute as pc

    if values.null_count:
        raise DataError(f"{values.null_count:,} rows of probabilities are null.")
    lengths = pc.list_value_length(values).to_numpy(zero_copy_only=False)
    if len(lengths) and lengths.min() != lengths.max():
        raise DataError(
            f"Rows of probabilities have {lengths.min()} to {lengths.max()} values; every row "
            "needs one probability per class."
        )
    flat: NDArray[np.float64] = np.asarray(
        pc.list_flatten(values).to_numpy(zero_copy_only=False), dtype=np.float64
    )
    return flat.reshape(len(values), int(lengths[0]) if len(lengths) else 0)


def _column(values: Any, name: str) -> NDArray[np.float64]:
    try:
        array = to_numpy(values).astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name} must be numbers: {exc}", column=name) from exc
    if array.ndim != 1:
        raise DataError(f"{name} must be one value per row, got shape {array.shape}.", column=name)
    if len(array) == 0:
        raise DataError(f"{name} is empty: there are no rows to evaluate.", column=name)
    _check_finite(array, name)
    return array


def _check_finite(array: NDArray[np.float64], name: str) -> None:
    bad = ~np.isfinite(array)
    if bad.any():
        rows = np.flatnonzero(bad.reshape(len(array), -1).any(axis=1))
        raise DataError(
            f"{len(rows):,} of {len(array):,} rows of {name} are NaN or infinite "
            f"(first at row {rows[0]}). Drop or impute those rows before evaluating.",
            column=name,
        )


def _probabilities(values: Any, task: str) -> NDArray[np.float64]:
    try:
        proba = to_numpy(values).astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"probabilities must be numbers: {exc}", column="probabilities") from exc
    if len(proba) == 0:
        raise DataError("probabilities is empty: there are no rows to evaluate.")
    if proba.ndim == 1 and task == "binary":
        proba = np.column_stack([1 - proba, proba])
    if proba.ndim != 2 or (task == "binary" and proba.shape[1] != 2):
        expected = "[N] or [N, 2]" if task == "binary" else "[N, C]"
        raise DataError(
            f"probabilities must have shape {expected} for a {task} task, got {proba.shape}.",
            column="probabilities",
        )
    _check_finite(proba, "probabilities")
    out_of_range = ((proba < 0) | (proba > 1)).any(axis=1)
    sums_off = np.abs(proba.sum(axis=1) - 1) > PROBABILITY_TOLERANCE
    bad = np.flatnonzero(out_of_range | sums_off)
    if len(bad):
        row = int(bad[0])
        raise DataError(
            f"{len(bad):,} of {len(proba):,} rows of probabilities are not in [0, 1] or do not "
            f"sum to 1 (first at row {row}: {proba[row].tolist()}, sum {proba[row].sum():.6g}). "
            "Pass the model's softmax output, not logits.",
            column="probabilities",
        )
    return proba


def _check_lengths(**arrays: NDArray[Any] | None) -> None:
    lengths = {name: len(array) for name, array in arrays.items() if array is not None}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{name} has {n:,}" for name, n in lengths.items())
        raise DataError(f"The inputs must have one row per example, but {shown} rows.")


def _num_classes(
    task: str,
    y: NDArray[np.float64],
    pred: NDArray[np.float64] | None,
    proba: NDArray[np.float64] | None,
    class_labels: Sequence[str] | None,
) -> int:
    if proba is not None:
        count = int(proba.shape[1])
    elif class_labels is not None:
        count = len(class_labels)
    elif task == "binary":
        count = 2
    else:
        count = int(max(y.max(), 0 if pred is None else pred.max())) + 1
    if task == "binary" and count != 2:
        raise invalid_parameter(_WHO, "class_labels", "2 names for a binary task", class_labels)
    if class_labels is not None and len(class_labels) != count:
        raise invalid_parameter(
            _WHO, "class_labels", f"{count} names, one per class", list(class_labels)
        )
    return count


def _class_ids(values: NDArray[np.float64], name: str, num_classes: int) -> NDArray[np.int64]:
    bad = np.flatnonzero((values != np.round(values)) | (values < 0) | (values >= num_classes))
    if len(bad):
        row = int(bad[0])
        raise DataError(
            f"{len(bad):,} {name} are not class ids in 0..{num_classes - 1} "
            f"(first at row {row}: {values[row]:g}). Encode labels with the model's vocabulary.",
            column=name,
        )
    return values.astype(np.int64)
