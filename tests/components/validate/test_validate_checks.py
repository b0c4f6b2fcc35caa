"""Each anomaly kind is found where it is, and not on clean data."""

from __future__ import annotations

import pyarrow as pa
import pytest

from shipyard.artifacts import DataSchema, DatasetStatistics
from shipyard.components.validate import anomalies_error, validate_statistics
from shipyard.errors import AnomaliesFound, DataError, InvalidParameterError

SCHEMA = """
version: 1
environments: [TRAINING, SERVING]
default_environment: TRAINING
features:
  island: {type: string, presence: required, domain: [Biscoe, Dream, Torgersen]}
  mass: {type: float, presence: {min_fraction: 0.8}, range: {min: 2000, max: 6000}}
  year: {type: int, presence: required, range: {min: 2007, max: 2009}}
  tags: {type: list, presence: optional, value_count: {min: 1, max: 3}}
  species: {type: string, presence: required, not_in: [SERVING]}
"""

ISLANDS = ["Biscoe"] * 10 + ["Dream"] * 6 + ["Torgersen"] * 4


@pytest.fixture
def schema() -> DataSchema:
    return DataSchema.from_yaml(SCHEMA)


def clean(stats, **replace) -> DatasetStatistics:
    features = {
        "island": stats.strings("island", ISLANDS),
        "mass": stats.numeric("mass", [3000.0 + 100 * i for i in range(20)]),
        "year": stats.numeric("year", [2007 + i % 3 for i in range(20)], type="int"),
        "tags": stats.lists("tags", [1, 2, 3, None] * 5),
        "species": stats.strings("species", ["Adelie", "Gentoo"] * 10),
    }
    features.update(replace)
    return stats.dataset(*(f for f in features.values() if f is not None))


def kinds(report) -> list[tuple[str, str]]:
    return [(a.feature, a.kind) for a in report.anomalies]


def test_clean_data_has_no_anomalies(stats, schema) -> None:
    report = validate_statistics({"train": clean(stats), "eval": clean(stats)}, schema)
    assert report.anomalies == ()
    assert report.summary() == "OK: no anomalies in train, eval (TRAINING)."
    assert report.environment == "TRAINING" and report.splits == ("train", "eval")


def test_missing_and_new_columns(stats, schema) -> None:
    data = clean(stats, year=None, weight=stats.numeric("weight", [1.0, 2.0]))
    report = validate_statistics({"eval": data}, schema)
    assert kinds(report) == [("year", "missing_column"), ("weight", "new_column")]
    missing, new = report.anomalies
    assert missing.severity == "error" and missing.split == "eval"
    assert "'year' is in the schema but not in 'eval'" in missing.description
    assert "not in the schema" in new.description and new.severity == "error"


def test_wrong_type_and_int_is_a_float(stats, schema) -> None:
    data = clean(
        stats,
        year=stats.strings("year", ["2007"] * 20, type="bool"),
        mass=stats.numeric("mass", [3000.0] * 20, type="int"),
    )
    report = validate_statistics({"train": data}, schema)
    assert kinds(report) == [("year", "wrong_type")]
    [anomaly] = report.anomalies  # another type altogether: the whole column
    assert "'year' should be int but is bool in 'train' (all 20 values)" in anomaly.description
    assert (anomaly.count, anomaly.fraction, anomaly.examples) == (20, 1.0, ("2007",))


def test_numbers_read_as_text_are_no_anomaly(stats, schema) -> None:
    # Ingest types a column once for all splits: words in one split make it text in all.
    data = clean(stats, year=stats.strings("year", ["2007", "2008"] * 10))
    assert validate_statistics({"eval": data}, schema).anomalies == ()


@pytest.mark.parametrize(
    ("values", "count", "examples", "says"),
    [
        (
            ["2007"] * 18 + ["far", None, "far"],
            2,
            ("far",),
            "2 of its 20 values in 'train' (10.0%) are not an integer: 'far'",
        ),
        (
            ["2007"] * 19 + ["2007.5"],
            1,
            ("2007.5",),
            "1 of its 20 values in 'train' (5.0%) is not an integer: '2007.5'",
        ),
        (
            ["y2007", "y2008"] * 10,
            20,
            ("y2007", "y2008"),
            "none of its 20 values in 'train' is an integer: 'y2007', 'y2008'",
        ),
    ],
)
def test_words_in_a_number_column_are_counted_with_examples(
    stats, schema, values: list[str | None], count: int, examples: tuple[str, ...], says: str
) -> None:
    from shipyard.components.statistics import compute_dataset_statistics

    table = pa.table({"year": pa.array(values, pa.string())})
    computed = compute_dataset_statistics(table).features["year"]
    data = clean(stats, year=computed)
    [anomaly] = validate_statistics({"train": data}, schema).anomalies
    assert (anomaly.feature, anomaly.kind, anomaly.severity) == ("year", "wrong_type", "error")
    assert (anomaly.count, anomaly.examples) == (count, examples)
    assert anomaly.fraction == pytest.approx(count / computed.count)
    assert f"'year' should be int but {says}. Fix the values" in anomaly.description


def test_values_outside_the_domain_with_fraction_and_examples(stats, schema) -> None:
    islands = ISLANDS[:15] + ["Atlantis"] * 3 + ["Mu"] * 2
    report = validate_statistics(
        {"eval": clean(stats, island=stats.strings("island", islands))}, schema
    )
    [anomaly] = report.anomalies
    assert (anomaly.feature, anomaly.kind, anomaly.severity) == ("island", "out_of_domain", "error")
    assert anomaly.fraction == pytest.approx(5 / 20)
    assert anomaly.examples == ("Atlantis", "Mu")  # most frequent first
    assert "2 values outside its domain in 'eval' (25.0% of its values)" in anomaly.description


def test_out_of_range_is_a_warning_unless_the_schema_says_error(stats, schema) -> None:
    mass = stats.numeric("mass", [1000.0, 2000.0, 3000.0, 4000.0, 5000.0], buckets=4)
    report = validate_statistics({"eval": clean(stats, mass=mass)}, schema)
    [anomaly] = report.anomalies
    assert (anomaly.kind, anomaly.severity) == ("out_of_range", "warning")
    assert anomaly.examples == ("1000",)
    # buckets of width 1000 holding 1, 1, 1, 2 values: [1000, 2000) lies wholly below 2000
    assert anomaly.fraction == pytest.approx(1 / 5)
    assert report.errors == [] and report.warnings == [anomaly]
    strict = DataSchema.from_yaml(SCHEMA + "severity: {out_of_range: error}\n")
    assert strict.severity_of("out_of_range") == "error"
    assert validate_statistics({"eval": clean(stats, mass=mass)}, strict).errors != []


def test_infinite_values_are_out_of_range(stats, schema) -> None:
    mass = stats.numeric("mass", [3000.0] * 9, infinite=1)
    [anomaly] = validate_statistics({"eval": clean(stats, mass=mass)}, schema).anomalies
    assert anomaly.kind == "out_of_range" and anomaly.examples == ("inf",)
    assert anomaly.fraction == pytest.approx(0.1)


def test_one_outlier_among_150_000_is_counted_exactly_from_the_data(stats, schema) -> None:
    from shipyard.components.statistics import compute_dataset_statistics

    values = [3000.0 + i % 1000 for i in range(150_000)]
    values[77] = 60_000.0  # one heavy outlier stretches the histogram's first bucket
    table = pa.table({"mass": values})
    mass = compute_dataset_statistics(table).features["mass"]
    data = {"eval": clean(stats, mass=mass)}
    [estimated] = validate_statistics(data, schema).anomalies
    assert estimated.count is None and estimated.fraction > 0.05  # the old, wrong figure
    assert "estimated from the histogram" in estimated.description
    read: list[tuple[str, str]] = []

    def read_column(split: str, column: str) -> pa.ChunkedArray:
        read.append((split, column))
        return table.column(column)

    [exact] = validate_statistics(data, schema, read_column=read_column).anomalies
    assert read == [("eval", "mass")]  # only the column whose maximum is outside its range
    assert (exact.kind, exact.count, exact.examples) == ("out_of_range", 1, ("60000",))
    assert exact.fraction == 1 / 150_000
    assert "60000 (1 of its 150,000 values (0.0007%))" in exact.description


def test_count_outside_counts_each_side_and_ignores_missing_and_nan() -> None:
    from shipyard.components.constraints import count_outside

    values = pa.chunked_array([[1.0, 5.0, None], [float("nan"), float("inf"), -float("inf")]])
    assert count_outside(values, 0.0, 4.0) == 3  # 5, inf, -inf
    assert count_outside(values, None, 4.0) == 2 and count_outside(values, 2.0, None) == 2
    assert count_outside(values, None, None) == 0
    assert count_outside(pa.array([1, 2, 3, 4]), 2, 3) == 2
    assert count_outside(pa.array([True, False, True]), None, 0.5) == 2


def test_infinities_within_an_open_side_are_no_anomaly_when_counted(stats, schema) -> None:
    mass = stats.numeric("mass", [3000.0] * 9, infinite=1)
    schema_without_max = DataSchema.from_yaml(SCHEMA.replace("min: 2000, max: 6000", "min: 2000"))
    column = pa.chunked_array([[3000.0] * 9 + [float("inf")]])
    report = validate_statistics(
        {"eval": clean(stats, mass=mass)},
        schema_without_max,
        read_column=lambda split, name: column,
    )
    assert report.anomalies == ()


def test_too_many_missing(stats, schema) -> None:
    mostly_there = [3000.0] * 17 + [None] * 3
    often_missing = [3000.0] * 14 + [None] * 6
    island = stats.strings("island", [*ISLANDS[:19], None])
    ok = validate_statistics(
        {"eval": clean(stats, mass=stats.numeric("mass", mostly_there))}, schema
    )
    assert ok.anomalies == ()
    report = validate_statistics(
        {"eval": clean(stats, mass=stats.numeric("mass", often_missing), island=island)}, schema
    )
    assert kinds(report) == [("island", "too_many_missing"), ("mass", "too_many_missing")]
    required, optional = report.anomalies
    assert "'island' is required but missing in 1 of 20 rows" in required.description
    assert required.fraction == pytest.approx(0.05)
    assert "present in 70.0% of 20 rows, fewer than its min_fraction 0.8" in optional.description
    assert optional.fraction == pytest.approx(0.3)


def test_wrong_value_count(stats, schema) -> None:
    report = validate_statistics(
        {"eval": clean(stats, tags=stats.lists("tags", [0, 2, 5]))}, schema
    )
    [anomaly] = report.anomalies
    assert anomaly.kind == "wrong_value_count"
    assert "lists of 0 to 5 values in 'eval'; the schema allows 1 to 3" in anomaly.description


def test_label_absent_at_serving_is_not_an_anomaly(stats, schema) -> None:
    serving = clean(stats, species=None)
    assert validate_statistics({"serving": serving}, schema, environment="SERVING").anomalies == ()
    # present at serving anyway: not expected, not reported either
    assert (
        validate_statistics({"serving": clean(stats)}, schema, environment="SERVING").anomalies
        == ()
    )
    # the default environment is TRAINING, where the label must be there
    report = validate_statistics({"serving": serving}, schema)
    assert kinds(report) == [("species", "missing_column")]
    assert "or mark it `not_in: [TRAINING]`" in report.anomalies[0].description


def test_unknown_environment_is_a_parameter_error(stats, schema) -> None:
    with pytest.raises(
        InvalidParameterError,
        match=r"'environment' parameter of validate_examples"
        r" must be one of the schema's environments \(TRAINING, SERVING\)",
    ):
        validate_statistics({"train": clean(stats)}, schema, environment="SERVNG")


def test_failure_lists_every_anomaly(stats, schema) -> None:
    islands = ISLANDS[:18] + ["Atlantis"] * 2
    mass = stats.numeric("mass", [1000.0, 3000.0])
    report = validate_statistics(
        {"eval": clean(stats, island=stats.strings("island", islands), mass=mass, year=None)},
        schema,
    )
    error = anomalies_error(report)
    assert isinstance(error, AnomaliesFound) and isinstance(error, DataError)
    assert isinstance(error, ValueError)
    text = str(error)
    assert "2 errors and 1 warning in eval (TRAINING)" in text
    assert "[error] eval/island out_of_domain" in text
    assert "[error] eval/year missing_column" in text
    assert "[warning] eval/mass out_of_range" in text
    assert 'on_anomaly="warn"' in text


def test_feature_severity_override(stats) -> None:
    schema = DataSchema.from_yaml(
        "features:\n  island:\n    type: string\n    domain: [Biscoe]\n"
        "    severity: {out_of_domain: warning}\n"
    )
    report = validate_statistics({"eval": stats.dataset(stats.strings("island", ISLANDS))}, schema)
    assert [a.severity for a in report.anomalies] == ["warning"]
