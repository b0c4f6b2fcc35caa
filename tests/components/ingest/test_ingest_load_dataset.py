"""`load_dataset`: the CLI's reader; same sources and errors as ingest, one table out."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from shipyard.components import load_dataset as lazy_load_dataset
from shipyard.components.ingest import load_dataset
from shipyard.errors import DataError, InvalidParameterError


def test_lazy_export_of_load_dataset() -> None:
    assert lazy_load_dataset is load_dataset


def test_lazy_export_of_ingest_after_the_subpackage_is_imported() -> None:
    code = (
        "import shipyard.components.ingest\n"
        "from shipyard.components import ingest\n"
        "print(type(ingest).__name__)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "Component"


def test_importing_ingest_loads_no_data_library() -> None:
    code = (
        "import sys, shipyard.components.ingest; "
        "print([m for m in ('pyarrow', 'polars', 'duckdb', 'sqlalchemy') if m in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_unknown_option(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterError, match="The 'delimeter' parameter of load_dataset"):
        load_dataset(tmp_path / "x.csv", delimeter=";")


def test_invalid_max_rows(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterError, match="The 'max_rows' parameter"):
        load_dataset(tmp_path / "x.csv", max_rows=-1)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        load_dataset(tmp_path / "x.csv")


def test_crlf_line_endings_and_quoted_fields(tmp_path: Path) -> None:
    path = tmp_path / "windows.csv"
    path.write_bytes(b'a,b\r\n1,"x, y"\r\n2,"say ""hi"""\r\n')
    assert load_dataset(path).to_pydict() == {"a": [1, 2], "b": ["x, y", 'say "hi"']}


def test_span_pattern(tmp_path: Path) -> None:
    for span in (1, 2):
        (tmp_path / f"export-{span}.csv").write_text(f"s\n{span}\n")
    assert load_dataset(tmp_path / "export-{SPAN}.csv").to_pydict() == {"s": [2]}
    assert load_dataset(tmp_path / "export-{SPAN}.csv", span=1).to_pydict() == {"s": [1]}


def test_duckdb_file_with_query(tmp_path: Path) -> None:
    path = tmp_path / "wh.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("CREATE TABLE t AS SELECT range AS i FROM range(5)")
    table = load_dataset(path, query="SELECT * FROM t", column_types={"i": "int32"})
    assert table["i"].to_pylist() == [0, 1, 2, 3, 4]
    assert str(table.schema.field("i").type) == "int32"


def test_empty_and_na_cells_are_missing_in_text_columns(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("name,city\nada,London\nbob,\ncy,NA\n")
    table = load_dataset(path)
    assert table["city"].to_pylist() == ["London", None, None]
    assert table["city"].null_count == 2
