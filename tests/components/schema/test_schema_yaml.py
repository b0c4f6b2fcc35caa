"""The schema's YAML form: round trip, and hand edits that go wrong, by line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.artifacts import (
    Comparator,
    DataSchema,
    FeatureSchema,
    NumericRange,
    Schema,
    ValueCountRange,
)
from shipyard.artifacts.schema import read_schema_file
from shipyard.components import import_schema
from shipyard.errors import DataError, NotFoundError

FULL = DataSchema(
    features={
        "species": FeatureSchema(
            "species",
            "string",
            1.0,
            domain=("Adelie", "yes", "1", "a: b"),
            not_in=("SERVING",),
            skew=Comparator(0.05, "linf"),
        ),
        "mass": FeatureSchema(
            "mass",
            "float",
            0.87,
            range=NumericRange(2700.5, None),
            drift="off",
            severity={"out_of_range": "error"},
        ),
        "year": FeatureSchema("year", "int", range=NumericRange(2007, 2009)),
        "tags": FeatureSchema("tags", "list", value_count=ValueCountRange(1, 3)),
        "many": FeatureSchema("many", "string", domain=tuple(f"v{i}" for i in range(12))),
    },
    skew=Comparator(0.1),
    drift=Comparator(0.2, "jensen_shannon"),
    severity={"new_column": "warning"},
)


def test_round_trip_keeps_every_field() -> None:
    text = FULL.to_yaml(header="line one\nline two")
    assert text.startswith("# line one\n# line two\nversion: 1\n")
    assert DataSchema.from_yaml(text) == FULL
    assert "domain: [Adelie, 'yes', '1', 'a: b']" in text  # YAML-special strings are quoted
    assert "    drift: off\n" in text and "    presence: {min_fraction: 0.87}\n" in text
    assert "  - v11\n" in text  # long domains are one value per line


def test_schema_artifact_round_trip_and_preview(tmp_path: Path) -> None:
    artifact = Schema(tmp_path / "s")
    artifact.save(FULL, header="pinned")
    assert artifact.load() == FULL
    assert (tmp_path / "s" / "schema.yaml").read_text().startswith("# pinned\n")
    preview = artifact.preview()
    assert preview["features"]["species"]["presence"] == "required"
    assert preview["features"]["mass"]["constraint"] == "[2700.5, None]"
    assert "<table>" in artifact._repr_html_()


def test_hand_written_values_are_read_as_written() -> None:
    schema = DataSchema.from_yaml(
        "features:\n  answer:\n    type: string\n    domain: [yes, no, 1, ~]\n"
    )
    assert schema.features["answer"].domain == ("yes", "no", "1", "~")
    assert schema.features["answer"].min_fraction == 0.0  # no presence: optional
    assert schema.environments == () and schema.default_environment is None
    assert schema.skew is None and schema.drift is None


def parse_error(text: str) -> str:
    with pytest.raises(DataError) as caught:
        DataSchema.from_yaml(text, source="schema.yaml")
    return str(caught.value)


def test_bad_field_name_names_line_field_and_valid_fields() -> None:
    text = "features:\n  sex:\n    type: string\n    presence: {min_fractoin: 0.9}\n"
    message = parse_error(text)
    assert message.startswith(
        "schema.yaml: line 4, field 'features.sex.presence.min_fractoin': unknown field"
    )
    assert "valid fields are min_fraction. Did you mean 'min_fraction'?" in message


def test_every_problem_is_listed_in_line_order() -> None:
    text = """\
version: 1
environments: [TRAINING, SERVING]
default_environment: TRAIN
featurs: {}
features:
  mass:
    type: flaot
    domain: [a]
    range: {min: 5, max: 1}
    not_in: [SERVNG]
  mass:
    type: int
  note: 5
  color:
    type: string
    skew: {threshold: 2}
    drift: yes
    severity: {skew: fatal}
"""
    message = parse_error(text)
    assert message.startswith("schema.yaml: 10 problems in the schema:\n")
    lines = [line.strip() for line in message.splitlines()[1:11]]
    assert lines == [
        "line 3, field 'default_environment': 'TRAIN' is not one of the environments "
        "(TRAINING, SERVING).",
        "line 4, field 'featurs': unknown field in a schema; valid fields are version, "
        "environments, default_environment, skew, drift, severity, features. "
        "Did you mean 'features'?",
        "line 7, field 'features.mass.type': got 'flaot'; valid values are int, float, string, "
        "bool, timestamp, date, list, binary, struct. Did you mean 'float'?",
        "line 9, field 'features.mass.range': min (5.0) is greater than max (1.0).",
        "line 10, field 'features.mass.not_in': unknown environment 'SERVNG'; the schema's "
        "environments are TRAINING, SERVING.",
        "line 11, field 'features.mass': 'mass' is given twice; give each key once.",
        "line 13, field 'features.note': expected a feature (a mapping of `key: value`), got '5'.",
        "line 16, field 'features.color.skew.threshold': expected a number from 0 to 1, got 2.",
        "line 17, field 'features.color.drift': got 'yes'; use off or "
        "{comparator: C, threshold: T}.",
        "line 18, field 'features.color.severity.skew': got 'fatal'; valid values are error, "
        "warning.",
    ]
    assert "A schema is a mapping with `features:`" in message  # what is valid


def test_constraints_must_fit_the_type() -> None:
    message = parse_error(
        "features:\n  n:\n    type: int\n    domain: [a]\n"
        "  s:\n    type: string\n    range: {min: 1}\n    value_count: {min: 1}\n"
    )
    assert (
        "line 4, field 'features.n.domain': a domain applies to string features, not int; "
        "use `range` for numbers." in message
    )
    assert (
        "line 7, field 'features.s.range': a range applies to int and float features, not "
        "string; use `domain` for strings." in message
    )
    assert "line 8, field 'features.s.value_count': a value_count applies to list features" in (
        message
    )


def test_yaml_syntax_errors_name_the_line() -> None:
    message = parse_error("features:\n  a: [1, 2\n  b: 3\n")
    assert message.startswith("schema.yaml: line 3, column 4: not valid YAML")
    assert "quote values" in message
    assert parse_error("").startswith("schema.yaml: line 1: the file is empty")
    assert "expected a schema (a mapping" in parse_error("- a\n- b\n")
    assert "unsupported version 2" in parse_error("version: 2\nfeatures: {}\n")


def test_import_schema_stores_the_file_verbatim(tmp_path: Path) -> None:
    source = tmp_path / "schema.yaml"
    source.write_text("# my notes\nfeatures:\n  a: {type: int, range: {max: 3}}  # why 3\n")
    artifact = Schema(tmp_path / "out")
    import_schema.fn(artifact, path=source)
    assert (tmp_path / "out" / "schema.yaml").read_text() == source.read_text()
    assert artifact.load().features["a"].range == NumericRange(None, 3.0)
    assert artifact.properties["source"] == str(source)


def test_import_schema_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=r"Schema file '.*missing.yaml' does not exist"):
        import_schema.fn(Schema(tmp_path / "out"), path=tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("features:\n  a:\n    typ: int\n")
    with pytest.raises(DataError, match=r"broken.yaml: line 3, field 'features.a.typ': unknown"):
        read_schema_file(broken)  # one problem: no follow-on complaint that `type` is missing
    broken.write_text("features:\n  a: {presence: required}\n")
    with pytest.raises(DataError, match=r"line 2, field 'features.a': no `type`; give one of"):
        read_schema_file(broken)
