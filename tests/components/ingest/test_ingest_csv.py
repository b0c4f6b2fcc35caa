"""CSV reading: types, overrides, compression, delimiters, headers, globs and directories."""

from __future__ import annotations

import bz2
import gzip
from pathlib import Path

import pyarrow as pa
import pytest

from shipyard.artifacts import Examples
from shipyard.components.ingest import ingest, load_dataset
from shipyard.errors import DataError

TAXI = Path(__file__).parents[3] / "examples" / "taxi" / "data" / "chicago_taxi_tips.csv"


def rows_of(examples: Examples) -> int:
    return sum(examples.read(split).num_rows for split in examples.splits)


def test_taxi_csv_becomes_train_and_eval_with_properties(examples: Examples) -> None:
    ingest.fn(examples, source=TAXI)
    props = examples.properties
    assert examples.splits == ["eval", "train"]
    assert props["rows"]["train"] + props["rows"]["eval"] == 10_000
    assert props["rows"] == {s: examples.read(s).num_rows for s in examples.splits}
    assert 0.15 < props["rows"]["eval"] / 10_000 < 0.25
    assert props["format"] == "csv"
    assert props["source"] == str(TAXI)
    assert props["files"] == 1
    assert {"name": "distance", "type": "float64"} in props["columns"]
    assert {"name": "hour", "type": "int64"} in props["columns"]
    assert props["split"]["method"] == "hash"
    assert examples.read("train").schema.field("tip").type == pa.string()


def test_column_types_override_inference(tmp_path: Path, examples: Examples) -> None:
    path = tmp_path / "zips.csv"
    path.write_text("zip,fare\n60601,1\n02134,2\n60602,3\n")
    ingest.fn(examples, source=path, column_types={"zip": "string", "fare": "float"})
    table = load_dataset(path, column_types={"zip": "string"})
    assert table["zip"].to_pylist() == ["60601", "02134", "60602"]
    assert {"name": "zip", "type": "string"} in examples.properties["columns"]
    assert {"name": "fare", "type": "float64"} in examples.properties["columns"]
    both = pa.concat_tables([examples.read(s) for s in examples.splits])
    assert sorted(both["zip"].to_pylist()) == ["02134", "60601", "60602"]


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".zst"])
def test_compression_is_detected_by_extension(tmp_path: Path, suffix: str) -> None:
    text = b"a,b\n1,x\n2,y\n3,z\n"
    path = tmp_path / f"data.csv{suffix}"
    if suffix == ".gz":
        path.write_bytes(gzip.compress(text))
    elif suffix == ".bz2":
        path.write_bytes(bz2.compress(text))
    else:
        with pa.output_stream(str(path), compression="zstd") as stream:
            stream.write(text)
    table = load_dataset(path)
    assert table.to_pydict() == {"a": [1, 2, 3], "b": ["x", "y", "z"]}


@pytest.mark.parametrize(("delimiter", "name"), [("\t", "data.tsv"), (";", "data.csv")])
def test_delimiter_is_detected_from_the_header(tmp_path: Path, delimiter: str, name: str) -> None:
    path = tmp_path / name
    path.write_text(f"a{delimiter}b\n1{delimiter}2,5\n")
    table = load_dataset(path)
    assert table.column_names == ["a", "b"]
    assert table["b"].to_pylist() == ["2,5"]


def test_explicit_delimiter_quote_and_null_values(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("a|b\n1|'x|y'\n-|z\n")
    table = load_dataset(path, delimiter="|", quote_char="'", null_values=["-"])
    assert table.to_pydict() == {"a": [1, None], "b": ["x|y", "z"]}


def test_no_header_with_column_names(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("1,x\n2,y\n")
    assert load_dataset(path, header=False).column_names == ["column_1", "column_2"]
    named = load_dataset(path, header=False, column_names=["n", "s"])
    assert named.to_pydict() == {"n": [1, 2], "s": ["x", "y"]}


def test_byte_order_mark_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfa,b\n1,2\n")
    assert load_dataset(path).column_names == ["a", "b"]


def test_encoding_parameter_transcodes(tmp_path: Path, examples: Examples) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("city,n\nZürich,1\nGenève,2\n".encode("latin-1"))
    ingest.fn(examples, source=path, encoding="latin-1", splits={"all": 1})
    assert examples.read("all")["city"].to_pylist() == ["Zürich", "Genève"]


def test_many_chunks_give_the_same_table(tmp_path: Path, small_chunks: None) -> None:
    path = tmp_path / "data.csv"
    lines = [f"{i},{i * 0.5},name {i}," + ("" if i % 7 else "NA") for i in range(500)]
    path.write_text("i,half,name,maybe\n" + "\n\n".join(lines) + "\n")
    table = load_dataset(path)
    assert table.num_rows == 500
    assert table["i"].to_pylist() == list(range(500))
    assert table.schema.field("maybe").type == pa.string()  # empty in the first chunk
    assert table["half"].type == pa.float64()


def test_glob_and_directory_read_every_file_in_order(tmp_path: Path, examples: Examples) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    (folder / "b.csv").write_text("x,y\n3,c\n")
    (folder / "a.csv").write_text("x,y\n1,a\n2,b\n")
    (folder / "c.csv").write_text("y,x\nd,4\n")  # same columns, another order
    (folder / "_SUCCESS").write_text("")
    (folder / ".hidden.csv").write_text("nonsense")
    assert load_dataset(folder).to_pydict() == {"x": [1, 2, 3, 4], "y": ["a", "b", "c", "d"]}
    assert load_dataset(folder / "*.csv")["x"].to_pylist() == [1, 2, 3, 4]
    ingest.fn(examples, source=folder / "[ab].csv")
    assert examples.properties["files"] == 2
    assert rows_of(examples) == 3


def test_later_file_with_other_columns_is_named(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x,y\n1,a\n")
    (tmp_path / "b.csv").write_text("x,z\n2,b\n")
    with pytest.raises(DataError, match=r"b\.csv, line 1.*missing y; extra z"):
        load_dataset(tmp_path / "*.csv")


def test_a_later_file_widens_the_inferred_type(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "a.csv").write_text("x\n1\n2\n")
    (tmp_path / "b.csv").write_text("x\n3\n4.5\n")
    table = load_dataset(tmp_path / "*.csv")  # a float among integers: floats
    assert table.schema.field("x").type == "double" and table["x"].to_pylist() == [1, 2, 3, 4.5]
    assert not caplog.records
    (tmp_path / "c.csv").write_text("x\n5\nfive\n")
    table = load_dataset(tmp_path / "*.csv")  # then a word: text, with a warning
    assert table["x"].to_pylist() == ["1", "2", "3", "4.5", "5", "five"]
    [warning] = [r.getMessage() for r in caplog.records]
    assert "c.csv, column 'x'" in warning and "line 3 has 'five'" in warning


def test_a_declared_type_is_kept_and_a_misfit_named(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x\n1\n2\n")
    (tmp_path / "b.csv").write_text("x\n3\n4.5\n")
    with pytest.raises(DataError) as caught:
        load_dataset(tmp_path / "*.csv", column_types={"x": "int64"})
    message = str(caught.value)
    assert "b.csv" in message and "line 3" in message and "'x'" in message
    assert "column_types={'x': 'string'}" in message


def test_load_dataset_max_rows(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("a\n" + "".join(f"{i}\n" for i in range(100)))
    table = load_dataset(path, max_rows=10)
    assert table["a"].to_pylist() == list(range(10))


def test_load_dataset_header_only_gives_an_empty_table(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("a,b\n")
    table = load_dataset(path)
    assert table.num_rows == 0 and table.column_names == ["a", "b"]


def test_newlines_in_values_when_allowed(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text('a,b\n1,"two\nlines"\n2,x\n')
    table = load_dataset(path, newlines_in_values=True)
    assert table["b"].to_pylist() == ["two\nlines", "x"]


def test_dictionary_column_type(tmp_path: Path, examples: Examples) -> None:
    path = tmp_path / "data.csv"
    path.write_text("c,n\n" + "".join(f"{'ab'[i % 2]},{i}\n" for i in range(50)))
    ingest.fn(examples, source=path, column_types={"c": "category"}, splits={"all": 1})
    table = examples.read("all")
    assert pa.types.is_dictionary(table.schema.field("c").type)
    assert sorted(set(table["c"].to_pylist())) == ["a", "b"]
