"""JSON values to ONNX Runtime feeds, without a server."""

from __future__ import annotations

import math

import numpy as np
import pytest

from shipyard.artifacts.exported_model import Signature, TensorSpec, parse_signature
from shipyard.errors import DataError
from shipyard.serving.feed import FeedPlan
from shipyard.serving.messages import decode_json

SIGNATURE = Signature(
    task="multiclass",
    inputs=(
        TensorSpec("island", "string", (None, 1)),
        TensorSpec("sex", "string", (None, 1), optional=True),
        TensorSpec("mass", "float", (None, 1), optional=True),
        TensorSpec("count", "int64", (None,)),
    ),
    outputs=(TensorSpec("class_ids", "int64", (None,)),),
)


def test_rows_become_columns_with_missing_values_filled() -> None:
    feed = FeedPlan(SIGNATURE).rows(
        [
            {"island": "Biscoe", "mass": 3750, "count": 2},
            {"island": "Dream", "sex": None, "mass": None, "count": 3},
            {"island": ["Torgersen"], "sex": {"b64": "bWFsZQ=="}, "mass": [1.5], "count": [4]},
        ],
    )
    assert feed["island"].shape == (3, 1) and feed["island"].dtype == object
    assert feed["island"][:, 0].tolist() == ["Biscoe", "Dream", "Torgersen"]
    assert feed["sex"][:, 0].tolist() == ["", "", "male"]
    assert feed["mass"].dtype == np.float32
    assert (
        feed["mass"][0, 0] == 3750 and math.isnan(feed["mass"][1, 0]) and feed["mass"][2, 0] == 1.5
    )
    assert feed["count"].dtype == np.int64 and feed["count"].tolist() == [2, 3, 4]


def test_rows_with_every_feature_and_rows_without_are_told_apart() -> None:
    complete = {"island": "Biscoe", "sex": "male", "mass": 3750, "count": 2}
    rows = [complete, {"island": "Dream", "sex": "female", "mass": 3800}, complete]
    with pytest.raises(DataError, match=r"instances\[1\] lacks the required feature 'count';"):
        FeedPlan(SIGNATURE).rows(rows)
    unknown = {"island": "Biscoe", "sex": "male", "mass": 3750, "colour": "red"}
    with pytest.raises(DataError, match=r"instances\[1\] has the unknown feature 'colour'"):
        FeedPlan(SIGNATURE).rows([complete, unknown])
    with pytest.raises(DataError, match=r"instances\[1\] must be an object of features"):
        FeedPlan(SIGNATURE).rows([complete, ["Biscoe", "male", 3750, 2]])
    with pytest.raises(DataError, match=r"^instances\[1\]\['mass'\] must be a number, got 'heavy'"):
        FeedPlan(SIGNATURE).rows([complete, {**complete, "mass": "heavy"}])
    feed = FeedPlan(SIGNATURE).rows([complete, {**complete, "mass": None, "count": [3]}])
    assert feed["count"].tolist() == [2, 3] and feed["sex"][:, 0].tolist() == ["male", "male"]
    assert feed["mass"].shape == (2, 1) and math.isnan(feed["mass"][1, 0])


def test_columns_and_optional_inputs_left_out() -> None:
    feed = FeedPlan(SIGNATURE).columns({"island": ["Biscoe", "Dream"], "count": [1, 2]})
    assert feed["sex"][:, 0].tolist() == ["", ""]
    assert np.isnan(feed["mass"]).all() and feed["mass"].shape == (2, 1)


def test_int64_inputs_take_integers_only() -> None:
    with pytest.raises(DataError, match=r"inputs\['count'\]\[0\] must be an integer, got 1.5"):
        FeedPlan(SIGNATURE).columns({"island": ["a"], "count": [1.5]})
    with pytest.raises(DataError, match="out of range for int64"):
        FeedPlan(SIGNATURE).columns({"island": ["a"], "count": [2**63]})
    with pytest.raises(DataError, match="has no missing value"):
        FeedPlan(SIGNATURE).columns({"island": ["a"], "count": [None]})


def test_floats_past_float32_are_out_of_range_and_infinity_is_kept() -> None:
    plan = FeedPlan(SIGNATURE)
    with pytest.raises(DataError, match=r"instances\[1\]\['mass'\] = 1e\+39 is out of range"):
        plan.rows(
            [{"island": "a", "count": 1, "mass": 2.5}, {"island": "a", "count": 1, "mass": 1e39}]
        )
    feed = plan.rows([{"island": "a", "count": 1, "mass": float("inf")}])
    assert feed["mass"].tolist() == [[float("inf")]]


def test_rows_of_every_feature_are_checked_as_closely_as_any_other() -> None:
    """Rows that hold every feature take the fast path (types looked up per row, floats'
    magnitudes tested in C); what it cannot take is checked value by value, as before."""
    plan = FeedPlan(SIGNATURE)
    full = {"island": "Biscoe", "sex": "male", "mass": 3750.5, "count": 2}
    feed = plan.rows([full, {**full, "mass": 12, "sex": "female"}, {**full, "mass": None}])
    assert feed["mass"].dtype == np.float32 and feed["mass"][:2, 0].tolist() == [3750.5, 12.0]
    assert math.isnan(feed["mass"][2, 0]) and feed["count"].tolist() == [2, 2, 2]
    assert feed["sex"][:, 0].tolist() == ["male", "female", "male"]
    for value, message in (
        (True, r"instances\[1\]\['mass'\] must be a number, got True \(a boolean\)"),
        ("12", r"instances\[1\]\['mass'\] must be a number, got '12'"),
        (-1e39, r"instances\[1\]\['mass'\] = -1e\+39 is out of range for float"),
        (10**39, r"instances\[1\]\['mass'\] = 10{39} is out of range for float"),
    ):
        with pytest.raises(DataError, match=message):
            plan.rows([full, {**full, "mass": value}])
    with pytest.raises(DataError, match=r"instances\[0\]\['count'\] must be an integer"):
        plan.rows([{**full, "count": 2.0}])
    feed = plan.rows([{**full, "sex": None, "mass": float("inf")}, full])
    assert feed["sex"][:, 0].tolist() == ["", "male"] and feed["mass"][0, 0] == float("inf")
    assert plan.rows([full])["mass"].tolist() == [[3750.5]]  # after every refusal, as before


def test_the_row_types_remembered_are_the_convertible_ones_and_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plan = FeedPlan(SIGNATURE)
    full = {"island": "Biscoe", "sex": "male", "mass": 3750.5, "count": 2}
    plan.rows([full])
    plan.rows([{**full, "mass": None}])
    plan.rows([full, {**full, "mass": 1}])  # more rows: their columns are checked
    with pytest.raises(DataError):
        plan.rows([{**full, "mass": False}])
    assert plan._plain_kinds == {(str, str, float, int), (str, str, type(None), int)}
    monkeypatch.setattr("shipyard.serving.feed._MAX_KINDS", 2)
    assert plan.rows([{**full, "mass": 7}])["mass"].tolist() == [[7.0]]
    assert len(plan._plain_kinds) == 2


def test_problems_are_capped_at_ten() -> None:
    rows = [{"island": index, "count": 1} for index in range(25)]
    with pytest.raises(DataError, match=r"^25 problems in the request: .*; and 15 more\.$"):
        FeedPlan(SIGNATURE).rows(rows)


def test_a_single_input_model_takes_bare_values() -> None:
    single = Signature("regression", (TensorSpec("x", "float", (None,)),), SIGNATURE.outputs)
    assert FeedPlan(single).rows([1, 2.5])["x"].tolist() == [1.0, 2.5]
    assert FeedPlan(single).columns([3])["x"].tolist() == [3.0]


def test_signatures_that_serving_cannot_feed_are_refused() -> None:
    good = {
        "task": "regression",
        "inputs": [{"name": "x", "dtype": "float", "shape": [None, 1]}],
        "outputs": [{"name": "predictions", "dtype": "float", "shape": [None]}],
    }
    assert parse_signature(good).inputs[0] == TensorSpec("x", "float", (None, 1))
    for change, message in (
        ({"task": "ranking"}, "'task' must be one of"),
        ({"inputs": []}, "'inputs' must be a non-empty list"),
        ({"inputs": [{"name": "x", "dtype": "float", "shape": [None, 4]}]}, "one value per row"),
        ({"inputs": [{"name": "x", "dtype": "bool", "shape": [None]}]}, "has dtype 'bool'"),
        (
            {"inputs": [{"name": "x", "dtype": "int64", "shape": [None], "optional": True}]},
            "int64 has no missing value",
        ),
        ({"label_vocabulary": [1, 2]}, "'label_vocabulary' must be a list of strings"),
    ):
        with pytest.raises(DataError, match=message):
            parse_signature(good | change)


def test_a_float_input_reads_a_long_integer_alike_whichever_parser_reads_it() -> None:
    """Without integer inputs the body is not searched for them (`exact_integers=False`)."""
    plan = FeedPlan(SIGNATURE)
    assert plan.takes_integers
    floats = FeedPlan(Signature("regression", SIGNATURE.inputs[:3], SIGNATURE.outputs))
    assert not floats.takes_integers
    body = b'[{"island": "a", "mass": 123456789012345678901234567891}]'
    exact, fast = decode_json(body), decode_json(body, exact_integers=False)
    assert exact != fast  # an int, and the float orjson reads
    assert floats.rows(exact)["mass"].tolist() == floats.rows(fast)["mass"].tolist()
