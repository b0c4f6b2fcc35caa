"""train's limits and per-estimator options fail when the pipeline is built, before any node."""

from __future__ import annotations

from typing import Any

import pytest

from shipyard import Out, Pipeline, component
from shipyard.artifacts import Examples, TransformGraph
from shipyard.components import train
from shipyard.errors import DefinitionError


@component
def prepared(transformed: Out[Examples], transform_graph: Out[TransformGraph]) -> None: ...


def build(**options: Any) -> Pipeline:
    inputs = prepared()
    node = train(
        transformed=inputs.outputs.transformed,
        transform_graph=inputs.outputs.transform_graph,
        **options,
    )
    return Pipeline("p", nodes=[node])


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("epochs", 0, "an int >= 1 or None"),
        ("dropout", 1.0, "a float in [0, 1)"),
        ("learning_rate", 0.0, "a float > 0 or None"),
        ("batch_size", 0, "an int >= 1"),
        ("warmup_steps", -1, "an int >= 0"),
        ("max_steps", 0, "an int >= 1 or None"),
        ("early_stopping_patience", 0, "an int >= 1 or one of 'auto' or None"),
        ("early_stopping_patience", "soon", "an int >= 1 or one of 'auto' or None"),
        ("hidden_units", (16, 0), "a tuple of int >= 1"),
        ("seed", -1, "an int >= 0"),
    ],
)
def test_a_value_out_of_its_limits_fails_at_build_time(
    name: str, value: Any, expected: str
) -> None:
    with pytest.raises(DefinitionError, match=r"test_train_options\.py, line") as info:
        build(**{name: value})
    assert f"The {name!r} parameter of train must be {expected}." in str(info.value)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"num_trees": 200},
            "train(num_trees=...): 'num_trees' applies only to estimator='boosted_trees'; "
            "got estimator='dnn'. Remove num_trees=..., or set estimator='boosted_trees'.",
        ),
        (
            {"estimator": "boosted_trees", "epochs": 5},
            "'epochs' applies only to estimator='linear' or estimator='dnn' or "
            "estimator='wide_deep'; got estimator='boosted_trees'.",
        ),
        ({"estimator": "linear", "hidden_units": (8,)}, "'hidden_units' applies only to"),
        ({"run_fn_file": "fit.py", "dropout": 0.1}, "'dropout' applies only when run_fn_file"),
        ({"hyperparameters": {"a": 1}}, "'hyperparameters' applies only when run_fn_file is set"),
        ({"estimator": "boosted_trees", "max_depth": 0}, "must be one of -1 or an int >= 1"),
    ],
)
def test_an_option_the_estimator_does_not_use_fails_at_build_time(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(DefinitionError) as info:
        build(**options)
    assert message in str(info.value)


def test_each_estimator_accepts_its_own_options() -> None:
    trees = build(estimator="boosted_trees", num_trees=50, max_depth=4, learning_rate=0.1)
    assert trees["train"].parameters["num_trees"] == 50
    network = build(estimator="wide_deep", hidden_units=(8,), dropout=0.2, epochs=3)
    assert network["train"].parameters["dropout"] == 0.2
    custom = build(run_fn_file="fit.py", run_fn="go", hyperparameters={"a": 1}, epochs=2)
    assert custom["train"].parameters["run_fn"] == "go"
