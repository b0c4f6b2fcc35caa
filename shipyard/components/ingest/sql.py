"""SQL sources: a query against a DuckDB file (the embedded warehouse) or a SQLAlchemy URL.

`database` is a path to a DuckDB file (a SQLite file is recognised by its header and read
through SQLAlchemy), a URL such as `postgresql://user@host/db` or `sqlite:///file.db`, or
None for an in-memory DuckDB that can query files itself (`SELECT * FROM 'data/*.parquet'`).
Rows stream in batches: DuckDB hands Arrow batches directly; other databases are read with
a server-side cursor `BATCH_ROWS` rows at a time. The first batch fixes the schema (a
column that is entirely NULL there is read as text); `column_types` overrides it.
A failing query raises `DataError` with the database's own message and the query.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.components.ingest.columns import cast_columns, check_named, check_unique
from shipyard.components.ingest.sources import where_missing
from shipyard.components.ingest.stream import Batch, BatchStream
from shipyard.errors import DataError

if TYPE_CHECKING:
    from collections.abc import Generator, Iterator

    import pyarrow as pa

    from shipyard.components.ingest.options import ReadOptions
    from shipyard.components.ingest.sources import QuerySource

BATCH_ROWS = 128 * 1024
_SQLITE_MAGIC = b"SQLite format 3\x00"


def open_query(source: QuerySource, options: ReadOptions) -> BatchStream:
    """Run the query and stream its rows.

    Raises:
        DataError: The database is missing or unreachable, or the query fails.
        InvalidParameterError: `column_types` names a column the result does not have.
    """
    database = source.database
    if database is not None and database.startswith("duckdb:///"):
        # SQLAlchemy's convention: duckdb:///relative.db, duckdb:////absolute.db
        database = database.removeprefix("duckdb:///")
        database = None if database in ("", ":memory:") else database
    if database is not None and "://" not in database:
        path = Path(database)
        if not path.is_file():
            raise DataError(
                f"no such database file ({where_missing(path)}). For a server, pass a URL "
                "such as postgresql://user@host/db.",
                path=database,
            )
        with path.open("rb") as handle:
            if handle.read(len(_SQLITE_MAGIC)) == _SQLITE_MAGIC:
                database = f"sqlite:///{path}"
    if database is not None and "://" in database:
        tables = _sqlalchemy_tables(database, source.query)
        where = _safe_url(database)
    else:
        tables = _duckdb_tables(database, source.query)
        where = database or "in-memory DuckDB"
    try:
        first = next(tables)
        check_unique(first.column_names, path=where)
        check_named("column_types", options.column_types, first.column_names)
        schema = _settle(first.schema, options)
    except BaseException:
        tables.close()
        raise

    def generate() -> Iterator[Batch]:
        row = 1
        try:
            for table in _prepend(first, tables):
                typed = cast_columns(table, _types(schema), origin=where, first_row=row)
                yield Batch(typed, where, row)
                row += table.num_rows
        finally:
            tables.close()

    return BatchStream(schema, generate(), description=f"{where}: {source.query}")


def _settle(schema: pa.Schema, options: ReadOptions) -> pa.Schema:
    import pyarrow as pa

    fields = []
    for field in schema:
        kind = options.column_types.get(field.name, field.type)
        fields.append(field.with_type(pa.string() if pa.types.is_null(kind) else kind))
    return pa.schema(fields)


def _types(schema: pa.Schema) -> dict[str, Any]:
    return {field.name: field.type for field in schema}


def _prepend(first: pa.Table, rest: Iterator[pa.Table]) -> Iterator[pa.Table]:
    yield first
    yield from rest


def _query_error(where: str, query: str, message: str) -> DataError:
    return DataError(
        f"the query failed: {message.strip()}\n  query: {query.strip()}\nFix the query "
        f"(try it in the database's own shell first).",
        path=where,
    )


def _duckdb_tables(database: str | None, query: str) -> Generator[pa.Table, None, None]:
    import duckdb
    import pyarrow as pa

    where = database or "in-memory DuckDB"
    try:
        connection = duckdb.connect(database or ":memory:", read_only=database is not None)
    except duckdb.Error as exc:
        raise DataError(f"cannot open the DuckDB database: {exc}", path=where) from None
    try:
        try:
            reader = connection.sql(query).to_arrow_reader(BATCH_ROWS)
        except duckdb.Error as exc:
            raise _query_error(where, query, str(exc)) from None
        except AttributeError:  # a statement without a result (CREATE, INSERT, ...)
            raise _query_error(where, query, "the statement returns no rows") from None
        yielded = False
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            except (duckdb.Error, pa.ArrowException) as exc:
                raise _query_error(where, query, str(exc)) from None
            yielded = True
            yield pa.Table.from_batches([batch])
        if not yielded:
            yield reader.schema.empty_table()
    finally:
        connection.close()


def _sqlalchemy_tables(url: str, query: str) -> Generator[pa.Table, None, None]:
    import sqlalchemy
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

    where = _safe_url(url)
    try:
        engine = sqlalchemy.create_engine(url)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise DataError(
            f"cannot use the database URL: {exc}. Use a SQLAlchemy URL such as "
            f"postgresql://user@host/db with its driver installed.",
            path=where,
        ) from None
    try:
        try:
            connection = engine.connect()
        except SQLAlchemyError as exc:
            raise DataError(f"cannot connect to the database: {_orig(exc)}", path=where) from None
        with connection:
            try:
                result = connection.execution_options(stream_results=True).execute(
                    sqlalchemy.text(query)
                )
            except SQLAlchemyError as exc:
                raise _query_error(where, query, _orig(exc)) from None
            if not result.returns_rows:
                raise _query_error(where, query, "the statement returns no rows")
            names = list(result.keys())
            yielded = False
            try:
                for rows in result.partitions(BATCH_ROWS):
                    yielded = True
                    yield _to_table(names, rows)
            except SQLAlchemyError as exc:
                raise _query_error(where, query, _orig(exc)) from None
            finally:
                result.close()
            if not yielded:
                yield _to_table(names, [])
    finally:
        engine.dispose()


def _to_table(names: list[str], rows: Any) -> pa.Table:
    import pyarrow as pa

    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    arrays = []
    for values in columns:
        try:
            arrays.append(pa.array(values))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arrays.append(pa.array([None if v is None else str(v) for v in values]))
    return pa.Table.from_arrays(arrays, names=names)


def _orig(exc: Exception) -> str:
    original = getattr(exc, "orig", None)
    return str(original if original is not None else exc).strip()


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url
