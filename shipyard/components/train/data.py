"""Read the transformed examples as tensors: the features the network reads and the label."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from shipyard.components.labels import (
    MAX_CLASSES,
    TASK_CHOICES,
    LabelTask,
    PositiveClass,
    Task,
    TaskChoice,
    class_name,
    class_task,
    numeric_task,
)
from shipyard.components.labels import positive_class as choose_positive
from shipyard.components.train.estimators import FeatureSpec
from shipyard.errors import DataError, InvalidParameterError

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa
    import torch

    from shipyard.components.transform.fitted import FittedTransform


@dataclass(frozen=True)
class Problem:
    """What is learnt: the features, the label and the task.

    Attributes:
        features: The transformed features the network reads, in input order.
        label: The label's output name in the transformed examples.
        task: `binary`, `multiclass` or `regression`.
        classes: The class names by id (classification); empty for regression.
        label_mean: The label's train mean (regression; predictions are standardized).
        label_std: The label's train standard deviation (regression).
        task_reason: Why this task: the rule that inferred it, or the parameter that named it.
        class_values: The numbers the classes stand for, by id, when a numeric label is
            learnt as classification (the transformed label holds these numbers); empty
            when the transform maps the label to class ids itself.
        positive_class: The class binary metrics are computed for (binary only).
    """

    features: list[FeatureSpec]
    label: str
    task: Task
    classes: list[str]
    label_mean: float = 0.0
    label_std: float = 1.0
    task_reason: str = ""
    class_values: tuple[float, ...] = ()
    positive_class: PositiveClass | None = None

    @property
    def outputs(self) -> int:
        """The number of scores the network returns per row."""
        return 1 if self.task == "regression" else len(self.classes)


@dataclass(frozen=True)
class Split:
    """One split as tensors: one `[N, 1]` tensor per feature and the label `[N]`."""

    features: tuple[torch.Tensor, ...]
    label: torch.Tensor

    @property
    def rows(self) -> int:
        return int(self.label.shape[0])


def label_output(fitted: FittedTransform, label: str | None) -> str:
    """Return the transform output holding the label.

    Raises:
        InvalidParameterError: No label is known, or `label` is not an output.
    """
    if label is not None:
        if label not in fitted.outputs:
            raise InvalidParameterError(
                f"train(label={label!r}): the transform has no such output; its outputs are "
                f"{', '.join(sorted(fitted.outputs))}."
            )
        return label
    serving = set(fitted.serving_outputs())
    candidates = sorted(name for name in fitted.outputs if name not in serving)
    if len(candidates) != 1:
        raise InvalidParameterError(
            "train needs a label: the transform recorded "
            + (f"several label outputs ({', '.join(candidates)})" if candidates else "none")
            + "; pass label= to transform (or to infer_schema), or label= to train."
        )
    return candidates[0]


def describe_problem(
    fitted: FittedTransform,
    train: pa.Table,
    *,
    label: str | None,
    task: TaskChoice,
    positive_class: str | None = None,
) -> Problem:
    """Work out the features, the label, the task and the positive class.

    The task and the positive class follow the rules of `shipyard.components.labels`: a
    numeric label with two distinct values, or a few integer codes, is a classification
    label (its classes are its values, in increasing order); `task` overrides the rule.

    Raises:
        InvalidParameterError: The label is unknown or does not fit `task`, or
            `positive_class` is not one of the classes.
        DataError: A classification label has a single class.
    """
    import numpy as np

    target = label_output(fitted, label)
    features = []
    for name in fitted.serving_outputs():
        if name == target or name not in train.column_names:
            continue
        node = fitted.nodes[fitted.outputs[name]]
        if node.kind == "id":
            size = int(node.fitted.get("size", 0)) or int(np.max(_ids(train, name), initial=0)) + 1
            features.append(FeatureSpec(name, "id", size))
        else:
            features.append(FeatureSpec(name, "float"))
    if not features:
        raise DataError(f"the transform has no feature besides the label {target!r}.")
    ids = fitted.nodes[fitted.outputs[target]].kind == "id"
    values = None if ids else _numbers(train, target)
    chosen = _choose_task(
        class_task(_classes(fitted, train, target), label=target)
        if values is None
        else numeric_task(values, label=target),
        task,
        target,
    )
    if positive_class is not None and chosen.task != "binary":
        raise InvalidParameterError(
            f"train(positive_class={positive_class!r}) applies to a binary task, but the "
            f"label {target!r} is learnt as {chosen.task} ({chosen.reason}); leave "
            f"positive_class out, or use task='binary'."
        )
    if chosen.task == "regression":
        if values is None:
            raise InvalidParameterError(
                f"train(task='regression'): the label {target!r} holds class names "
                f"({', '.join(_classes(fitted, train, target)[:5])}), not numbers; use "
                f"task='auto' or 'classification', or pass a numeric label through the "
                f"transform."
            )
        finite = values[np.isfinite(values)]
        if not finite.size:
            raise DataError("the label has no finite value in the train split.", column=target)
        mean, std = float(finite.mean()), float(finite.std())
        return Problem(
            features, target, "regression", [], mean, std if std > 0 else 1.0, chosen.reason
        )
    class_values: tuple[float, ...] = ()
    if values is None:
        classes = _classes(fitted, train, target)
        present = np.unique(_ids(train, target))
    else:
        class_values = tuple(float(v) for v in np.unique(values[np.isfinite(values)]))
        if len(class_values) > MAX_CLASSES:
            raise InvalidParameterError(
                f"train(task={task!r}): the label {target!r} holds {len(class_values):,} "
                f"distinct numbers, more than {MAX_CLASSES:,} classes; use task='regression'."
            )
        classes = [class_name(v) for v in class_values]
        present = np.arange(len(classes))
    if len(classes) < 2 or present.size < 2:
        raise DataError(
            f"the label has a single class ({classes[int(present[0])] if present.size else '?'})"
            f" in the train split; a classifier needs at least two.",
            column=target,
        )
    if chosen.task == "binary" and len(classes) != 2:
        raise InvalidParameterError(
            f"train(task='binary'): the label {target!r} has {len(classes)} classes; "
            f"use task='multiclass' or 'auto'."
        )
    return Problem(
        features,
        target,
        chosen.task,
        classes,
        task_reason=chosen.reason,
        class_values=class_values,
        positive_class=(
            choose_positive(classes, positive_class) if chosen.task == "binary" else None
        ),
    )


def _choose_task(inferred: LabelTask, task: TaskChoice, label: str) -> LabelTask:
    """Apply the user's `task` to what the rule inferred."""
    if task not in TASK_CHOICES:
        raise InvalidParameterError(
            f"The 'task' parameter of train must be one of "
            f"{', '.join(map(repr, TASK_CHOICES))}. Got {task!r} instead."
        )
    if task == "auto":
        return inferred
    named = f"named by task={task!r}"
    if task != "classification":
        return LabelTask(task, named)
    if inferred.task != "regression":
        return LabelTask(inferred.task, named)
    return LabelTask("multiclass", named)  # numbers the rule took for a measurement


def _numbers(table: pa.Table, name: str) -> np.ndarray:
    import numpy as np

    return np.asarray(column_numpy(table.column(name)), dtype=np.float64)


def _ids(table: pa.Table, name: str) -> np.ndarray:
    import numpy as np

    return np.asarray(column_numpy(table.column(name)), dtype=np.int64)


def _classes(fitted: FittedTransform, train: pa.Table, target: str) -> list[str]:
    import numpy as np

    if fitted.label_vocabulary is not None and target == fitted.label:
        return [str(c) for c in fitted.label_vocabulary]
    count = int(np.max(_ids(train, target), initial=0)) + 1
    return [str(i) for i in range(count)]


def to_tensors(problem: Problem, table: pa.Table, *, split: str) -> Split:
    """Convert one transformed split into tensors; drop rows whose class id is unknown.

    Raises:
        DataError: A float feature holds NaN or infinity, or a column is missing.
    """
    import numpy as np
    import torch

    columns = []
    for feature in problem.features:
        if feature.name not in table.column_names:
            raise DataError(
                f"the {split} split lacks the feature {feature.name!r}.", column=feature.name
            )
        values = column_numpy(table.column(feature.name))
        if feature.kind == "float":
            array = np.asarray(values, dtype=np.float32)
            bad = np.flatnonzero(~np.isfinite(array))
            if bad.size:
                raise DataError(
                    f"the transformed feature holds {array[bad[0]]} in {bad.size} row(s) of "
                    f"the {split} split; impute missing values (impute()) and avoid log of "
                    f"negative numbers in the preprocessing function.",
                    row=int(bad[0]),
                    column=feature.name,
                )
            columns.append(array)
        else:
            columns.append(np.asarray(values, dtype=np.int64))
    if problem.task == "regression":
        label = np.asarray(column_numpy(table.column(problem.label)), np.float32)
        keep = np.isfinite(label)
    else:
        label = _class_ids(problem, column_numpy(table.column(problem.label)))
        keep = (label >= 0) & (label < len(problem.classes))
    if not keep.all():
        columns = [c[keep] for c in columns]
        label = label[keep]
    return Split(
        tuple(torch.from_numpy(np.array(c).reshape(-1, 1)) for c in columns),
        torch.from_numpy(np.array(label)),
    )


def column_numpy(column: pa.ChunkedArray) -> np.ndarray:
    """The column's values as numpy: `to_numpy(zero_copy_only=False)`'s result.

    A numeric column without nulls is read from its Arrow buffers
    (`shipyard.artifacts.arrays`): pyarrow's own conversion imports pandas on first use
    (0.2-0.3 s of CPU), which the training's worker process would otherwise pay on the
    run's critical path (docs/benchmarks/cold11.md).
    """
    import numpy as np
    import pyarrow as pa

    from shipyard.artifacts.arrays import to_numpy

    kind = column.type
    if column.null_count or not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
        return np.asarray(column.to_numpy(zero_copy_only=False))
    letter = "f" if pa.types.is_floating(kind) else "i" if pa.types.is_signed_integer(kind) else "u"
    dtype = f"{letter}{kind.bit_width // 8}"
    parts = [to_numpy(chunk, dtype, null=0) for chunk in column.chunks]
    if not parts:
        return np.empty(0, dtype=dtype)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _class_ids(problem: Problem, values: np.ndarray) -> np.ndarray:
    """The label's class ids; -1 for a number that is none of `problem.class_values`."""
    import numpy as np

    if not problem.class_values:
        return np.asarray(values, dtype=np.int64)
    numbers = np.asarray(values, dtype=np.float64)
    known = np.asarray(problem.class_values, dtype=np.float64)
    index = np.clip(np.searchsorted(known, numbers), 0, len(known) - 1)
    return np.where(known[index] == numbers, index, -1).astype(np.int64)
