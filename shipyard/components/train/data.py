"""Read the transformed examples as tensors: the features the network reads and the label."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from shipyard.components.train.estimators import FeatureSpec
from shipyard.errors import DataError, InvalidParameterError

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa
    import torch

    from shipyard.components.transform.fitted import FittedTransform

Task = Literal["binary", "multiclass", "regression"]


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
    """

    features: list[FeatureSpec]
    label: str
    task: Task
    classes: list[str]
    label_mean: float = 0.0
    label_std: float = 1.0

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
    task: Literal["auto", "binary", "multiclass", "regression"],
) -> Problem:
    """Work out the features, the label and the task from the fitted transform.

    Raises:
        InvalidParameterError: The label is unknown or does not fit `task`.
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
    kind = fitted.nodes[fitted.outputs[target]].kind
    resolved: Task
    if task == "auto":
        if kind == "id":
            classes = _classes(fitted, train, target)
            resolved = "binary" if len(classes) == 2 else "multiclass"
        else:
            resolved = "regression"
    else:
        resolved = task
    if resolved == "regression":
        values = np.asarray(train.column(target).to_numpy(zero_copy_only=False), dtype=np.float64)
        values = values[np.isfinite(values)]
        if not values.size:
            raise DataError("the label has no finite value in the train split.", column=target)
        mean, std = float(values.mean()), float(values.std())
        return Problem(features, target, "regression", [], mean, std if std > 0 else 1.0)
    if kind != "id":
        raise InvalidParameterError(
            f"train(task={task!r}) needs a class id label, but {target!r} is a float; map "
            f"it with vocabulary() in the transform, or use task='regression'."
        )
    classes = _classes(fitted, train, target)
    present = np.unique(_ids(train, target))
    if len(classes) < 2 or present.size < 2:
        raise DataError(
            f"the label has a single class ({classes[int(present[0])] if present.size else '?'})"
            f" in the train split; a classifier needs at least two.",
            column=target,
        )
    if resolved == "binary" and len(classes) != 2:
        raise InvalidParameterError(
            f"train(task='binary'): the label {target!r} has {len(classes)} classes; "
            f"use task='multiclass' or 'auto'."
        )
    return Problem(features, target, resolved, classes)


def _ids(table: pa.Table, name: str) -> np.ndarray:
    import numpy as np

    return np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=np.int64)


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
        values = table.column(feature.name).to_numpy(zero_copy_only=False)
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
        label = np.asarray(table.column(problem.label).to_numpy(zero_copy_only=False), np.float32)
        keep = np.isfinite(label)
    else:
        label = np.asarray(table.column(problem.label).to_numpy(zero_copy_only=False), np.int64)
        keep = (label >= 0) & (label < len(problem.classes))
    if not keep.all():
        columns = [c[keep] for c in columns]
        label = label[keep]
    return Split(
        tuple(torch.from_numpy(np.array(c).reshape(-1, 1)) for c in columns),
        torch.from_numpy(np.array(label)),
    )
