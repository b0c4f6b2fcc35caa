"""Analyzers fitted over the train split, checked against hand-computed values; and errors."""

from __future__ import annotations

import math
from typing import Any

import pyarrow as pa
import pytest

from shipyard.components.transform import (
    Columns,
    Expr,
    bucketize,
    cross,
    hash_buckets,
    impute,
    log1p,
    scale_min_max,
    scale_to_z_score,
    vocabulary,
)
from shipyard.components.transform.apply import apply, stable_hash
from shipyard.components.transform.fit import build_outputs, fit, raw_columns
from shipyard.components.transform.fitted import FittedTransform
from shipyard.errors import DataError, DefinitionError, InvalidParameterError

TRAIN = pa.table(
    {
        "x": [1.0, 2.0, None, 5.0],
        "n": [1, 2, 3, 4],
        "s": ["a", "b", "a", None],
        "when": pa.array([0, 1, 2, 3], pa.timestamp("s")),
    }
)


def fitted_of(function: Any, table: pa.Table = TRAIN) -> FittedTransform:
    return fit(build_outputs(function, table, where="test"), table)


def node_of(fitted: FittedTransform, output: str) -> dict[str, Any]:
    return fitted.nodes[fitted.outputs[output]].fitted


def test_z_score_min_max_and_log_use_hand_computed_train_values() -> None:
    fitted = fitted_of(
        lambda c: {
            "z": scale_to_z_score(c["n"]),
            "mm": scale_min_max(c["n"]),
            "log": log1p(c["n"]),
        }
    )
    assert node_of(fitted, "z") == {"mean": 2.5, "std": pytest.approx(math.sqrt(1.25))}
    assert node_of(fitted, "mm") == {"min": 1.0, "max": 4.0, "range": 3.0}
    out = apply(fitted, TRAIN).to_pydict()
    assert out["z"] == pytest.approx([(v - 2.5) / math.sqrt(1.25) for v in (1, 2, 3, 4)])
    assert out["mm"] == pytest.approx([0.0, 1 / 3, 2 / 3, 1.0])
    assert out["log"] == pytest.approx([math.log(v + 1) for v in (1, 2, 3, 4)])
    assert apply(fitted, TRAIN).schema.field("z").type == pa.float32()


def test_analyzers_see_imputed_values_and_ignore_missing_ones() -> None:
    fitted = fitted_of(
        lambda c: {
            "mean": impute(c["x"]),
            "median": impute(c["x"], "median"),
            "constant": impute(c["x"], "constant", value=-1),
            "z": scale_to_z_score(impute(c["x"])),
            "raw_z": scale_to_z_score(c["x"]),
            "s": vocabulary(impute(c["s"], "most_frequent")),
            "s_const": vocabulary(impute(c["s"], "constant", value="zzz")),
        }
    )
    assert node_of(fitted, "mean") == {"value": pytest.approx(8 / 3)}
    assert node_of(fitted, "median") == {"value": 2.0}
    out = apply(fitted, TRAIN).to_pydict()
    assert out["mean"] == pytest.approx([1.0, 2.0, 8 / 3, 5.0])
    assert out["constant"] == [1.0, 2.0, -1.0, 5.0]
    # the z-score is fitted on the imputed column: the same mean, a smaller std
    assert node_of(fitted, "z")["mean"] == pytest.approx(8 / 3)
    assert node_of(fitted, "z")["std"] < node_of(fitted, "raw_z")["std"]
    assert math.isnan(out["raw_z"][2])
    assert node_of(fitted, "s")["vocabulary"] == ["a", "b"]
    assert out["s"] == [0, 1, 0, 0]
    assert node_of(fitted, "s_const")["vocabulary"] == ["a", "b", "zzz"]


def test_vocabulary_orders_by_frequency_then_value_with_top_k_and_oov() -> None:
    table = pa.table({"s": ["c", "b", "b", "a", "a", "d", None]})
    fitted = fitted_of(lambda c: {"v": vocabulary(c["s"], top_k=2)}, table)
    assert node_of(fitted, "v")["vocabulary"] == ["a", "b"]
    assert node_of(fitted, "v")["size"] == 3
    rows = pa.table({"s": ["a", "b", "c", "never seen", None]})
    assert apply(fitted, rows).to_pydict()["v"] == [0, 1, 2, 2, 2]
    full = fitted_of(lambda c: {"v": vocabulary(c["s"])}, table)
    # a missing value is "" and counts like any value
    assert node_of(full, "v")["vocabulary"] == ["a", "b", "", "c", "d"]


def test_several_oov_buckets_hash_training_values_and_send_unseen_ones_to_the_first() -> None:
    table = pa.table({"s": ["a", "a", "b", "c", "d", "e"]})
    fitted = fitted_of(lambda c: {"v": vocabulary(c["s"], top_k=1, num_oov_buckets=3)}, table)
    out = apply(fitted, pa.table({"s": ["a", "b", "c", "unseen"]})).to_pydict()["v"]
    assert out == [0, 1 + stable_hash("b", 3), 1 + stable_hash("c", 3), 1]
    assert node_of(fitted, "v")["size"] == 4


def test_bucketize_uses_quantile_boundaries() -> None:
    table = pa.table({"x": [float(v) for v in range(1, 101)]})
    fitted = fitted_of(lambda c: {"b": bucketize(c["x"], 4)}, table)
    assert node_of(fitted, "b") == {"boundaries": [25.75, 50.5, 75.25], "size": 4}
    rows = pa.table({"x": [-1.0, 25.75, 50.0, 75.25, 1000.0, None]})
    assert apply(fitted, rows).to_pydict()["b"] == [0, 1, 1, 3, 3, 0]
    constant = fitted_of(lambda c: {"b": bucketize(c["x"], 4)}, pa.table({"x": [3.0] * 5}))
    assert node_of(constant, "b") == {"boundaries": [3.0], "size": 2}


def test_hash_buckets_and_cross() -> None:
    table = pa.table({"s": ["a", "b", "c"], "t": ["x", "y", "x"]})
    fitted = fitted_of(
        lambda c: {
            "h": hash_buckets(c["s"], 5),
            "c": cross(vocabulary(c["s"]), vocabulary(c["t"]), 7),
        },
        table,
    )
    out = apply(fitted, pa.table({"s": ["a", "c", "new"], "t": ["y", "x", "x"]})).to_pydict()
    assert out["h"] == [stable_hash("a", 5), stable_hash("c", 5), 5]
    # s ids: a=0 b=1 c=2 (oov 3); t ids: x=0 y=1 (oov 2), size 3
    assert out["c"] == [(0 * 3 + 1) % 7, (2 * 3 + 0) % 7, (3 * 3 + 0) % 7]


def test_the_spec_round_trips_through_json() -> None:
    import json

    fitted = fitted_of(lambda c: {"z": scale_to_z_score(impute(c["x"])), "s": vocabulary(c["s"])})
    again = FittedTransform.from_spec(json.loads(json.dumps(fitted.to_spec())))
    assert apply(again, TRAIN).equals(apply(fitted, TRAIN))


def test_a_missing_column_lists_the_columns() -> None:
    with pytest.raises(DefinitionError, match="no column 'y'; the columns are n, s, x"):
        fitted_of(lambda c: {"y": scale_to_z_score(c["y"])})
    with pytest.raises(DefinitionError, match="type timestamp"):
        fitted_of(lambda c: {"w": scale_to_z_score(c["when"])})


def test_an_op_on_the_wrong_kind_says_what_to_do() -> None:
    with pytest.raises(DefinitionError, match=r"scale_to_z_score\(\) needs a float input.*string"):
        fitted_of(lambda c: {"s": scale_to_z_score(c["s"])})
    with pytest.raises(DefinitionError, match=r"vocabulary.*needs a string input"):
        fitted_of(lambda c: {"n": vocabulary(c["n"])})
    with pytest.raises(DefinitionError, match="cross ids"):
        fitted_of(lambda c: {"c": cross(c["n"], c["n"], 3)})
    with pytest.raises(DefinitionError, match="expects a column expression, got int"):
        scale_to_z_score(3)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="strategy='mean'"):
        impute(raw_columns(TRAIN)["s"], "mean")
    with pytest.raises(InvalidParameterError, match="num_buckets must be an integer >= 1"):
        bucketize(raw_columns(TRAIN)["x"], 0)


@pytest.mark.parametrize(
    ("result", "message"),
    [
        (None, "must return a non-empty dict"),
        ({}, "must return a non-empty dict"),
        ({"x": 3}, "every key must be a string and every value an expression"),
        ({"s": "s"}, "every value an expression"),
    ],
)
def test_a_function_returning_no_expressions_is_an_error(result: Any, message: str) -> None:
    with pytest.raises(DefinitionError, match=message):
        fitted_of(lambda c: result)


def test_a_string_output_must_be_mapped_to_ids() -> None:
    with pytest.raises(DefinitionError, match="map it with vocabulary"):
        fitted_of(lambda c: {"s": c["s"]})


def test_an_empty_train_split_and_a_missing_column_at_apply_time() -> None:
    with pytest.raises(DataError, match="no rows"):
        fitted_of(lambda c: {"x": c["x"]}, TRAIN.slice(0, 0))
    fitted = fitted_of(lambda c: {"x": c["x"]})
    with pytest.raises(DataError, match="which these rows lack"):
        apply(fitted, pa.table({"other": [1.0]}))


def test_columns_mapping() -> None:
    columns = raw_columns(TRAIN)
    assert isinstance(columns, Columns)
    assert sorted(columns) == ["n", "s", "x"]
    assert columns.get("nope") is None
    assert isinstance(columns["x"], Expr) and columns["x"].kind == "float"


def test_defaults_refuse_a_number_column_held_as_text() -> None:
    from shipyard.artifacts import DataSchema
    from shipyard.components.transform.defaults import default_preprocessing

    schema = DataSchema.from_yaml(
        "features:\n  flipper: {type: int}\n  island: {type: string}\n  label: {type: string}\n"
    )
    clean = pa.table({"flipper": [181, 190], "island": ["a", "b"], "label": ["x", "y"]})
    assert set(default_preprocessing(schema, raw_columns(clean), label="label")) == {
        "flipper",
        "island",
        "label",
    }
    typo = pa.table({"flipper": ["181", "far"], "island": ["a", "b"], "label": ["x", "y"]})
    with pytest.raises(DataError) as caught:
        default_preprocessing(schema, raw_columns(typo), label="label")
    message = str(caught.value)
    assert "column 'flipper'" in message and "types 'flipper' as int" in message
    assert "wrong_type" in message and "null_values" in message
