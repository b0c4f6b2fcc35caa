"""`shipyard stats`, the real command in subprocesses: table, JSON, HTML report, PNG, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from tests.cli.command import shipyard

pytestmark = pytest.mark.slow


@pytest.fixture
def data(tmp_path: Path) -> Path:
    (tmp_path / "train.csv").write_text(
        "fare,city,paid\n1.5,oslo,true\n2.5,rome,false\n,oslo,true\n4.0,oslo,true\n"
    )
    (tmp_path / "serving.csv").write_text("fare,city,paid\n10.0,paris,true\n20.0,oslo,false\n")
    return tmp_path


def test_table_on_stdout(data: Path) -> None:
    result = shipyard(data, "stats", "train.csv")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "train.csv: 4 rows, 3 features" in out
    for text in ("fare", "float", "25.0%", "2.667", "city", "string", "oslo (75%)", "paid", "bool"):
        assert text in out, text


def test_json_keyed_by_dataset(data: Path) -> None:
    result = shipyard(data, "stats", "train.csv", "--compare", "serving.csv", "--json")
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)
    assert list(stats) == ["train.csv", "serving.csv"]
    fare = stats["train.csv"]["features"]["fare"]
    assert fare["missing"] == 1 and fare["numeric"]["mean"] == pytest.approx(8 / 3)
    assert stats["serving.csv"]["features"]["city"]["string"]["distinct"] == 2


def test_html_report_and_png(data: Path) -> None:
    result = shipyard(
        data,
        "stats",
        "train.csv",
        "--compare",
        "serving.csv",
        "--html",
        "report.html",
        "--png",
        "fare",
        "--output",
        "fare.png",
    )
    assert result.returncode == 0, result.stderr
    page = (data / "report.html").read_text()
    assert "train.csv" in page and "serving.csv" in page and "<svg" in page
    assert "http://" not in page and "https://" not in page
    with Image.open(data / "fare.png") as image:
        assert image.format == "PNG" and image.mode == "RGB" and image.size == (800, 450)
    assert "report.html" in result.stderr and "fare.png" in result.stderr


def test_errors_are_headlines_not_tracebacks(data: Path) -> None:
    missing = shipyard(data, "stats", "nope.csv")
    assert missing.returncode == 1
    assert "Error" in missing.stderr and "nope.csv" in missing.stderr
    assert "Traceback" not in missing.stderr
    assert f"looked for {data / 'nope.csv'}" in " ".join(missing.stderr.split())
    assert "pipeline" not in missing.stderr  # no pipeline file is involved
    feature = shipyard(data, "stats", "train.csv", "--png", "nope")
    assert feature.returncode == 1 and "'fare', 'city', 'paid'" in feature.stderr
    weight = shipyard(data, "stats", "train.csv", "--weight", "w")
    assert weight.returncode == 1 and "Invalid parameter" in weight.stderr
    assert "Traceback" not in weight.stderr


def test_slices_in_the_terminal_and_the_report(data: Path) -> None:
    result = shipyard(data, "stats", "train.csv", "--slice", "city", "--html", "report.html")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "train.csv: 2 slices" in out
    sizes = out[out.index("train.csv: 2 slices") : out.index("train.csv [city=oslo]")]
    assert sizes.index("city=oslo") < sizes.index("city=rome")  # largest first
    assert "75.0%" in sizes and "25.0%" in sizes
    oslo = out[out.index("train.csv [city=oslo]: 3 rows") : out.index("train.csv [city=rome]")]
    assert "33.3%" in oslo  # one of oslo's three fares is missing
    assert "train.csv [city=rome]: 1 rows" in out
    page = (data / "report.html").read_text()
    assert "Slices of train.csv: 2 by city" in page
    assert "city=oslo" in page and "city=rome" in page


def test_json_is_the_same_bytes_whatever_the_threads(tmp_path: Path) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rows = 300_000
    rng = np.random.default_rng(11)
    table = pa.table(
        {
            "x": np.round(rng.normal(100, 30, rows), 4),
            "n": rng.integers(-20, 500, rows),
            "city": pa.array(rng.choice([f"c{i}" for i in range(40)], rows)),
            "w": np.round(rng.random(rows), 6),
        }
    )
    pacsv.write_csv(table, tmp_path / "big.csv")
    outputs = []
    for threads in ("1", "4"):
        result = shipyard(
            tmp_path,
            "stats",
            "big.csv",
            "--weight",
            "w",
            "--json",
            env={"POLARS_MAX_THREADS": threads},
        )
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]
    stats = json.loads(outputs[0])["big.csv"]
    assert stats["num_rows"] == rows
    assert stats["features"]["city"]["weighted_string"]["top_values"]
