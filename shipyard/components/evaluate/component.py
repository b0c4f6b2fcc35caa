"""The `evaluate` component (TFX Evaluator): metrics of an exported model, and its blessing.

The model runs on the RAW examples (the output of `ingest`, not of `transform`), exactly as
it will be served: `model.onnx` holds the preprocessing. For classification the raw label is
mapped to class ids with the model's label vocabulary. Rows whose label is missing, and rows
whose label the model never saw in training (a class not in its vocabulary), cannot be
scored: they are left out, and their counts are recorded in the evaluation
(`overall["excluded"]`) and in its properties (`excluded_rows`).

The task and, for a binary model, the positive class are the ones the model's signature
records (`train` chose them by the rules of `shipyard.components.labels`); the evaluation
states both: `overall["task"]`, `overall["positive_class"]` and their reasons, and the
`task` and `positive_class` properties.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, cast

from shipyard.artifacts import Examples, Model, ModelBlessing, ModelEvaluation
from shipyard.dsl import Out, component
from shipyard.dsl.parameters import invalid_parameter
from shipyard.errors import DataError, NotFoundError

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa
    from numpy.typing import NDArray

    from shipyard.artifacts import BlessingDecision
    from shipyard.components.evaluate.metrics import Task

_WHO = "evaluate"
_REASONS = ("task_reason", "positive_class_reason")
"""Why the model has its task and positive class: copied from its signature."""


@component
def evaluate(
    examples: Examples,
    model: Model,
    evaluation: Out[ModelEvaluation],
    blessing: Out[ModelBlessing],
    baseline: Model | None = None,
    *,
    split: str = "eval",
    slices: tuple[str | dict[str, Any], ...] = (),
    thresholds: dict[str, dict[str, float]] | None = None,
    max_regression: dict[str, float] | None = None,
    allow_degenerate: bool = False,
    min_slice_size: int = 1,
) -> None:
    """Evaluate a model on raw examples, overall and per slice, and decide its blessing.

    Args:
        examples: The raw examples (the output of `ingest`); they must hold the label.
        model: The exported model to evaluate.
        evaluation: Receives the metrics (`evaluation.json`) and `report.html`: the model,
            the blessing with every check, the metrics beside the baseline's, the charts.
        blessing: Receives the decision (`blessing.json`; `blessed` in its properties).
        baseline: A model to compare with (TFMA style): evaluated on the same rows, its
            metrics bound `max_regression`. None: the absolute thresholds alone decide.
        split: The split to evaluate.
        slices: Slice specs, as for `slice_metrics`: `"island"`,
            `{"feature": "age", "quantiles": 4}`, `{"feature": "age", "boundaries": [18]}`.
        thresholds: Absolute bounds: `{"accuracy": {"min": 0.9}, "rmse": {"max": 10}}`.
        max_regression: The largest allowed change for the worse vs the baseline, per metric.
            None (the default): the task's primary metric (AUC for binary, accuracy for
            multiclass, R² for regression) may be at most 0.01 worse than the baseline's;
            `{}` compares nothing.
        allow_degenerate: Bless a classifier that predicts a single class for every row (or,
            binary, never the positive class); by default such a model is not blessed.
        min_slice_size: Slices with fewer rows are listed without metrics.

    Rows whose label is missing or a class unseen in training are left out of every metric;
    `evaluation.load().overall["excluded"]` counts them (`missing_label`, `unseen_label`).

    Raises:
        NotFoundError: `examples` has no such split.
        DataError: The split lacks the label column, or no row can be scored.
        InvalidParameterError: A slice, threshold or regression limit is malformed.

    Example:
        >>> checked = evaluate(
        ...     examples=raw.outputs.examples,
        ...     model=trained.outputs.model,
        ...     slices=["island"],
        ...     thresholds={"accuracy": {"min": 0.9}},
        ... )
    """
    if isinstance(min_slice_size, bool) or min_slice_size < 1:
        raise invalid_parameter(_WHO, "min_slice_size", "an int >= 1", min_slice_size)
    from shipyard.artifacts import EvaluationResult
    from shipyard.components.evaluate.metrics import compute_metrics
    from shipyard.components.evaluate.points import sample_points
    from shipyard.components.evaluate.slices import slice_metrics

    if split not in examples.splits:
        raise NotFoundError(
            f"evaluate reads the {split!r} split, but {examples.uri} has "
            f"{', '.join(examples.splits) or 'no splits'}."
        )
    signature = model.signature()
    task = cast("Task", signature["task"])
    label = str(signature["label"])
    table = examples.read(split)
    if label not in table.column_names:
        raise DataError(
            f"the {split!r} split of {examples.uri} has no label column {label!r}; evaluate "
            "reads the raw examples (the output of ingest), not the transformed ones.",
            column=label,
        )
    labels, keep, excluded = _labels(table.column(label), task, signature)
    if not keep.any():
        raise DataError(
            f"no row of the {split!r} split can be scored: {excluded['missing_label']} have "
            f"no label, {excluded['unseen_label']} a class the model never saw.",
            column=label,
        )
    rows = table.filter(keep) if not keep.all() else table
    labels = labels[keep]
    class_labels = signature.get("label_vocabulary")
    positive = signature.get("positive_class") if task == "binary" else None
    outputs = _outputs(model, rows, task)
    overall = compute_metrics(
        labels, **outputs, task=task, class_labels=class_labels, positive_class=positive
    )
    overall.update({key: signature[key] for key in _REASONS if signature.get(key)})
    overall["excluded"] = excluded
    overall["model"] = _describe(model)
    if task == "regression":
        overall["points"] = sample_points(labels, outputs["predictions"])
    slice_results = (
        slice_metrics(
            rows,
            labels,
            **outputs,
            task=task,
            slices=list(slices),
            class_labels=class_labels,
            min_slice_size=min_slice_size,
            positive_class=positive,
        )
        if slices
        else []
    )
    baseline_metrics: dict[str, float | None] | None = None
    note: str | None = None
    if baseline is not None:
        baseline_metrics, note = _baseline_metrics(
            baseline, rows, table.column(label), keep, signature
        )
        overall["baseline"] = {**_describe(baseline), "metrics": baseline_metrics}
    result = EvaluationResult(overall=overall, slices=tuple(slice_results), split=split)
    decision = _bless(
        overall,
        labels,
        outputs["predictions"],
        class_labels=class_labels,
        thresholds=thresholds,
        max_regression=max_regression,
        baseline_metrics=baseline_metrics,
        baseline_id=baseline.id if baseline is not None else None,
        allow_degenerate=allow_degenerate,
        notes=(note,) if note else (),
    )
    evaluation.save(result, blessing=decision)
    evaluation.properties["excluded_rows"] = excluded
    evaluation.properties["split"] = split
    if "positive_class" in overall:
        evaluation.properties["positive_class"] = overall["positive_class"]
    blessing.save(decision)
    blessing.properties["blessed"] = decision.blessed
    blessing.properties["baseline_id"] = decision.baseline_id
    blessing.properties["model_id"] = model.id
    blessing.properties["model_fingerprint"] = model.fingerprint


def _bless(
    overall: dict[str, Any],
    labels: NDArray[Any],
    predictions: NDArray[Any],
    *,
    class_labels: list[Any] | None,
    thresholds: dict[str, dict[str, float]] | None,
    max_regression: dict[str, float] | None,
    baseline_metrics: dict[str, float | None] | None,
    baseline_id: int | str | None,
    allow_degenerate: bool,
    notes: tuple[str, ...],
) -> BlessingDecision:
    """Decide the blessing: the checks asked for, the defaults, the degenerate check."""
    import dataclasses

    from shipyard.components.evaluate.blessing import (
        decide_blessing,
        default_max_regression,
        degenerate_reason,
    )

    task = str(overall["task"])
    if max_regression is None:  # the default: the primary metric, where it is defined
        max_regression = {
            metric: limit
            for metric, limit in default_max_regression(task).items()
            if overall["metrics"].get(metric) is not None
        }
    decision = decide_blessing(
        overall["metrics"],
        thresholds=thresholds,
        max_regression=max_regression,
        baseline=baseline_metrics,
        baseline_id=baseline_id,
        undefined=overall.get("undefined"),
        degenerate=degenerate_reason(
            labels,
            predictions,
            task=task,
            class_labels=class_labels,
            positive_class_id=_class_id(class_labels, overall.get("positive_class")),
        ),
        allow_degenerate=allow_degenerate,
    )
    return dataclasses.replace(decision, notes=(*decision.notes, *notes)) if notes else decision


def _class_id(class_labels: list[Any] | None, name: Any) -> int | None:
    """The id of the class called `name` (the positive class), None if there is none."""
    names = [str(label) for label in class_labels or []]
    return names.index(str(name)) if name is not None and str(name) in names else None


def _describe(model: Model) -> dict[str, Any]:
    """Name a model for the report: its store path and id, its estimator and label."""
    card = model.card() if (model.path / model.CARD_FILENAME).is_file() else {}
    return {
        "id": model.id,
        "name": model.name or card.get("name") or model.uri,
        "uri": model.uri,
        "estimator": card.get("estimator"),
        "label": card.get("label"),
    }


def _labels(
    column: Any, task: str, signature: dict[str, Any]
) -> tuple[NDArray[Any], NDArray[np.bool_], dict[str, int]]:
    """Return the labels (class ids or numbers), the rows to keep and the excluded counts."""
    import numpy as np

    values = column.to_pylist()
    missing = np.array([_is_missing(v) for v in values], dtype=bool)
    if task == "regression":
        numbers = np.array(
            [np.nan if m else float(v) for v, m in zip(values, missing, strict=True)]
        )
        return numbers, ~missing, {"missing_label": int(missing.sum()), "unseen_label": 0}
    ids, unseen = _class_ids(values, missing, signature.get("label_vocabulary") or [])
    keep = ~missing & ~unseen
    counts = {"missing_label": int(missing.sum()), "unseen_label": int(unseen.sum())}
    return ids, keep, counts


def _class_ids(
    values: list[Any], missing: NDArray[np.bool_], vocabulary: list[Any]
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    import numpy as np

    from shipyard.components.labels import class_name

    index = {class_name(v): i for i, v in enumerate(vocabulary)}
    ids = np.zeros(len(values), dtype=np.int64)
    unseen = np.zeros(len(values), dtype=bool)
    for row, (value, absent) in enumerate(zip(values, missing, strict=True)):
        if absent:
            continue
        class_id = index.get(class_name(value))
        if class_id is None:
            unseen[row] = True
        else:
            ids[row] = class_id
    return ids, unseen


def _is_missing(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def _outputs(model: Model, rows: pa.Table, task: str) -> dict[str, Any]:
    """Run the model; return `predictions` and `probabilities` for `compute_metrics`."""
    import numpy as np

    out = model.predict(rows)
    if task == "regression":
        return {"predictions": np.asarray(out["predictions"], dtype=np.float64).reshape(-1)}
    probabilities = np.asarray(out["probabilities"], dtype=np.float64)
    return {
        "predictions": np.asarray(out["class_ids"]).reshape(-1),
        "probabilities": probabilities.reshape(probabilities.shape[0], -1),
    }


def _baseline_metrics(
    baseline: Model,
    rows: pa.Table,
    raw_labels: Any,
    keep: NDArray[np.bool_],
    candidate: dict[str, Any],
) -> tuple[dict[str, float | None] | None, str | None]:
    """Evaluate the baseline on the candidate's rows; a note when it must drop some.

    A baseline that learnt another label or task, or that knows none of the rows' classes,
    is not compared: its metrics are None, and the note says why.
    """
    from shipyard.components.evaluate.metrics import compute_metrics

    signature = baseline.signature()
    task = cast("Task", signature["task"])
    theirs = (signature.get("label"), task)
    ours = (candidate.get("label"), candidate.get("task"))
    if theirs != ours:
        return None, (
            f"The baseline (artifact {baseline.id}) predicts {theirs[0]!r} as {theirs[1]}, "
            f"this model {ours[0]!r} as {ours[1]}: they were not compared."
        )
    labels, baseline_keep, excluded = _labels(raw_labels.filter(keep), task, signature)
    if not baseline_keep.any():
        return None, (
            f"The baseline (artifact {baseline.id}) knows none of the eval rows' classes: "
            "they were not compared."
        )
    note = None
    if not baseline_keep.all():
        note = (
            f"The baseline never saw the class of {excluded['unseen_label']} row(s); it was "
            "evaluated without them."
        )
        rows = rows.filter(baseline_keep)
        labels = labels[baseline_keep]
    outputs = _outputs(baseline, rows, task)
    result = compute_metrics(
        labels,
        **outputs,
        task=task,
        class_labels=signature.get("label_vocabulary"),
        positive_class=signature.get("positive_class") if task == "binary" else None,
    )
    return dict(result["metrics"]), note
