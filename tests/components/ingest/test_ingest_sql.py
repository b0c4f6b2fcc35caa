"""SQL sources: DuckDB files (the embedded warehouse), SQLite, and a real PostgreSQL."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from shipyard.artifacts import Examples
from shipyard.components.ingest import ingest, load_dataset
from shipyard.errors import DataError


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute(
            "CREATE TABLE trips AS SELECT i AS id, i * 1.5::DOUBLE AS fare, "
            "CASE WHEN i % 2 = 0 THEN 'cash' ELSE 'card' END AS payment FROM range(1000) t(i)"
        )
    return path


def test_duckdb_query(warehouse: Path, examples: Examples) -> None:
    query = "SELECT * FROM trips WHERE id < 500"
    ingest.fn(examples, database=str(warehouse), query=query)
    assert sum(examples.properties["rows"].values()) == 500
    assert examples.properties["format"] == "sql"
    assert examples.properties["source"] == f"{warehouse}: {query}"
    assert {"name": "fare", "type": "float64"} in examples.properties["columns"]


def test_duckdb_queries_per_split(warehouse: Path, examples: Examples) -> None:
    ingest.fn(
        examples,
        database=warehouse,
        query={
            "train": "SELECT * FROM trips WHERE id < 800",
            "eval": "SELECT * FROM trips WHERE id >= 800",
        },
        column_types={"id": "int32"},
    )
    assert examples.properties["rows"] == {"eval": 200, "train": 800}
    assert str(examples.read("eval").schema.field("id").type) == "int32"


def test_in_memory_duckdb_reads_files(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x\n1\n2\n")
    table = load_dataset(
        "duckdb:///:memory:", query=f"SELECT sum(x) AS s FROM '{tmp_path / 'a.csv'}'"
    )
    assert table.to_pydict() == {"s": [3]}


def test_sql_error_shows_the_database_message_and_query(
    warehouse: Path, examples: Examples
) -> None:
    with pytest.raises(DataError) as caught:
        ingest.fn(examples, database=str(warehouse), query="SELECT fair FROM trips")
    message = str(caught.value)
    assert str(warehouse) in message
    assert 'Referenced column "fair" not found' in message
    assert "query: SELECT fair FROM trips" in message


def test_empty_result_is_an_error(warehouse: Path, examples: Examples) -> None:
    with pytest.raises(DataError, match="has no rows"):
        ingest.fn(examples, database=str(warehouse), query="SELECT * FROM trips WHERE id < 0")


def test_sqlite_file_is_recognised(tmp_path: Path) -> None:
    path = tmp_path / "local.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (a INTEGER, b TEXT)")
        connection.executemany("INSERT INTO t VALUES (?, ?)", [(1, "x"), (2, None)])
    connection.close()
    assert load_dataset(path, query="SELECT * FROM t").to_pydict() == {
        "a": [1, 2],
        "b": ["x", None],
    }
    assert load_dataset(f"sqlite:///{path}", query="SELECT a FROM t").num_rows == 2


def test_database_needs_a_query(warehouse: Path) -> None:
    with pytest.raises(ValueError, match="The 'query' parameter of load_dataset"):
        load_dataset(warehouse)


@pytest.fixture
def postgres_db(postgres_url: str) -> Iterator[str]:
    name = f"ingest_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE trips (id integer, fare numeric(6,2), zone text)"))
            conn.execute(
                text(
                    "INSERT INTO trips SELECT i, i * 0.5, CASE WHEN i % 3 = 0 THEN NULL "
                    "ELSE 'z' || i % 5 END FROM generate_series(1, 300) AS i"
                )
            )
        engine.dispose()
        yield url
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.mark.postgres
def test_postgres_query(postgres_db: str, examples: Examples) -> None:
    ingest.fn(
        examples,
        database=postgres_db,
        query="SELECT id, fare, zone FROM trips ORDER BY id",
        column_types={"fare": "float64"},
        split_key=["id"],
    )
    assert sum(examples.properties["rows"].values()) == 300
    train = examples.read("train")
    assert str(train.schema.field("fare").type) == "double"
    assert "password" not in str(examples.properties["source"]) or "***" in str(
        examples.properties["source"]
    )


@pytest.mark.postgres
def test_postgres_error(postgres_db: str, examples: Examples) -> None:
    with pytest.raises(DataError) as caught:
        ingest.fn(examples, database=postgres_db, query="SELECT nope FROM trips")
    message = str(caught.value)
    assert 'column "nope" does not exist' in message
    assert "query: SELECT nope FROM trips" in message
