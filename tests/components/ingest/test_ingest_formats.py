"""Parquet, Arrow IPC and JSON-lines sources, and formats told by extension."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

from shipyard.artifacts import Examples
from shipyard.components.ingest import ingest, load_dataset
from shipyard.errors import DataError

TABLE = pa.table(
    {"id": [1, 2, 3, 4], "name": ["a", "b", None, "d"], "score": [0.5, 1.5, 2.5, None]}
)


def test_parquet_directory(tmp_path: Path, examples: Examples) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    pq.write_table(TABLE.slice(0, 2), folder / "part-0.parquet")
    pq.write_table(TABLE.slice(2), folder / "part-1.parquet")
    ingest.fn(examples, source=folder, splits={"all": 1})
    assert examples.read("all").equals(TABLE)
    assert examples.properties["format"] == "parquet"
    assert examples.properties["files"] == 2


def test_arrow_ipc_file_and_stream(tmp_path: Path) -> None:
    feather.write_feather(TABLE, tmp_path / "data.feather")
    with pa.ipc.new_stream(str(tmp_path / "data.arrow"), TABLE.schema) as writer:
        writer.write_table(TABLE)
    assert load_dataset(tmp_path / "data.feather").equals(TABLE)
    assert load_dataset(tmp_path / "data.arrow").equals(TABLE)


def test_json_lines(tmp_path: Path, examples: Examples, small_chunks: None) -> None:
    path = tmp_path / "data.jsonl"
    lines = [f'{{"id": {i}, "name": "n{i}", "tags": ["x"]}}' for i in range(100)]
    path.write_text("\n".join(lines) + "\n")
    ingest.fn(examples, source=path, splits={"all": 1})
    table = examples.read("all")
    assert table["id"].to_pylist() == list(range(100))
    assert table.schema.field("tags").type == pa.list_(pa.string())
    assert examples.properties["format"] == "jsonl"


def test_json_type_change_names_the_line(tmp_path: Path, small_chunks: None) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text("".join(f'{{"a": {i}}}\n' for i in range(50)) + '{"a": "abc"}\n')
    with pytest.raises(DataError, match=r"data\.jsonl, column 'a': mixed types: line 51"):
        load_dataset(path)


def test_broken_json_line(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text('{"a": 1}\n{"a": 2\n{"a": 3}\n')
    with pytest.raises(DataError, match=r"data\.jsonl: line 2"):
        load_dataset(path)


def test_column_types_cast_parquet_and_name_the_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "data.parquet"
    pq.write_table(pa.table({"code": ["1", "2", "x3"]}), path)
    assert load_dataset(path, column_types={"code": "string"})["code"].to_pylist() == [
        "1",
        "2",
        "x3",
    ]
    with pytest.raises(
        DataError, match=r"data\.parquet, row 3, column 'code': cannot convert 'x3'"
    ):
        load_dataset(path, column_types={"code": "int64"})


def test_parquet_files_with_different_columns(tmp_path: Path) -> None:
    pq.write_table(TABLE, tmp_path / "a.parquet")
    pq.write_table(TABLE.drop_columns(["score"]), tmp_path / "b.parquet")
    with pytest.raises(DataError, match=r"b\.parquet: the file lacks the columns score"):
        load_dataset(tmp_path / "*.parquet")


def test_not_really_parquet(tmp_path: Path) -> None:
    path = tmp_path / "data.parquet"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match=r"data\.parquet: cannot read the file as Parquet"):
        load_dataset(path)
    empty = tmp_path / "empty.parquet"
    empty.write_bytes(b"")
    with pytest.raises(DataError, match=r"empty\.parquet: the file is empty \(0 bytes\)"):
        load_dataset(empty)


def test_format_parameter_overrides_extension(tmp_path: Path) -> None:
    path = tmp_path / "data.log"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match=r"cannot tell the format of 'data\.log'.*format="):
        load_dataset(path)
    assert load_dataset(path, format="csv").to_pydict() == {"a": [1], "b": [2]}


def test_mixed_formats_in_a_directory(tmp_path: Path) -> None:
    pq.write_table(TABLE, tmp_path / "a.parquet")
    (tmp_path / "b.csv").write_text("id\n1\n")
    with pytest.raises(DataError, match="several formats"):
        load_dataset(tmp_path)
