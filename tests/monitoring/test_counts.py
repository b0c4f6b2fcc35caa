"""Counting one window's values: event times, bins, missing, invalid and unseen values."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from shipyard.artifacts.schema import DataSchema
from shipyard.components.statistics import compute_dataset_statistics
from shipyard.monitoring.counts import ColumnCounts, count_column, event_times_us
from shipyard.monitoring.reference import build_reference
from shipyard.monitoring.sources import UnreadableFile


def test_event_times_in_any_unit_or_iso_text_become_microseconds() -> None:
    batch = pa.record_batch(
        {
            "ns": pa.array([1_767_225_600_123_456_789, None], pa.timestamp("ns", tz="UTC")),
            "text": pa.array(["2026-01-01T00:00:00.123456Z", None]),
            "number": pa.array([1, 2]),
        }
    )
    assert list(event_times_us(batch, "ns", "f")) == [1_767_225_600_123_456, -1]
    assert list(event_times_us(batch, "text", "f")) == [1_767_225_600_123_456, -1]
    with pytest.raises(UnreadableFile, match="'number' is int64, not a timestamp"):
        event_times_us(batch, "number", "f")
    with pytest.raises(UnreadableFile, match="no timestamp column 'when'"):
        event_times_us(batch, "when", "f")


def test_numbers_words_nan_and_nulls_are_told_apart() -> None:
    reference = build_reference(
        compute_dataset_statistics(pa.table({"x": np.arange(1000.0)})), source="r"
    ).columns["x"]
    counts = count_column(pa.array(["5", "far", None, "nan", "2000"]), reference)
    assert (counts.values, counts.missing, counts.invalid, counts.out_of_range) == (2, 1, 2, 1)


def test_unseen_values_are_counted_and_the_most_frequent_named() -> None:
    reference = build_reference(
        compute_dataset_statistics(pa.table({"c": ["a", "b"] * 50})), source="r"
    ).columns["c"]
    values = ["a"] * 5 + [f"new{i}" for i in range(30) for _ in range(i + 1)]
    counts = count_column(pa.array(values), reference)
    assert counts.bins == [5, 0, sum(range(1, 31))]  # a, b, every other value
    assert len(counts.unseen) == 20 and counts.unseen["new29"] == 30
    merged = ColumnCounts([0, 0, 0], unseen={"new0": 1})
    merged.merge(counts)
    assert merged.bins == counts.bins and "new0" not in merged.unseen  # still the top 20


def test_dictionary_encoded_categories_count_as_their_decoded_values() -> None:
    schema = DataSchema.from_yaml("features:\n  c: {type: string, domain: [a, b, new1, new3]}\n")
    statistics = compute_dataset_statistics(pa.table({"c": ["a", "b", "b"] * 50}))
    plain = build_reference(statistics, source="r").columns["c"]
    domained = build_reference(statistics, source="r", schema=schema).columns["c"]
    values = ["b", None, "new2", "a"] + [f"new{i}" for i in range(30) for _ in range(i % 7 + 1)]
    for rows in (values, values[:8], ["a", None, "b"]):
        encoded = pa.array(rows).dictionary_encode()
        unused = pa.DictionaryArray.from_arrays(  # a dictionary with values no row holds
            encoded.indices, pa.concat_arrays([encoded.dictionary, pa.array(["zz", "new0"])])
        )
        size = len(encoded.dictionary)
        reversed_order = pa.DictionaryArray.from_arrays(  # not in the rows' order
            pc.subtract(pa.scalar(size - 1, pa.int32()), encoded.indices),
            encoded.dictionary.take(pa.array(range(size - 1, -1, -1))),
        )
        for reference in (plain, domained):
            expected = count_column(pa.array(rows), reference)
            for array in (encoded, unused, reversed_order):
                counts = count_column(array, reference)
                assert counts == expected
                assert list(counts.unseen.items()) == list(expected.unseen.items())  # order
    counts = count_column(pa.array(values[:8]).dictionary_encode(), domained)
    assert counts.bins == [1, 1, 5] and counts.missing == 1
    assert counts.out_of_range == 3 and list(counts.unseen) == ["new2", "new0", "new1"]


def test_values_outside_the_reference_range_are_counted_on_either_side() -> None:
    reference = build_reference(
        compute_dataset_statistics(pa.table({"x": np.arange(10.0, 20.0)})), source="r"
    ).columns["x"]
    counts = count_column(pa.array([5.0, 10.0, 15.0, 19.0, 25.0, np.inf, np.nan, None]), reference)
    assert (counts.values, counts.out_of_range, counts.invalid, counts.missing) == (5, 2, 2, 1)
