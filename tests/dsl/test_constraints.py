"""Limits and conditions declared once on a parameter, checked when the pipeline is built."""

from __future__ import annotations

from typing import Annotated, Literal

import pytest

from shipyard import Out, Pipeline, component
from shipyard.artifacts import Examples, Metrics
from shipyard.dsl.constraints import (
    NOT_NONE,
    AppliesTo,
    Bounds,
    Ge,
    Gt,
    Interval,
    Len,
    MinLen,
    describe_limits,
    satisfies,
)
from shipyard.dsl.parameters import describe, matches
from shipyard.errors import DefinitionError


@component
def fit(
    examples: Examples,
    metrics: Out[Metrics],
    *,
    kind: Literal["net", "trees"] = "net",
    epochs: Annotated[int, Ge(1), AppliesTo(kind="net")] = 10,
    dropout: Annotated[float, Interval(ge=0, lt=1), AppliesTo(kind="net")] = 0.0,
    rate: Annotated[float, Gt(0)] | None = None,
    layers: tuple[Annotated[int, Ge(1)], ...] = (8,),
    num_trees: Annotated[int, Ge(1), AppliesTo(kind="trees")] = 100,
    script: str | None = None,
    entry: Annotated[str, AppliesTo(script=NOT_NONE)] = "main",
) -> None: ...


@component
def source(examples: Out[Examples]) -> None: ...


def build(**parameters: object) -> Pipeline:
    return Pipeline("p", nodes=[fit(examples=source().outputs.examples, **parameters)])


def test_limits_are_described_and_checked() -> None:
    assert describe(Annotated[int, Ge(1)]) == "an int >= 1"
    assert describe(Annotated[float, Interval(ge=0, lt=1)]) == "a float in [0, 1)"
    assert describe(Annotated[float, Gt(0)] | None) == "a float > 0 or None"
    assert describe_limits([Len(1, 3)]) == "with at least 1 item(s) with at most 3 item(s)"
    assert matches(Annotated[int, Ge(1)], 1) and not matches(Annotated[int, Ge(1)], 0)
    assert not matches(Annotated[float, Interval(ge=0, lt=1)], 1.0)
    assert matches(tuple[Annotated[int, Ge(1)], ...], (3, 2))
    assert not matches(tuple[Annotated[int, Ge(1)], ...], (3, 0))
    assert not satisfies([MinLen(1)], 3)  # a limit that cannot apply is not met


def test_an_out_of_range_value_fails_when_the_pipeline_is_built() -> None:
    with pytest.raises(DefinitionError) as info:
        build(epochs=0, dropout=1.0, rate=0.0, layers=(4, 0))
    message = str(info.value)
    assert "4 problems in pipeline 'p'" in message
    assert f"test_constraints.py, line {build.__code__.co_firstlineno + 1}:" in message
    assert "The 'epochs' parameter of fit must be an int >= 1. Got 0 instead." in message
    assert "The 'dropout' parameter of fit must be a float in [0, 1). Got 1.0" in message
    assert "'rate' parameter of fit must be a float > 0 or None. Got 0.0" in message
    assert "'layers' parameter of fit must be a tuple of int >= 1" in message
    assert build(epochs=1, dropout=0.5, rate=0.1).nodes[-1].parameters["epochs"] == 1


def test_an_option_of_another_variant_fails_when_the_pipeline_is_built() -> None:
    with pytest.raises(DefinitionError) as info:
        build(num_trees=200)
    assert (
        "fit(num_trees=...): 'num_trees' applies only to kind='trees'; got kind='net'. "
        "Remove num_trees=..., or set kind='trees'."
    ) in str(info.value)
    with pytest.raises(DefinitionError, match="'epochs' applies only to kind='net'"):
        build(kind="trees", epochs=3)
    with pytest.raises(DefinitionError, match=r"'entry' applies only when script is set"):
        build(entry="run")
    assert build(kind="trees", num_trees=5).nodes[-1].parameters["num_trees"] == 5
    assert build(script="a.py", entry="run").nodes[-1].parameters["entry"] == "run"


def test_applicable_keeps_the_options_that_apply() -> None:
    options = {"kind": "trees", "epochs": 3, "num_trees": 7, "rate": 0.1}
    assert fit.applicable(options) == {"kind": "trees", "num_trees": 7, "rate": 0.1}
    assert fit.applicable({"epochs": 3, "num_trees": 7}) == {"epochs": 3}


def test_bounds_come_from_the_same_declarations() -> None:
    assert fit.parameters["epochs"].bounds == Bounds(min=1)
    assert fit.parameters["dropout"].bounds == Bounds(min=0, max=1, max_open=True)
    assert fit.parameters["rate"].bounds == Bounds(min=0, min_open=True)
    assert fit.parameters["kind"].bounds == Bounds()


def test_bad_declarations_are_reported_with_the_component() -> None:
    with pytest.raises(DefinitionError) as info:

        @component
        def broken(
            metrics: Out[Metrics],
            *,
            a: Annotated[int, "positive"] = 1,
            b: Annotated[int, AppliesTo(nope=1)] = 1,
            c: Annotated[int, AppliesTo(a="x")] = 1,
            d: list[Annotated[int, AppliesTo(a=1)]] | None = None,
            e: Annotated[int, Ge(1)] = 0,
        ) -> None: ...

    problems = info.value.problems
    assert any("'positive' is not a limit Shipyard checks" in p for p in problems)
    assert any("AppliesTo names 'nope', which is not another parameter" in p for p in problems)
    assert any("AppliesTo(a=('x',)) lists a value that 'a' cannot take" in p for p in problems)
    assert any("AppliesTo must annotate the whole parameter" in p for p in problems)
    assert any("the default of parameter 'e' (0) is not of its type" in p for p in problems)
