"""The task and positive class train infers from the label, and the overrides."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from shipyard.components.train.data import describe_problem, to_tensors
from shipyard.components.transform import scale_to_z_score, vocabulary
from shipyard.components.transform.apply import apply
from shipyard.components.transform.fit import build_outputs, fit
from shipyard.components.transform.fitted import FittedTransform
from shipyard.errors import DataError, InvalidParameterError


def fitted_on(labels: list[Any]) -> tuple[FittedTransform, pa.Table]:
    """Fit a transform passing a numeric label through (mapping a string one to ids)."""
    rows = len(labels)
    table = pa.table({"x": np.linspace(0, 1, rows), "target": labels})
    string = pa.types.is_string(table.schema.field("target").type)

    def preprocessing(columns: Any) -> dict[str, Any]:
        target = columns["target"]
        return {
            "x": scale_to_z_score(columns["x"]),
            "target": vocabulary(target) if string else target,
        }

    fitted = fit(build_outputs(preprocessing, table, where="test"), table, label="target")
    return fitted, apply(fitted, table)


def test_two_numbers_are_a_binary_task_with_the_larger_positive() -> None:
    fitted, table = fitted_on([60, 36, 36, 60, 36, None])
    problem = describe_problem(fitted, table, label=None, task="auto")
    assert problem.task == "binary"
    assert problem.classes == ["36", "60"] and problem.class_values == (36.0, 60.0)
    assert problem.positive_class is not None and problem.positive_class.name == "60"
    assert problem.task_reason == "inferred: 'target' holds 2 distinct values (36, 60)"
    split = to_tensors(problem, table, split="train")
    assert split.label.tolist() == [1, 0, 0, 1, 0]  # the missing label is left out
    assert split.features[0].shape == (5, 1)


def test_booleans_and_zero_one_labels_have_one_as_the_positive_class() -> None:
    for labels in ([True, False, True, False], [0, 1, 1, 0]):
        fitted, table = fitted_on(labels)  # type: ignore[arg-type]
        problem = describe_problem(fitted, table, label=None, task="auto")
        assert problem.task == "binary" and problem.classes == ["0", "1"]
        assert problem.positive_class is not None and problem.positive_class.index == 1


def test_small_integer_codes_are_classes_and_measurements_are_regression() -> None:
    fitted, table = fitted_on([1, 2, 3, 2, 1, 3])
    codes = describe_problem(fitted, table, label=None, task="auto")
    assert codes.task == "multiclass" and codes.classes == ["1", "2", "3"]
    assert codes.positive_class is None
    assert to_tensors(codes, table, split="train").label.tolist() == [0, 1, 2, 1, 0, 2]
    fitted, table = fitted_on([354.94, 123.46, 80.0, 12.5])
    wages = describe_problem(fitted, table, label=None, task="auto")
    assert wages.task == "regression" and "4 distinct values" in wages.task_reason


def test_task_overrides_the_rule() -> None:
    fitted, table = fitted_on([0, 1, 1, 0])
    problem = describe_problem(fitted, table, label=None, task="regression")
    assert problem.task == "regression" and problem.task_reason == "named by task='regression'"
    fitted, table = fitted_on([1.5, 2.5, 3.25, 1.5])
    problem = describe_problem(fitted, table, label=None, task="classification")
    assert problem.task == "multiclass" and problem.classes == ["1.5", "2.5", "3.25"]
    fitted, table = fitted_on(["no", "yes", "yes"])
    problem = describe_problem(fitted, table, label=None, task="classification")
    assert problem.task == "binary" and problem.classes == ["yes", "no"]  # by frequency
    assert problem.positive_class is not None and problem.positive_class.name == "yes"


def test_positive_class_is_checked_against_the_classes() -> None:
    fitted, table = fitted_on(["no", "yes", "yes"])
    chosen = describe_problem(fitted, table, label=None, task="auto", positive_class="no")
    assert chosen.positive_class is not None and chosen.positive_class.index == 1
    with pytest.raises(InvalidParameterError, match="Did you mean 'yes'"):
        describe_problem(fitted, table, label=None, task="auto", positive_class="yse")
    fitted, table = fitted_on(["a", "b", "c"])
    with pytest.raises(InvalidParameterError, match=r"applies to a binary task.*multiclass"):
        describe_problem(fitted, table, label=None, task="auto", positive_class="a")


def test_labels_that_cannot_fit_the_task_are_refused() -> None:
    fitted, table = fitted_on(["no", "yes", "yes"])
    with pytest.raises(InvalidParameterError, match=r"holds class names.*not numbers"):
        describe_problem(fitted, table, label=None, task="regression")
    fitted, table = fitted_on([1, 2, 3])
    with pytest.raises(InvalidParameterError, match=r"task='binary'.*3 classes"):
        describe_problem(fitted, table, label=None, task="binary")
    fitted, table = fitted_on([4.0, 4.0, 4.0])
    with pytest.raises(DataError, match="single class"):
        describe_problem(fitted, table, label=None, task="classification")
    with pytest.raises(InvalidParameterError, match="'task' parameter of train must be one of"):
        describe_problem(fitted, table, label=None, task="ranking")  # type: ignore[arg-type]
