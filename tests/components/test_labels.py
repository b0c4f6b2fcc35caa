"""The label rules: which task a label means and which class is positive."""

from __future__ import annotations

import numpy as np
import pytest

from shipyard.components.labels import (
    MAX_CLASS_CODES,
    class_name,
    class_task,
    closest_class,
    numeric_task,
    positive_class,
)
from shipyard.errors import InvalidParameterError


@pytest.mark.parametrize(
    ("values", "task"),
    [
        ([0, 1, 1, 0], "binary"),
        ([36, 60, 60], "binary"),
        ([0.5, 1.5], "binary"),  # any two distinct numbers
        ([1, 2, 3, 2, 1], "multiclass"),
        (list(range(MAX_CLASS_CODES)), "multiclass"),
        (list(range(MAX_CLASS_CODES + 1)), "regression"),
        ([1.5, 2.5, 3.25], "regression"),
        ([354.94, 123.46, 80.0, 12.0], "regression"),
    ],
)
def test_numeric_task_rule(values: list[float], task: str) -> None:
    decided = numeric_task(np.asarray(values, dtype=np.float64), label="y")
    assert decided.task == task
    assert decided.reason.startswith("inferred: 'y' holds")


def test_numeric_task_ignores_missing_values_and_names_the_values() -> None:
    decided = numeric_task(np.array([0.0, np.nan, 1.0, np.nan]), label="tips")
    assert decided.task == "binary"
    assert decided.reason == "inferred: 'tips' holds 2 distinct values (0, 1)"


def test_class_task_counts_classes() -> None:
    assert class_task(["no", "yes"], label="tip").task == "binary"
    three = class_task(["Adelie", "Gentoo", "Chinstrap"], label="species")
    assert three.task == "multiclass" and "3 classes (Adelie, Gentoo, Chinstrap)" in three.reason


@pytest.mark.parametrize(
    ("value", "name"),
    [(True, "1"), (False, "0"), (1, "1"), (1.0, "1"), (36.0, "36"), (2.5, "2.5"), ("Yes", "Yes")],
)
def test_class_name_reads_like_the_data(value: object, name: str) -> None:
    assert class_name(value) == name
    assert class_name(np.float32(0.1)) == "0.1" == class_name(0.1)


@pytest.mark.parametrize(
    ("classes", "positive", "reason"),
    [
        (["no", "yes"], "yes", "reads as positive"),
        (["yes", "no"], "yes", "reads as positive"),  # frequency order does not matter
        (["No", "Yes"], "Yes", "reads as positive"),
        (["0", "1"], "1", "reads as positive"),
        (["1", "0"], "1", "reads as positive"),
        (["False", "True"], "True", "reads as positive"),
        (["N", "Y"], "Y", "reads as positive"),
        (["no", "maybe"], "maybe", "the other class, 'no', reads as negative"),
        (["60", "36"], "60", "the larger of the two values"),
        (["-2", "-10"], "-2", "the larger of the two values"),
        (["<=50K", ">50K"], ">50K", "alphabetical"),
        (["Gentoo", "Adelie"], "Gentoo", "alphabetical"),
    ],
)
def test_positive_class_rule(classes: list[str], positive: str, reason: str) -> None:
    chosen = positive_class(classes)
    assert chosen.name == positive
    assert classes[chosen.index] == positive
    assert reason in chosen.reason
    assert positive_class(classes[::-1]).name == positive  # never depends on the order


def test_positive_class_named_by_the_user() -> None:
    assert positive_class(["no", "yes"], "no").index == 0
    assert positive_class(["No", "Yes"], "no").name == "No"  # case-insensitive
    assert positive_class(["0", "1"], "0.0").name == "0"  # a number as the data writes it
    chosen = positive_class(["36", "60"], "36", parameter="--positive-class")
    assert chosen.reason == "named by --positive-class"


def test_unknown_positive_class_names_the_classes_and_the_close_match() -> None:
    with pytest.raises(InvalidParameterError) as error:
        positive_class(["No", "Yes"], "Yess", who="shipyard train", parameter="--positive-class")
    message = str(error.value)
    assert "The '--positive-class' parameter of shipyard train" in message
    assert "('No', 'Yes')" in message and "Got 'Yess' instead" in message
    assert "Did you mean 'Yes'?" in message
    assert closest_class("zzz", ["No", "Yes"]) is None
