"""Parameter limits and per-option conditions, declared once (the README's snippet)."""

from __future__ import annotations

from typing import Annotated, Literal

from shipyard import Out, component
from shipyard.artifacts import Model
from shipyard.dsl.constraints import AppliesTo, Ge, Interval


@component
def fit(
    model: Out[Model],
    *,
    estimator: Literal["dnn", "boosted_trees"] = "dnn",
    epochs: Annotated[int, Ge(1), AppliesTo(estimator="dnn")] = 10,
    dropout: Annotated[float, Interval(ge=0, lt=1)] = 0.0,
) -> None: ...
