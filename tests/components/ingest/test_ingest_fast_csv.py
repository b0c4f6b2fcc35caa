"""The Polars fast path of `load_dataset` gives exactly what the careful reader gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.components.ingest import fast_csv, load_dataset
from shipyard.errors import DataError

CSV = "id,price,name,flag,day,note\n" + "".join(
    f"{i},{i * 1.5},item {i % 7},{'true' if i % 2 else 'false'},"
    f"2024-01-{i % 28 + 1:02d},{('', 'NA', 'note')[min(i % 5, 2)]}\n"
    for i in range(3000)
)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    seen: list[Path] = []
    original = fast_csv.read_fast

    def spy(source: fast_csv.FileSource) -> object:
        seen.extend(source.files)
        return original(source)

    monkeypatch.setattr(fast_csv, "read_fast", spy)
    return seen


def test_fast_path_matches_the_careful_reader(tmp_path: Path, calls: list[Path]) -> None:
    path = tmp_path / "items.csv"
    path.write_text(CSV)
    fast = load_dataset(path)
    assert calls == [path]
    careful = load_dataset(path, max_rows=10**9)  # max_rows always takes the careful reader
    assert fast.schema == careful.schema
    assert fast.equals(careful)
    assert fast["note"].null_count == 1200  # "" and "NA" are missing in both


def test_problems_are_still_reported_precisely(tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    rows = [f"{i},{i}" for i in range(20_000)]
    rows[15_000] = "15000,\xff"
    path.write_bytes(("id,amount\n" + "\n".join(rows) + "\n").encode("latin-1"))
    with pytest.raises(DataError, match=r"late\.csv.*'amount'.*line 15002 is not valid UTF-8"):
        load_dataset(path)


def test_a_word_among_numbers_makes_the_column_text_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "late.csv"
    rows = [f"{i},{i}" for i in range(20_000)]
    rows[15_000] = "15000,abc"
    path.write_text("id,amount\n" + "\n".join(rows) + "\n")
    table = load_dataset(path)
    assert table.schema.field("amount").type == "string"
    assert table["amount"][15_000].as_py() == "abc" and table["amount"][3].as_py() == "3"
    [warning] = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert "late.csv, column 'amount': mixed types" in warning
    assert "line 15002 has 'abc'" in warning  # the line, as the careful reader names it
    assert "read as text" in warning and "wrong_type" in warning


@pytest.mark.parametrize(
    ("text", "options"),
    [
        ("a;b\n1;2\n", {"delimiter": ";"}),
        ("a,b\n1,2\n", {"column_types": {"a": "string"}}),
    ],
)
def test_fast_path_stands_aside_where_it_could_differ(
    tmp_path: Path, calls: list[Path], text: str, options: dict[str, object]
) -> None:
    path = tmp_path / "x.csv"
    path.write_text(text)
    table = load_dataset(path, **options)
    assert calls == []
    assert table.num_rows == 2 or options
