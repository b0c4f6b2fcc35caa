"""Splitting: stable hash buckets (checked against a plain-Python reference), keys, columns."""

from __future__ import annotations

import hashlib
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from shipyard.artifacts import Examples
from shipyard.components.ingest import ingest
from shipyard.components.ingest.splits import GOLDEN, NULL_HASH, HashAssigner, HashSplit
from shipyard.errors import DataError

MASK = 2**64 - 1


def mix64(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def reference_hash(row: dict[str, Any], types: dict[str, str]) -> int:
    """The module docstring's definition, in plain Python, row by row."""
    texts = [row[name] for name in row if types[name] == "text"]
    h: int | None = None
    if texts:
        joined = "\x1f".join("\x00" if value is None else value for value in texts)
        h = int.from_bytes(hashlib.md5(joined.encode()).digest()[:8], "little")
    for name, value in row.items():
        kind = types[name]
        if kind == "text":
            continue
        if value is None:
            unsigned = NULL_HASH
        elif kind == "float":
            unsigned = struct.unpack("<Q", struct.pack("<d", value))[0]
        else:
            unsigned = int(value) & MASK
        h = unsigned if h is None else (h * GOLDEN + unsigned) & MASK
    assert h is not None
    return mix64(h)


BOTH_WAYS = pytest.mark.parametrize(
    "python_rows", [0, 10_000], ids=["duckdb", "hashlib"]
)  # text hashed by DuckDB (every batch), or by hashlib (batches up to 10,000 rows)


@BOTH_WAYS
def test_vectorised_hash_matches_the_plain_python_definition(python_rows: int) -> None:
    table = pa.table(
        {
            "i": pa.array([1, -5, None, 2**62, 0], pa.int64()),
            "s": ["a", None, "héllo", "", "x\x1fy"],
            "f": [0.5, float("nan"), -2.25, None, 1e300],
            "b": [True, False, None, True, False],
            "t": ["u", "v", "w", None, "z"],
            "small": pa.array([1, 2, 3, 4, None], pa.int8()),
        }
    )
    types = {"i": "int", "s": "text", "f": "float", "b": "int", "t": "text", "small": "int"}
    assigner = HashAssigner(HashSplit({"train": 8, "eval": 2}), python_hash_max_rows=python_rows)
    try:
        hashes = assigner.hash(table).to_pylist()
        indices = assigner.assign(table).to_pylist()
    finally:
        assigner.close()
    for row, got, index in zip(table.to_pylist(), hashes, indices, strict=True):
        expected = reference_hash(row, types)
        assert got == expected
        assert index == (0 if expected % 10 < 2 else 1)  # "eval" sorts first: buckets 0-1


@BOTH_WAYS
def test_key_columns_only_are_hashed(python_rows: int) -> None:
    table = pa.table({"user": ["a", "a", "b"], "value": [1, 2, 3]})
    assigner = HashAssigner(
        HashSplit({"x": 1, "y": 1}, ("user",)), python_hash_max_rows=python_rows
    )
    try:
        hashes = assigner.hash(table).to_pylist()
    finally:
        assigner.close()
    assert hashes[0] == hashes[1] == reference_hash({"user": "a"}, {"user": "text"})


def test_both_text_hashes_agree_on_many_strings() -> None:
    """Unicode, empty strings, nulls, separators and large strings: one hash either way."""
    values = [None, "", "\x00", "\x1f", "é", "日本", "a\x1fb", *[f"row {i}" for i in range(500)]]
    table = pa.table({"s": values, "t": pa.array(list(reversed(values)), pa.large_string())})
    split = HashSplit({"train": 8, "eval": 2})
    by_duckdb = HashAssigner(split, python_hash_max_rows=0)
    by_hashlib = HashAssigner(split)
    try:
        assert by_hashlib.hash(table).to_pylist() == by_duckdb.hash(table).to_pylist()
    finally:
        by_duckdb.close()


def test_a_small_ingest_imports_no_duckdb(tmp_path: Path) -> None:
    source = make_csv(tmp_path / "data.csv", rows=300)
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from shipyard.artifacts import Examples\n"
        "from shipyard.components.ingest import ingest\n"
        f"ingest.fn(Examples(Path({str(tmp_path / 'out')!r})), source={str(source)!r},\n"
        "          splits={'train': 8, 'eval': 2})\n"
        "print('duckdb' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def make_csv(path: Path, rows: int = 2000) -> Path:
    path.write_text(
        "user,amount,label\n" + "".join(f"u{i % 97},{i * 1.5},{i % 2}\n" for i in range(rows))
    )
    return path


def test_hash_split_is_stable_and_proportional(tmp_path: Path) -> None:
    source = make_csv(tmp_path / "data.csv")
    first, second = Examples(tmp_path / "one"), Examples(tmp_path / "two")
    ingest.fn(first, source=source, splits={"train": 8, "eval": 2})
    ingest.fn(second, source=source, splits={"eval": 2, "train": 8})  # order does not matter
    for split in ("train", "eval"):
        assert first.read(split).equals(second.read(split))
    rows = first.properties["rows"]
    assert rows["train"] + rows["eval"] == 2000
    assert 300 < rows["eval"] < 500
    assert first.properties["split"] == {
        "method": "hash",
        "buckets": {"eval": 2, "train": 8},
        "key": "row",
        "hash": "md5",
    }


def test_three_splits_and_a_key(tmp_path: Path, examples: Examples, small_chunks: None) -> None:
    source = make_csv(tmp_path / "data.csv")
    ingest.fn(examples, source=source, splits={"a": 1, "b": 1, "c": 2}, split_key=["user"])
    assert examples.splits == ["a", "b", "c"]
    users = [set(examples.read(split)["user"].to_pylist()) for split in examples.splits]
    assert all(users)
    assert not (users[0] & users[1]) and not (users[0] & users[2]) and not (users[1] & users[2])
    assert examples.properties["split"]["key"] == ["user"]


def test_empty_hash_split_still_exists(tmp_path: Path, examples: Examples) -> None:
    source = tmp_path / "one.csv"
    source.write_text("a\n1\n")
    ingest.fn(examples, source=source)
    assert examples.splits == ["eval", "train"]
    assert sorted(examples.properties["rows"].values()) == [0, 1]
    assert examples.read("eval").schema == examples.read("train").schema


def test_split_column(tmp_path: Path, examples: Examples, small_chunks: None) -> None:
    source = tmp_path / "data.csv"
    source.write_text(
        "x,split\n" + "".join(f"{i},{'test' if i % 4 else 'train'}\n" for i in range(40))
    )
    ingest.fn(examples, source=source, split_column="split")
    assert examples.splits == ["test", "train"]
    assert examples.properties["rows"] == {"test": 30, "train": 10}
    assert examples.read("train").column_names == ["x"]
    assert examples.read("train")["x"].to_pylist() == list(range(0, 40, 4))
    assert examples.properties["split"] == {"method": "column", "column": "split"}


@pytest.mark.parametrize(
    ("value", "pattern"), [("", "row 2, column 'split'"), ("a/b", "'a/b' cannot")]
)
def test_bad_split_column_values(
    tmp_path: Path, examples: Examples, value: str, pattern: str
) -> None:
    source = tmp_path / "data.csv"
    source.write_text(f"x,split\n1,train\n2,{value}\n")
    with pytest.raises(DataError, match=pattern.replace("(", r"\(").replace("/", "/")):
        ingest.fn(examples, source=source, split_column="split")


def test_one_source_per_split(tmp_path: Path, examples: Examples) -> None:
    train = tmp_path / "train.csv"
    train.write_text("a,b\n1,x\n2,y\n")
    evaluation = tmp_path / "eval.parquet"
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"b": ["z"], "a": [3]}), evaluation)
    ingest.fn(examples, source={"train": train, "eval": evaluation})
    assert examples.properties["rows"] == {"eval": 1, "train": 2}
    assert examples.read("eval").column_names == ["a", "b"]
    assert examples.properties["split"] == {"method": "inputs", "splits": ["eval", "train"]}
    assert examples.properties["source"] == {"train": str(train), "eval": str(evaluation)}


def test_one_source_per_split_must_share_columns(tmp_path: Path, examples: Examples) -> None:
    (tmp_path / "train.csv").write_text("a,b\n1,x\n")
    (tmp_path / "eval.csv").write_text("a,c\n1,x\n")
    with pytest.raises(DataError, match="missing b; extra c"):
        ingest.fn(examples, source={"train": tmp_path / "train.csv", "eval": tmp_path / "eval.csv"})
