"""Polars reads a plain CSV file only where it gives Arrow's table; else Arrow reads it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from shipyard.components.ingest import load_dataset, polars_csv
from shipyard.components.ingest.fast_csv import INFERENCE_BYTES
from shipyard.errors import DataError

if TYPE_CHECKING:
    from pathlib import Path

NULLS = list(pacsv.ConvertOptions().null_values)
# Every kind of value the path reads: signs, exponents, infinities, Arrow's null strings.
PLAIN = "id,price,ratio,name,note\n" + "".join(
    f"{i - 500},{(i - 250) * 1.25e-3:g},{('-inf', 'inf', '1e300', '.5', '7.')[i % 5]},"
    f"item-{i % 7},{('', 'NA', 'NaN', 'null', 'n/a', 'note')[i % 6]}\n"
    for i in range(3000)
)


@pytest.fixture
def outcomes(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each `read_plain` call read the file (True) or stood aside (False)."""
    seen: list[bool] = []
    original = polars_csv.read_plain

    def spy(path: Path, head: bytes, null_values: list[str]) -> pa.Table | None:
        table = original(path, head, null_values)
        seen.append(table is not None)
        return table

    monkeypatch.setattr(polars_csv, "read_plain", spy)
    return seen


def careful(path: Path) -> pa.Table:
    return load_dataset(path, max_rows=10**9)  # max_rows always takes the careful reader


def test_polars_reads_plain_files_exactly_as_arrow(tmp_path: Path, outcomes: list[bool]) -> None:
    path = tmp_path / "plain.csv"
    path.write_text(PLAIN)
    table = load_dataset(path)
    assert outcomes == [True]
    assert table.schema == careful(path).schema
    assert table.equals(careful(path))
    assert [str(t) for t in table.schema.types] == ["int64", "double", "double", "string", "string"]
    assert table["note"].null_count == 2500  # "", NA, NaN, null, n/a are missing
    assert table["ratio"][0].as_py() == float("-inf") and table["id"][0].as_py() == -500


def test_an_empty_column_is_text_and_an_unterminated_last_line_a_row(
    tmp_path: Path, outcomes: list[bool]
) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("a,b\n1,\n2,\n3,")
    table = load_dataset(path)
    assert outcomes == [True]
    assert table.equals(careful(path))
    assert table.schema.field("b").type == pa.string() and table.num_rows == 3


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("a,b\n1,x\n\n2,y\n", "a blank line: Polars makes a row of nulls of it"),
        ('a,b\n1,"x, y"\n2,y\n', "a quote"),
        ("a,b\r\n1,x\r\n2,y\r\n", "a carriage return"),
        ("a,b\n1, x\n2,y\n", "a field starting with a space"),
        ("a,b\n1,x\n2,\ty\n", "a field starting with a tab"),
        ("a\n1\n2\n", "one column: a blank line and an empty value look alike"),
        ("\ufeffa,b\n1,x\n", "a byte-order mark"),
        ("a,b\n1,2024-01-02\n", "a date, which Polars parses otherwise"),
        ("a,b\n1,true\n", "a boolean"),
    ],
)
def test_polars_stands_aside_where_it_could_differ(
    tmp_path: Path, outcomes: list[bool], text: str, why: str
) -> None:
    path = tmp_path / "odd.csv"
    path.write_text(text, encoding="utf-8")
    table = load_dataset(path)
    assert outcomes == [False], why
    assert table.equals(careful(path)), why


def test_a_short_row_is_still_refused_with_its_line(tmp_path: Path, outcomes: list[bool]) -> None:
    path = tmp_path / "short.csv"
    path.write_text("a,b,c\n1,x,2\n3,y\n4,z,5\n")  # Polars alone fills line 3 with a null
    with pytest.raises(DataError, match=r"short\.csv.*line 3"):
        load_dataset(path)
    assert outcomes == [False]


@pytest.mark.parametrize(
    ("late", "column_type"),
    [
        ("+5", "double"),  # Arrow reads "+5" as a float, Polars as an integer
        (" ", "string"),  # Arrow keeps a blank number as text, Polars reads it as missing
        ("", "string"),  # the first 4 MB had no value: Arrow types it from later blocks
    ],
)
def test_a_value_after_the_first_4_mb_reads_as_the_careful_reader_reads_it(
    tmp_path: Path, outcomes: list[bool], late: str, column_type: str
) -> None:
    path = tmp_path / "late.csv"
    filler = "" if late == "" else "1"
    rows = [f"{i},{filler}" for i in range(INFERENCE_BYTES // 5)]
    rows.append(f"{len(rows)},{late or 'word'}")
    path.write_text("id,value\n" + "\n".join(rows) + "\n")
    table = load_dataset(path)
    assert outcomes == [False]
    assert str(table.schema.field("value").type) == column_type
    assert table.equals(careful(path))


@pytest.mark.parametrize("chunk_bytes", [3, 4, 5, 1 << 20])
def test_scan_counts_across_chunk_boundaries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_bytes: int
) -> None:
    monkeypatch.setattr(polars_csv, "_CHUNK_BYTES", chunk_bytes)
    path = tmp_path / "scan.csv"
    path.write_bytes(b'a,b\n1, x\n\tq,+2\n"z",y')
    text = polars_csv.scan_plain(path)
    assert text == polars_csv.PlainText(
        lines=4, delimiters=4, quote=True, carriage_return=False, plus=True, blank_starts=2
    )
    assert not text.fits(rows=3, columns=2, integers=False)


def test_fits_only_one_row_per_line_with_every_field() -> None:
    text = polars_csv.PlainText(
        lines=3, delimiters=6, quote=False, carriage_return=False, plus=True, blank_starts=0
    )
    assert text.fits(rows=2, columns=3, integers=False)
    assert not text.fits(rows=2, columns=3, integers=True)  # "+1" in an integer column
    assert not text.fits(rows=3, columns=3, integers=False)  # a blank line made a row
    assert not text.fits(rows=2, columns=4, integers=False)  # a field missing somewhere


@pytest.mark.parametrize(
    "values",
    [
        ["1.5", "nan", "2.5"],  # Polars alone reads "nan" as NaN; Arrow as missing
        ["1.5", "NAN", "-nan"],  # "NAN" is no null string: Arrow reads a NaN
        ["1", "NA", "3"],  # Polars alone refuses "NA" in an integer column
        ["x", "NULL", "#N/A"],  # text: both are missing
    ],
)
def test_every_null_string_of_arrow_is_missing_and_only_those(
    tmp_path: Path, outcomes: list[bool], values: list[str]
) -> None:
    path = tmp_path / "nulls.csv"
    path.write_text("id,value\n" + "".join(f"{i},{v}\n" for i, v in enumerate(values)))
    table = load_dataset(path)
    assert outcomes == [True]
    expected = careful(path)
    assert table.schema == expected.schema
    assert repr(table.to_pydict()) == repr(expected.to_pydict())  # NaN == NaN here
    assert table["value"].null_count == expected["value"].null_count > 0
