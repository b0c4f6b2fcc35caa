"""slice_metrics: slices by value and by numeric buckets, counts, minimum size."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from shipyard.components.evaluate import SliceSpec, compute_metrics, slice_metrics
from shipyard.errors import InvalidParameterError

ISLAND = ["a", "a", "b", "b", "b", None]
AGE = [10.0, 20.0, 30.0, 40.0, np.nan, 60.0]
LABELS = [0, 1, 0, 1, 1, 0]
PREDICTIONS = [0, 1, 1, 1, 0, 0]


def _by_name(slices: list[dict]) -> dict[str, dict]:
    return {s["name"]: s for s in slices}


def test_slices_by_value_with_missing() -> None:
    slices = slice_metrics(
        {"island": ISLAND}, LABELS, PREDICTIONS, task="binary", slices=["island"]
    )
    named = _by_name(slices)
    assert list(named) == ["island=(missing)", "island=a", "island=b"]
    assert named["island=a"]["count"] == 2
    assert named["island=a"]["metrics"]["accuracy"] == 1.0
    assert named["island=b"]["metrics"]["accuracy"] == pytest.approx(1 / 3)
    assert named["island=b"]["value"] == "b" and named["island=b"]["feature"] == "island"
    # the slice equals compute_metrics on its rows
    expected = compute_metrics([0, 1, 1], [1, 1, 0], task="binary")["metrics"]
    assert named["island=b"]["metrics"] == expected


def test_min_slice_size_keeps_counts_drops_metrics() -> None:
    slices = slice_metrics(
        {"island": ISLAND}, LABELS, PREDICTIONS, task="binary", slices=["island"], min_slice_size=3
    )
    named = _by_name(slices)
    assert named["island=a"]["metrics"] is None
    assert named["island=a"]["count"] == 2
    assert "fewer than 3 rows" in named["island=a"]["skipped"]
    assert named["island=b"]["metrics"] is not None


def test_buckets_by_boundaries_and_quantiles() -> None:
    table = pa.table({"age": AGE})
    slices = slice_metrics(
        table,
        LABELS,
        PREDICTIONS,
        task="binary",
        slices=[{"feature": "age", "boundaries": [25, 50]}, {"feature": "age", "quantiles": 2}],
    )
    counts = [(s["name"], s["count"]) for s in slices]
    assert counts == [
        ("age < 25", 2),
        ("25 <= age < 50", 2),
        ("age >= 50", 1),
        ("age is missing", 1),
        ("age < 30", 2),  # the median of 10, 20, 30, 40, 60 is 30
        ("age >= 30", 3),
        ("age is missing", 1),
    ]


def test_regression_slices_and_multiclass_keep_all_classes() -> None:
    reg = slice_metrics(
        {"g": ["x", "x", "y"]}, [1.0, 2.0, 3.0], [1.0, 1.0, 3.0], task="regression", slices=["g"]
    )
    assert _by_name(reg)["g=x"]["metrics"]["rmse"] == pytest.approx(np.sqrt(0.5))
    multi = slice_metrics(
        {"g": ["x", "x", "y"]}, [0, 1, 2], [0, 1, 2], task="multiclass", slices=["g"]
    )
    # the slice g=x has no class 2, yet keeps three classes
    assert _by_name(multi)["g=x"]["metrics"]["accuracy"] == 1.0


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("colour", "features among 'island', 'age'"),
        ({"feature": "age", "quantiles": 1}, "an int >= 2"),
        ({"feature": "age", "boundaries": [5, 1]}, "increasing"),
        ({"feature": "age", "bins": 3}, "slices"),
        ({"feature": "island", "quantiles": 2}, "numeric"),
    ],
)
def test_bad_specs(spec: object, message: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        slice_metrics(
            {"island": ISLAND, "age": AGE}, LABELS, PREDICTIONS, task="binary", slices=[spec]
        )
    assert message in str(info.value)


def test_spec_parse() -> None:
    assert SliceSpec.parse("x") == SliceSpec("x")
    assert SliceSpec.parse({"feature": "x", "boundaries": [1, 2]}).boundaries == (1.0, 2.0)
    with pytest.raises(InvalidParameterError, match="min_slice_size"):
        slice_metrics({"x": [1]}, [1.0], [1.0], task="regression", slices=["x"], min_slice_size=0)


def test_integer_column_with_nulls_names_values_as_ints() -> None:
    column = pa.chunked_array([[1, None], [3]])
    slices = slice_metrics({"n": column}, [0, 1, 1], [0, 1, 0], task="binary", slices=["n"])
    assert [s["name"] for s in slices] == ["n=(missing)", "n=1", "n=3"]


def test_penguin_slices_of_one_species_score_one_and_match_scikit_learn() -> None:
    from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

    # Torgersen holds only Adelie (0), all predicted right; Biscoe and Dream are mixed
    island = np.array(["Torgersen"] * 4 + ["Biscoe"] * 6 + ["Dream"] * 5)
    labels = np.array([0, 0, 0, 0, 0, 2, 2, 2, 2, 0, 1, 1, 0, 1, 0])
    predictions = np.array([0, 0, 0, 0, 0, 2, 2, 0, 2, 0, 1, 0, 0, 1, 2])
    slices = _by_name(
        slice_metrics(
            {"island": island},
            labels,
            predictions,
            task="multiclass",
            slices=["island"],
            class_labels=["Adelie", "Chinstrap", "Gentoo"],
        )
    )
    torgersen = slices["island=Torgersen"]["metrics"]
    assert torgersen["accuracy"] == 1.0 and torgersen["f1_macro"] == 1.0
    for name in ("Biscoe", "Dream", "Torgersen"):
        rows = island == name
        y, p = labels[rows], predictions[rows]
        m = slices[f"island={name}"]["metrics"]
        assert m["accuracy"] == pytest.approx(accuracy_score(y, p))
        for metric, score in (
            ("precision", precision_score),
            ("recall", recall_score),
            ("f1", f1_score),
        ):
            for average in ("macro", "weighted"):
                expected = score(y, p, average=average, zero_division=0)
                assert m[f"{metric}_{average}"] == pytest.approx(expected), (name, metric)
