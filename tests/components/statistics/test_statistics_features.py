"""Strings, booleans, lists and other types; weights, slices and parameter errors."""

from __future__ import annotations

import pyarrow as pa
import pytest

from shipyard.artifacts import DatasetStatistics, StringStatistics, ValueCount
from shipyard.components.statistics import compute_dataset_statistics
from shipyard.errors import DataError, InvalidParameterError


def test_strings_distinct_top_values_and_length() -> None:
    table = pa.table({"s": ["bb", "a", "bb", None, "ccc", "a", "bb", ""]})
    feature = compute_dataset_statistics(table).features["s"]
    assert feature.type == "string" and feature.count == 7 and feature.missing == 1
    stats = feature.string
    assert stats is not None and feature.numeric is None
    assert stats.distinct == 4
    assert stats.top_values == [
        ValueCount("bb", 3.0),
        ValueCount("a", 2.0),
        ValueCount("", 1.0),  # ties by value
        ValueCount("ccc", 1.0),
    ]
    assert stats.avg_length == pytest.approx((2 * 3 + 1 * 2 + 3 + 0) / 7)


def test_top_values_keep_at_most_the_maximum() -> None:
    values = [f"v{i:05d}" for i in range(StringStatistics.MAX_TOP_VALUES + 50)] + ["v00007"]
    stats = compute_dataset_statistics(pa.table({"s": values})).features["s"].string
    assert stats is not None
    assert stats.distinct == StringStatistics.MAX_TOP_VALUES + 50
    assert len(stats.top_values) == StringStatistics.MAX_TOP_VALUES
    assert stats.top_values[0] == ValueCount("v00007", 2.0)


def test_booleans_and_dictionaries_are_categories() -> None:
    table = pa.table(
        {
            "b": [True, False, True, None],
            "d": pa.array(["x", "y", "x", "x"]).dictionary_encode(),
        }
    )
    features = compute_dataset_statistics(table).features
    assert features["b"].type == "bool"
    assert features["b"].string.top_values == [ValueCount("true", 2.0), ValueCount("false", 1.0)]
    assert features["d"].type == "string"
    assert features["d"].string.top_values[0] == ValueCount("x", 3.0)


def test_lists_value_counts() -> None:
    table = pa.table({"l": [[1, 2], None, [], [3, 4, 5], [6]]})
    feature = compute_dataset_statistics(table).features["l"]
    assert feature.type == "list" and feature.count == 4 and feature.missing == 1
    assert feature.lists is not None and feature.numeric is None and feature.string is None
    assert (feature.lists.min_length, feature.lists.max_length) == (0, 3)
    assert feature.lists.avg_length == pytest.approx(6 / 4)


def test_all_null_struct_and_binary_columns() -> None:
    table = pa.table(
        {
            "n": pa.array([None, None]),
            "st": pa.array([{"a": 1}, None]),
            "bin": pa.array([b"x", b"yy"]),
        }
    )
    features = compute_dataset_statistics(table).features
    assert features["n"].missing == 2 and features["n"].string == StringStatistics(0, [], 0.0)
    assert features["st"].type == "struct" and features["st"].missing == 1
    assert features["bin"].type == "binary" and features["bin"].count == 2
    assert features["bin"].numeric is None and features["bin"].string is None


def test_weighted_statistics() -> None:
    table = pa.table(
        {
            "x": [1.0, 2.0, 3.0, None, 4.0],
            "s": ["a", "b", "b", "a", None],
            "w": [3.0, 1.0, 0.0, 2.0, 1.0],
        }
    )
    stats = compute_dataset_statistics(table, weight_column="w")
    assert stats.weighted_num_rows == 7.0
    x = stats.features["x"]
    assert x.weighted_count == 5.0  # the weights of the rows where x is present
    weighted = x.weighted_numeric
    assert weighted is not None
    mean = (1 * 3 + 2 * 1 + 4 * 1) / 5
    assert weighted.mean == pytest.approx(mean)
    variance = (3 * (1 - mean) ** 2 + (2 - mean) ** 2 + (4 - mean) ** 2) / 5
    assert weighted.std == pytest.approx(variance**0.5)
    assert weighted.median == 1.0  # 3 of the 5 units of weight are on 1.0
    assert sum(weighted.histogram.counts) == pytest.approx(5.0)
    assert sum(weighted.quantile_histogram.counts) == pytest.approx(5.0)
    assert x.numeric is not None and x.numeric.mean == 2.5  # unweighted unchanged
    s = stats.features["s"]
    assert s.weighted_count == 6.0
    assert s.weighted_string is not None
    assert s.weighted_string.top_values == [ValueCount("a", 5.0), ValueCount("b", 1.0)]
    assert s.weighted_string.distinct == 2


def test_slices_by_a_column() -> None:
    table = pa.table({"x": [1.0, 2.0, 3.0, 10.0], "g": ["a", "b", "a", None], "f": [1, 1, 2, 2]})
    stats = compute_dataset_statistics(table, slice_columns=["g", "f"])
    assert list(stats.slices) == ["g=a", "g=b", "f=1", "f=2"]
    assert stats.slices["g=a"].num_rows == 2
    assert stats.slices["g=a"].features["x"].numeric.mean == 2.0
    assert stats.slices["f=2"].features["x"].numeric.max == 10.0
    assert stats.slices["g=a"].slices == {}
    roundtrip = DatasetStatistics.from_json(stats.to_json())
    assert roundtrip == stats


def test_unknown_weight_or_slice_column_lists_the_columns() -> None:
    table = pa.table({"x": [1.0], "y": ["a"]})
    with pytest.raises(InvalidParameterError, match=r"'weight_column'.*'nope'.*'x', 'y'"):
        compute_dataset_statistics(table, weight_column="nope")
    with pytest.raises(InvalidParameterError, match=r"'slice_columns'.*'z'.*'x', 'y'"):
        compute_dataset_statistics(table, slice_columns=["z"])
    with pytest.raises(InvalidParameterError, match="numeric column"):
        compute_dataset_statistics(table, weight_column="y")
    with pytest.raises(InvalidParameterError, match="histogram_buckets"):
        compute_dataset_statistics(table, histogram_buckets=0)


def test_bad_weights_and_too_many_slices() -> None:
    table = pa.table({"x": [1.0, 2.0], "w": [1.0, -1.0]})
    with pytest.raises(DataError, match="1 weights"):
        compute_dataset_statistics(table, weight_column="w")
    many = pa.table({"id": list(range(101))})
    with pytest.raises(InvalidParameterError, match="101 distinct values"):
        compute_dataset_statistics(many, slice_columns=["id"])
