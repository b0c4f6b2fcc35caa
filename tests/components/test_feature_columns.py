"""Choosing the columns a model reads, and the errors for names the data lacks."""

from __future__ import annotations

import pytest

from shipyard.components.feature_columns import (
    select_columns,
    unknown_columns,
    unknown_columns_error,
)
from shipyard.errors import InvalidParameterError

COLUMNS = ["tip", "distance", "company", "tip_amount", "Fare"]


def test_unknown_columns_have_close_matches() -> None:
    unknown = unknown_columns(
        {"--label": ["tipz"], "--exclude": ["tip_amount", "fare", "zzz"]}, COLUMNS
    )
    assert [(u.option, u.name, u.close[:1]) for u in unknown] == [
        ("--label", "tipz", ("tip",)),
        ("--exclude", "fare", ("Fare",)),  # only the case differs
        ("--exclude", "zzz", ()),
    ]
    message = str(unknown_columns_error(unknown, COLUMNS, who="shipyard train", where="t.csv"))
    assert message.startswith("shipyard train: --label 'tipz' (did you mean 'tip'?); ")
    assert "--exclude 'zzz' (no close match) are not columns of t.csv" in message
    assert "The columns are: tip, distance, company, tip_amount, Fare." in message


def test_select_columns_keeps_the_label_and_data_order() -> None:
    assert select_columns(COLUMNS, label="tip", exclude=["tip_amount"]) == [
        "tip",
        "distance",
        "company",
        "Fare",
    ]
    assert select_columns(COLUMNS, label="tip", features=["Fare", "company"]) == [
        "tip",
        "company",
        "Fare",
    ]
    both = select_columns(COLUMNS, label="tip", features=["Fare", "company"], exclude=["Fare"])
    assert both == ["tip", "company"]
    assert select_columns(COLUMNS, label=None) == COLUMNS


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"features": ["tip", "distance"]}, "features names the label 'tip'"),
        ({"exclude": ["tip"]}, "exclude names the label 'tip'"),
        ({"features": ["distance"], "exclude": ["distance"]}, "no feature is left"),
        ({"exclude": ["distance", "company", "tip_amount", "Fare"]}, "no feature is left"),
        ({"features": ["distanse"]}, "features 'distanse' (did you mean 'distance'?)"),
    ],
)
def test_select_columns_errors(options: dict[str, list[str]], message: str) -> None:
    with pytest.raises(InvalidParameterError, match=r"^transform: ") as error:
        select_columns(COLUMNS, label="tip", **options)  # type: ignore[arg-type]
    assert message in str(error.value)


def test_a_wrong_label_is_named_with_its_close_match() -> None:
    with pytest.raises(InvalidParameterError, match=r"label 'Tip' \(did you mean 'tip'\?\)"):
        select_columns(COLUMNS, label="Tip")
    with pytest.raises(InvalidParameterError, match="--features names the label"):
        select_columns(COLUMNS, label="tip", features=["tip"], flags=True)
