"""Schema inference from statistics: types, presence, domains, ranges, list lengths, label."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from shipyard.artifacts import (
    DatasetStatistics,
    FeatureStatistics,
    Histogram,
    ListStatistics,
    NumericStatistics,
    Schema,
    Statistics,
    StringStatistics,
    ValueCount,
)
from shipyard.artifacts.schema import NumericRange, ValueCountRange
from shipyard.components import infer_schema
from shipyard.components.schema import schema_from_statistics
from shipyard.components.validate import validate_statistics
from shipyard.errors import InvalidParameterError, NotFoundError


def strings(name: str, values: list[str | None], type: str = "string") -> FeatureStatistics:
    present = [v for v in values if v is not None]
    counts = Counter(present).most_common()
    top = [ValueCount(v, float(n)) for v, n in counts]
    return FeatureStatistics(
        name, type, len(present), values.count(None),  # type: ignore[arg-type]
        string=StringStatistics(len(counts), top, 3.0),
    )  # fmt: skip


def numbers(name: str, low: float, high: float, count: int, missing: int = 0, type: str = "float"):
    histogram = Histogram("equal_width", [low, high], [float(count)])
    numeric = NumericStatistics(
        None, None, low, high, None, 0, 0, 0, [], histogram, Histogram("quantiles", [], [])
    )
    return FeatureStatistics(name, type, count, missing, numeric=numeric)  # type: ignore[arg-type]


def dataset(*features: FeatureStatistics) -> DatasetStatistics:
    return DatasetStatistics(
        max(f.count + f.missing for f in features), {f.name: f for f in features}
    )


def test_small_string_domains_are_inferred_sorted() -> None:
    stats = dataset(strings("island", ["Dream", "Biscoe", "Torgersen"] * 5))
    island = schema_from_statistics(stats).features["island"]
    assert island.type == "string" and island.domain == ("Biscoe", "Dream", "Torgersen")


@pytest.mark.parametrize(
    ("values", "why"),
    [
        ([f"id-{i}" for i in range(40)], "each value once: an id, not a category"),
        (["a", "b", "c", "d"] * 4, "4 values in 16 rows: fewer than 5 rows per value"),
        ([f"v{i}" for i in range(51)] * 10, "51 values: more than 50"),
    ],
)
def test_no_domain_for_many_or_rare_values(values: list[str], why: str) -> None:
    assert schema_from_statistics(dataset(strings("c", values))).features["c"].domain is None, why


def test_domain_size_limit_is_a_parameter() -> None:
    stats = dataset(strings("c", ["a", "b", "c"] * 10))
    assert schema_from_statistics(stats, max_domain_size=2).features["c"].domain is None


def test_presence_required_or_optional_with_a_margin() -> None:
    stats = dataset(
        numbers("always", 0, 1, 100),
        numbers("mostly", 0, 1, 95, missing=5),  # 95% present -> at least 85%
        numbers("rarely", 0, 1, 5, missing=95),  # 5% present -> at least 0%
        strings("never", [None] * 100),
    )
    features = schema_from_statistics(stats).features
    assert features["always"].required and features["always"].min_fraction == 1.0
    assert not features["mostly"].required and features["mostly"].min_fraction == 0.85
    assert features["rarely"].min_fraction == 0.0
    assert features["never"].min_fraction == 0.0 and features["never"].domain is None


def test_numeric_ranges_are_the_observed_min_and_max() -> None:
    stats = dataset(
        numbers("mass", 2700.0, 6300.0, 20), numbers("year", 2007, 2009, 20, type="int")
    )
    features = schema_from_statistics(stats).features
    assert features["mass"].range == NumericRange(2700.0, 6300.0)
    assert features["year"].type == "int" and features["year"].range == NumericRange(2007, 2009)
    assert "range: {min: 2007, max: 2009}" in schema_from_statistics(stats).to_yaml()


def test_list_value_counts() -> None:
    tags = FeatureStatistics("tags", "list", 10, 0, lists=ListStatistics(1, 4, 2.5))
    feature = schema_from_statistics(dataset(tags)).features["tags"]
    assert feature.value_count == ValueCountRange(1, 4)
    assert feature.domain is None and feature.range is None


def test_bools_get_no_domain() -> None:
    flag = strings("flag", ["true", "false"] * 10, type="bool")
    assert schema_from_statistics(dataset(flag)).features["flag"].domain is None


def test_label_is_absent_at_serving_and_defaults_are_set() -> None:
    stats = dataset(strings("species", ["a", "b"] * 10), numbers("mass", 1, 2, 20))
    schema = schema_from_statistics(stats, label="species")
    assert schema.features["species"].not_in == ("SERVING",)
    assert schema.features["mass"].not_in == ()
    assert [f.name for f in schema.features_in("SERVING")] == ["mass"]
    assert schema.environments == ("TRAINING", "SERVING")
    assert schema.default_environment == "TRAINING"
    assert schema.skew is not None and schema.skew.threshold == 0.1
    assert schema.drift is not None and schema.drift.threshold == 0.1
    with pytest.raises(InvalidParameterError, match="'label' parameter of infer_schema"):
        schema_from_statistics(stats, label="spcies")


def test_component_reads_the_train_split_and_writes_commented_yaml(tmp_path: Path) -> None:
    statistics = Statistics(tmp_path / "stats")
    statistics.save(
        {
            "train": dataset(strings("island", ["a", "b"] * 10)),
            "eval": dataset(strings("island", ["c"] * 10)),
        }
    )
    schema = Schema(tmp_path / "schema")
    infer_schema.fn(statistics, schema)
    text = (tmp_path / "schema" / "schema.yaml").read_text()
    assert text.startswith("# Shipyard schema inferred from the 'train' split (20 rows)")
    assert "import_schema(path='schema.yaml')" in text
    assert schema.load().features["island"].domain == ("a", "b")
    assert schema.properties["features"] == 1 and schema.properties["inferred_from"] == "train"
    infer_schema.fn(statistics, Schema(tmp_path / "other"), split="eval")
    assert Schema(tmp_path / "other").load().features["island"].domain == ("c",)
    with pytest.raises(NotFoundError, match="no statistics for split 'test'"):
        infer_schema.fn(statistics, Schema(tmp_path / "x"), split="test")


def test_numbers_with_words_among_them_are_typed_as_numbers() -> None:
    import pyarrow as pa

    from shipyard.components.statistics import compute_dataset_statistics

    table = pa.table(
        {
            "flipper": ["181", "far", "190", None, "201"],  # read as text because of 'far'
            "ratio": ["0.5", "1", "n/a", "2.25", "3"],
            "zip": ["02139", "10001", "94103", "60601", "73301"],  # declared text on purpose
            "code": ["A1", "B2", "3", "C4", "D5"],  # mostly words
        }
    )
    schema = schema_from_statistics(compute_dataset_statistics(table))
    types = {name: feature.type for name, feature in schema.features.items()}
    assert types == {"flipper": "int", "ratio": "float", "zip": "string", "code": "string"}
    assert schema.features["flipper"].domain is None
    assert schema.features["flipper"].range is None  # no numeric statistics to take it from
    report = validate_statistics({"train": compute_dataset_statistics(table)}, schema)
    assert [(a.feature, a.kind, a.count, a.examples) for a in report.anomalies] == [
        ("flipper", "wrong_type", 1, ("far",)),
        ("ratio", "wrong_type", 1, ("n/a",)),
    ]
