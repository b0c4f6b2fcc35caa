"""`shipyard schema` and `shipyard validate`, the real command in subprocesses."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.cli.command import shipyard

PENGUINS = Path(__file__).resolve().parents[2] / "examples" / "penguins" / "data" / "penguins.csv"

pytestmark = pytest.mark.slow


def rewrite(source: Path, target: Path, change) -> Path:
    with source.open(newline="") as file:
        rows = list(csv.DictReader(file))
    rows = [r for r in (change(dict(row)) for row in rows) if r is not None]
    with target.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return target


@pytest.fixture(scope="module")
def inferred(tmp_path_factory: pytest.TempPathFactory) -> str:
    result = shipyard(
        tmp_path_factory.mktemp("schema"), "schema", str(PENGUINS), "--label", "species"
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def schema_file(tmp_path: Path, inferred: str) -> Path:
    (tmp_path / "schema.yaml").write_text(inferred)
    return tmp_path / "schema.yaml"


def test_schema_writes_commented_yaml_that_validates_its_own_data(
    tmp_path: Path, schema_file: Path
) -> None:
    text = schema_file.read_text()
    assert text.startswith("# Shipyard schema inferred from penguins.csv (344 rows). Curate it")
    assert "# " in text.split("version: 1")[0] and "import_schema(path=" in text
    assert "    domain: [Biscoe, Dream, Torgersen]\n" in text
    assert "    not_in: [SERVING]\n" in text
    result = shipyard(tmp_path, "validate", str(PENGUINS), "--schema", str(schema_file))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "OK: no anomalies in penguins.csv (TRAINING)."
    as_json = shipyard(tmp_path, "validate", str(PENGUINS), "-s", str(schema_file), "--json")
    assert as_json.returncode == 0 and json.loads(as_json.stdout) == []


def test_anomalies_exit_1_with_a_table_json_and_html(tmp_path: Path, schema_file: Path) -> None:
    def corrupt(row: dict[str, str]) -> dict[str, str]:
        if row["island"] == "Torgersen":
            row["island"] = "Atlantis"
        return row

    data = rewrite(PENGUINS, tmp_path / "new.csv", corrupt)
    result = shipyard(
        tmp_path, "validate", str(data), "--schema", str(schema_file), "--html", "r.html"
    )
    assert result.returncode == 1, result.stderr
    assert "1 error and 0 warnings in new.csv (TRAINING)." in result.stdout
    assert "island" in result.stdout and "out_of_domain" in result.stdout
    assert "'Atlantis'" in result.stdout
    page = (tmp_path / "r.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "Atlantis" in page
    as_json = shipyard(tmp_path, "validate", str(data), "--schema", str(schema_file), "--json")
    assert as_json.returncode == 1
    [anomaly] = json.loads(as_json.stdout)
    assert {k: anomaly[k] for k in ("feature", "kind", "severity", "examples")} == {
        "feature": "island",
        "kind": "out_of_domain",
        "severity": "error",
        "examples": ["Atlantis"],
    }
    assert anomaly["fraction"] == pytest.approx(52 / 344)
    assert "outside its domain" in anomaly["description"]


def test_serving_data_without_the_label_and_drift_from_a_baseline(
    tmp_path: Path, schema_file: Path
) -> None:
    def drop_label(row: dict[str, str]) -> dict[str, str]:
        del row["species"]
        return row

    serving = rewrite(PENGUINS, tmp_path / "serving.csv", drop_label)
    ok = shipyard(tmp_path, "validate", str(serving), "-s", str(schema_file), "-e", "SERVING")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.strip() == "OK: no anomalies in serving.csv (SERVING)."
    training = shipyard(tmp_path, "validate", str(serving), "-s", str(schema_file), "--json")
    assert training.returncode == 1
    assert [(a["feature"], a["kind"]) for a in json.loads(training.stdout)] == [
        ("species", "missing_column")
    ]
    adelie = rewrite(
        PENGUINS, tmp_path / "adelie.csv", lambda r: r if r["species"] == "Adelie" else None
    )
    against_baseline = (
        "validate",
        str(adelie),
        "-s",
        str(schema_file),
        "--baseline",
        str(PENGUINS),
    )
    warned = shipyard(tmp_path, *against_baseline)
    assert warned.returncode == 0, warned.stderr  # default comparators only warn
    assert "0 errors and" in warned.stdout and "drift" in warned.stdout
    drift = shipyard(tmp_path, *against_baseline, "--strict", "--json")
    assert drift.returncode == 1
    drifted = {a["feature"]: a for a in json.loads(drift.stdout) if a["kind"] == "drift"}
    assert drifted["species"]["value"] == pytest.approx(1 - 152 / 344)  # 44% Adelie -> 100%
    assert drifted["species"]["severity"] == "warning"
    assert drifted["species"]["threshold"] == 0.1


def test_usage_errors_exit_2(tmp_path: Path, schema_file: Path) -> None:
    missing_flag = shipyard(tmp_path, "validate", str(PENGUINS))
    assert missing_flag.returncode == 2 and "--schema" in missing_flag.stderr
    no_file = shipyard(tmp_path, "validate", str(PENGUINS), "-s", "nope.yaml")
    assert no_file.returncode == 2 and "Schema file 'nope.yaml' does not exist" in no_file.stderr
    schema_file.write_text(
        schema_file.read_text().replace("    presence: required\n", "    presense: required\n", 1)
    )
    broken = shipyard(tmp_path, "validate", str(PENGUINS), "-s", str(schema_file))
    assert broken.returncode == 2
    assert "field 'features.species.presense': unknown field in a feature" in broken.stderr
    assert "Did you mean 'presence'?" in broken.stderr and "Traceback" not in broken.stderr
    schema_file.write_text(schema_file.read_text().replace("presense", "presence"))
    bad_env = shipyard(tmp_path, "validate", str(PENGUINS), "-s", str(schema_file), "-e", "PROD")
    assert bad_env.returncode == 2
    assert "one of the schema's environments (TRAINING, SERVING). Got 'PROD'" in bad_env.stderr


def test_words_in_number_columns_are_anomalies_not_ingest_errors(
    tmp_path: Path, schema_file: Path
) -> None:
    def corrupt(row: dict[str, str]) -> dict[str, str]:
        if row["flipper_length_mm"] == "181":  # 7 of 342 present values
            row["flipper_length_mm"] = "far"
        row["year"] = f"y{row['year']}"  # the whole column
        return row

    data = rewrite(PENGUINS, tmp_path / "typos.csv", corrupt)
    result = shipyard(tmp_path, "validate", str(data), "-s", str(schema_file), "--json")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and "Error:" not in result.stderr
    found = {a["feature"]: a for a in json.loads(result.stdout)}
    assert sorted(found) == ["flipper_length_mm", "year"]
    flipper, year = found["flipper_length_mm"], found["year"]
    assert (flipper["kind"], flipper["severity"], flipper["examples"]) == (
        "wrong_type",
        "error",
        ["far"],
    )
    assert flipper["count"] == 7 and flipper["fraction"] == pytest.approx(7 / 342)
    assert (
        "7 of its 342 values in 'typos.csv' (2.0%) are not an integer: 'far'"
        in (flipper["description"])
    )
    assert (year["kind"], year["count"], year["fraction"]) == ("wrong_type", 344, 1.0)
    assert year["examples"] == ["y2009", "y2008", "y2007"]
    assert "none of its 344 values in 'typos.csv' is an integer" in year["description"]
    table = shipyard(tmp_path, "validate", str(data), "-s", str(schema_file))
    assert table.returncode == 1 and "2 errors and 0 warnings" in table.stdout
    assert "7 (2.0%)" in table.stdout and "344 (100.0%)" in table.stdout


def test_one_outlier_is_counted_exactly_and_html_says_where_it_went(
    tmp_path: Path, schema_file: Path
) -> None:
    rows = 150_000
    with PENGUINS.open(newline="") as file:
        penguins = [row for row in csv.DictReader(file) if row["body_mass_g"] != "NA"]
    with (tmp_path / "big.csv").open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(penguins[0]))
        writer.writeheader()
        for index in range(rows):
            row = dict(penguins[index % len(penguins)])
            if index == 1234:
                row["body_mass_g"] = "99000"
            writer.writerow(row)
    curated = schema_file.read_text().replace(
        "  body_mass_g:\n", "  body_mass_g:\n    severity: {out_of_range: error}\n"
    )
    schema_file.write_text(curated)
    result = shipyard(
        tmp_path, "validate", "big.csv", "-s", str(schema_file), "--html", "reports/big.html"
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "body_mass_g" in result.stdout and "1 (0.0007%)" in result.stdout
    assert "Wrote the HTML report to reports/big.html" in result.stdout
    page = (tmp_path / "reports" / "big.html").read_text()
    assert "99000" in page and "<td>1 (0.0007%)</td>" in page
    as_json = shipyard(tmp_path, "validate", "big.csv", "-s", str(schema_file), "--json")
    [anomaly] = json.loads(as_json.stdout)
    assert (anomaly["kind"], anomaly["count"], anomaly["examples"]) == (
        "out_of_range",
        1,
        ["99000"],
    )
    assert anomaly["fraction"] == pytest.approx(1 / rows)
    assert "about" not in anomaly["description"]


VALIDATED_PIPELINE = f"""
from shipyard import Pipeline
from shipyard.components import compute_statistics, import_schema, ingest, validate_examples


def penguins(source: str = "typos.csv") -> Pipeline:
    raw = ingest(source=source, splits={{"train": 8, "eval": 2}})
    statistics = compute_statistics(examples=raw.outputs.examples)
    pinned = import_schema(path={str(PENGUINS.parent.parent / "schema.yaml")!r})
    validated = validate_examples(
        statistics=statistics.outputs.statistics,
        schema=pinned.outputs.schema,
        examples=raw.outputs.examples,
    )
    return Pipeline("penguins", nodes=[validated])
"""


def test_a_run_stopped_by_validation_publishes_its_report_and_says_where(tmp_path: Path) -> None:
    def corrupt(row: dict[str, str]) -> dict[str, str]:
        if row["flipper_length_mm"] == "181":
            row["flipper_length_mm"] = "far"
        return row

    rewrite(PENGUINS, tmp_path / "typos.csv", corrupt)
    (tmp_path / "pipeline.py").write_text(VALIDATED_PIPELINE)
    result = shipyard(tmp_path, "run", "pipeline.py", "--json")
    assert result.returncode == 1, result.stderr
    assert "validate_examples failed" in result.stderr and "wrong_type" in result.stderr
    assert "Bad input data" not in result.stderr  # ingest read the column as text
    run = json.loads(result.stdout)
    validation = run["nodes"]["validate_examples"]
    assert validation["state"] == "failed"
    anomalies = validation["outputs"]["anomalies"]
    report = Path(anomalies["uri"]) / "report.html"
    printed = " ".join(result.stderr.split())  # the panel may wrap the long path
    assert f"The anomalies report: {report}" in printed
    assert "&#x27;far&#x27;" in report.read_text() or "'far'" in report.read_text()
    shown = json.loads(
        shipyard(tmp_path, "artifacts", "show", str(anomalies["id"]), "--json").stdout
    )
    assert shown["producer"]["node"] == "validate_examples"
    examples = Path(run["nodes"]["ingest"]["outputs"]["examples"]["uri"])
    far = {  # words per split, as ingest wrote them (the column is text in every split)
        split: pq.read_table(examples / split).column("flipper_length_mm").to_pylist().count("far")
        for split in ("train", "eval")
    }
    assert sum(far.values()) == 7
    found = shown["preview"]["anomalies"]
    assert {a["split"]: a["count"] for a in found} == {s: n for s, n in far.items() if n}
    assert {(a["feature"], a["kind"], tuple(a["examples"])) for a in found} == {
        ("flipper_length_mm", "wrong_type", ("far",))
    }


# Unreadable data: `validate` keeps 1 for "anomalies found", as `test_usage_errors_exit_2`.
EXIT_BAD_INPUT = {"stats": 1, "schema": 1, "validate": 2}


def test_no_data_command_reads_part_of_a_file_and_says_ok(tmp_path: Path) -> None:
    """Issue 10: one stray quote in a file past one read block lost rows and said "OK"."""
    rows = [f"{i},{i * 0.5},name{i % 13},{i % 7}" for i in range(336_776)]
    good = tmp_path / "good.csv"
    good.write_text("id,x,name,k\n" + "\n".join(rows) + "\n")
    assert shipyard(tmp_path, "schema", "good.csv", "-o", "schema.yaml").returncode == 0
    rows[200_000] = '200000,1.0,name,"3'
    (tmp_path / "stray.csv").write_text("id,x,name,k\n" + "\n".join(rows) + "\n")
    for command in (("stats",), ("schema",), ("validate", "--schema", "schema.yaml")):
        result = shipyard(tmp_path, command[0], "stray.csv", *command[1:])
        assert result.returncode == EXIT_BAD_INPUT[command[0]], (command, result.stderr)
        error = " ".join(result.stderr.split())
        assert "stray.csv, column 'k': line 200002 opens a quoted value" in error, error
        assert "Traceback" not in result.stderr and "no anomalies" not in result.stdout


def test_a_word_past_row_50000_is_named_before_the_schema_calls_it_text(tmp_path: Path) -> None:
    rows = [f"{i},{i * 0.5}" for i in range(60_000)]
    rows[50_001] = "50001,abc"
    (tmp_path / "late.csv").write_text("id,x\n" + "\n".join(rows) + "\n")
    result = shipyard(tmp_path, "schema", "late.csv")
    assert result.returncode == 0, result.stderr
    warning = " ".join(result.stderr.split())
    assert "late.csv, column 'x': mixed types" in warning and "line 50003 has 'abc'" in warning


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\x1f\x8b\x08\x00" + bytes(range(256)), "gzip-compressed"),
        (bytes(range(256)) * 4, "binary, not CSV text"),
        (b"caf\xe9,b\n1,2\n", "line 1 is not valid 'utf-8' text"),
    ],
    ids=["gzip", "binary", "latin-1 header"],
)
def test_bytes_that_are_not_csv_are_bad_input_not_internal_errors(
    tmp_path: Path, schema_file: Path, content: bytes, expected: str
) -> None:
    (tmp_path / "data.csv").write_bytes(content)
    for command in (("stats",), ("schema",), ("validate", "--schema", str(schema_file))):
        result = shipyard(tmp_path, command[0], "data.csv", *command[1:])
        assert result.returncode == EXIT_BAD_INPUT[command[0]], (command, result.stderr)
        error = " ".join(result.stderr.split())
        assert "Bad input data" in error and "data.csv" in error and expected in error, error
        assert "Internal error" not in error and "Traceback" not in error
