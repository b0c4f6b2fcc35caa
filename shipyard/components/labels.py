"""What a label means: its task, its classes and, for a binary task, its positive class.

The rules, documented once here and stated in every output that depends on them
(`shipyard train`, `--json`, the model card, the evaluation):

**Task.** A string label is classification: binary with two classes, multi-class with more.
A numeric (or boolean) label is classification when the train split holds exactly two
distinct values (0/1, 36/60, true/false), or only integers with at most
`MAX_CLASS_CODES` distinct values (small sets of codes such as 1, 2, 3); every other numeric
label is regression. `train(task=...)` (`shipyard train --task`) overrides the rule:
`classification` (binary or multi-class by the number of classes), `binary`, `multiclass`
or `regression`.

**Classes.** Numeric classes are named as they read in the data: `0`, `1`, `36`, `2.5`; a
boolean reads as `0` / `1`.

**Positive class** (binary only; the class that precision, recall, F1, AUC and the PR curve
are computed for). The first rule that applies, never the class frequencies:

1. the class the user named (`positive_class=`, `--positive-class`);
2. the one class whose name reads as positive: `1`, `true`, `t`, `yes`, `y`, `positive`,
   `pos` (case-insensitive);
3. the other class, when exactly one reads as negative: `0`, `false`, `f`, `no`, `n`,
   `negative`, `neg`, `-1`;
4. for two numbers, the larger;
5. otherwise the later of the two names in alphabetical order.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from shipyard.errors import InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np
    from numpy.typing import NDArray

Task = Literal["binary", "multiclass", "regression"]
TaskChoice = Literal["auto", "classification", "binary", "multiclass", "regression"]
TASK_CHOICES: tuple[TaskChoice, ...] = (
    "auto",
    "classification",
    "binary",
    "multiclass",
    "regression",
)

MAX_CLASS_CODES = 10
"""The most distinct integer values a numeric label may hold to count as class codes."""
MAX_CLASSES = 1000
"""The most classes a numeric label may have when classification is asked for."""
POSITIVE_NAMES = frozenset({"1", "true", "t", "yes", "y", "positive", "pos"})
NEGATIVE_NAMES = frozenset({"0", "false", "f", "no", "n", "negative", "neg", "-1"})


@dataclass(frozen=True)
class LabelTask:
    """The task a label is learnt as, and why.

    Attributes:
        task: `binary`, `multiclass` or `regression`.
        reason: The rule that decided it, in words: `"inferred: 2 distinct values (0, 1)"`.
    """

    task: Task
    reason: str


@dataclass(frozen=True)
class PositiveClass:
    """The class binary metrics are computed for.

    Attributes:
        index: Its class id.
        name: Its name (a class label).
        reason: The rule that chose it, in words.
    """

    index: int
    name: str
    reason: str


def class_name(value: Any) -> str:
    """Name a raw label value as a class: `"Adelie"`; `1`, `1.0` and `True` as `"1"`.

    Example:
        >>> class_name(36.0), class_name(False), class_name(2.5)
        ('36', '0', '2.5')
    """
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        import numpy as np

        return str(np.float32(value))  # the precision a transformed label has
    if hasattr(value, "item"):  # a NumPy scalar
        return class_name(value.item())
    return str(value)


def numeric_task(values: NDArray[np.floating[Any]], *, label: str) -> LabelTask:
    """Apply the task rule to a numeric label's train values (NaN is ignored).

    Example:
        >>> numeric_task(np.array([0.0, 1.0, 1.0]), label="tip").task
        'binary'
    """
    import numpy as np

    distinct = np.unique(values[np.isfinite(values)])
    shown = _some(class_name(v) for v in distinct)
    if distinct.size == 2:
        return LabelTask("binary", f"inferred: {label!r} holds 2 distinct values ({shown})")
    integers = bool(np.all(distinct == np.round(distinct)))
    if integers and 2 < distinct.size <= MAX_CLASS_CODES:
        return LabelTask(
            "multiclass",
            f"inferred: {label!r} holds {distinct.size} integer codes ({shown}), at most "
            f"{MAX_CLASS_CODES}",
        )
    kind = "integer" if integers else "distinct"
    return LabelTask(
        "regression",
        f"inferred: {label!r} holds {distinct.size:,} {kind} values, not 2 nor a small set "
        f"of integer codes",
    )


def class_task(classes: Sequence[str], *, label: str) -> LabelTask:
    """The task of a label that maps to class ids (strings): binary or multi-class."""
    task: Task = "binary" if len(classes) == 2 else "multiclass"
    return LabelTask(task, f"inferred: {label!r} holds {len(classes)} classes ({_some(classes)})")


def positive_class(
    classes: Sequence[str],
    requested: str | None = None,
    *,
    who: str = "train",
    parameter: str = "positive_class",
) -> PositiveClass:
    """Choose the positive class of a binary label by the documented rule.

    Args:
        classes: The two class names, by id.
        requested: The class the user named, if any (`"yes"`, `"1"`, `"1.0"`).
        who: The component or command, for the error message.
        parameter: The parameter or flag that named `requested`, for the error message.

    Raises:
        InvalidParameterError: `requested` is not one of the classes (close matches named).

    Example:
        >>> positive_class(["yes", "no"]).name
        'yes'
    """
    names = [str(c) for c in classes]
    if requested is not None:
        return _requested(names, requested, who, parameter)
    folded = [name.strip().lower() for name in names]
    positive = [i for i, name in enumerate(folded) if name in POSITIVE_NAMES]
    if len(positive) == 1:
        index = positive[0]
        return PositiveClass(index, names[index], f"{names[index]!r} reads as positive")
    negative = [i for i, name in enumerate(folded) if name in NEGATIVE_NAMES]
    if len(negative) == 1:
        index = 1 - negative[0]
        return PositiveClass(
            index, names[index], f"the other class, {names[negative[0]]!r}, reads as negative"
        )
    numbers = [_number(name) for name in names]
    if all(n is not None for n in numbers):
        index = int(numbers[1] > numbers[0])  # type: ignore[operator]
        return PositiveClass(index, names[index], "the larger of the two values")
    index = int(names[1] > names[0])
    return PositiveClass(index, names[index], "the later of the two names in alphabetical order")


def _requested(names: list[str], requested: str, who: str, parameter: str) -> PositiveClass:
    number = _number(requested)
    wanted = class_name(number) if number is not None else requested.strip()
    folded = [name.lower() for name in names]
    if wanted in names or wanted.lower() in folded:
        index = names.index(wanted) if wanted in names else folded.index(wanted.lower())
        return PositiveClass(index, names[index], f"named by {parameter}")
    close = closest_class(requested, names)
    raise InvalidParameterError(
        f"The {parameter!r} parameter of {who} must be one of the label's classes "
        f"({', '.join(map(repr, names))}). Got {requested!r} instead."
        + (f" Did you mean {close!r}?" if close else "")
    )


def closest_class(name: str, classes: Sequence[str]) -> str | None:
    """Return the class closest to a mistyped name, or None when none is close.

    Example:
        >>> closest_class("yess", ["no", "yes"])
        'yes'
    """
    close = difflib.get_close_matches(name, list(classes), n=1, cutoff=0.5)
    return close[0] if close else None


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _some(values: Any, most: int = 5) -> str:
    items = [str(v) for v in values]
    shown = ", ".join(items[:most])
    return shown + (f", … ({len(items) - most} more)" if len(items) > most else "")
