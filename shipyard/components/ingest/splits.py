"""Assigning rows to splits: by a stable hash of the row or of key columns, or by a column.

Hash splits work like TFX's hash buckets. `{"train": 8, "eval": 2}` makes 10 buckets; split
names are taken in sorted order ("eval" gets buckets 0-1, "train" 2-9), so the order the
dict is written in does not matter. A row's bucket is `h % total_buckets`, where `h` is a
64-bit hash of the key columns (default: every column), in wrapping uint64 arithmetic:

    h = 0
    for u in (text_hash, then each non-text key column's value as a uint64):
        h = h * GOLDEN + u
    h = mix64(h)                       # splitmix64's finaliser

A number, bool, date or timestamp becomes a uint64 by its bits: an integer's two's
complement, a bool's 0/1, a float's IEEE-754 bits as float64, a date's or timestamp's
integer count of days or units since the epoch. A null is `NULL_HASH`. All text columns
(strings; binary as hex; anything else as DuckDB writes it) count as one value, first:
`int.from_bytes(md5(joined).digest()[:8], "little")` where `joined` is their values joined
by "\x1f" with null written "\x00".

The definition is fixed arithmetic and MD5, so the assignment is the same across runs,
machines and library versions, and can be recomputed in plain Python (the tests do) -
unlike Python's `hash()` (salted per process) or polars' and DuckDB's `hash()` (which may
change between versions). Numbers are hashed with vectorised Arrow kernels and text with
DuckDB's `md5_number` over whole batches: no Python loop over rows.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shipyard.errors import DataError

if TYPE_CHECKING:
    import pyarrow as pa

SPLIT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
MAX_SPLITS = 64
PYTHON_HASH_MAX_ROWS = 10_000


@dataclass(frozen=True)
class HashSplit:
    """Split rows into hash buckets.

    Attributes:
        buckets: Split name -> number of buckets.
        key: The columns to hash, or None for the whole row.
    """

    buckets: dict[str, int]
    key: tuple[str, ...] | None = None

    @property
    def names(self) -> list[str]:
        """Split names in bucket order (sorted)."""
        return sorted(self.buckets)

    def describe(self) -> dict[str, Any]:
        """The `split` property recorded on the artifact."""
        return {
            "method": "hash",
            "buckets": {name: self.buckets[name] for name in self.names},
            "key": list(self.key) if self.key else "row",
            "hash": "md5",
        }


@dataclass(frozen=True)
class ColumnSplit:
    """Split rows by the value of a column, which is dropped from the output."""

    column: str

    def describe(self) -> dict[str, Any]:
        """The `split` property recorded on the artifact."""
        return {"method": "column", "column": self.column}


GOLDEN = 0x9E3779B97F4A7C15
NULL_HASH = 0x6A09E667F3BCC909
_MIX_1 = 0xBF58476D1CE4E5B9
_MIX_2 = 0x94D049BB133111EB


class HashAssigner:
    """Computes split indices for batches; thread-safe (one DuckDB connection per thread)."""

    def __init__(self, split: HashSplit, *, python_hash_max_rows: int = PYTHON_HASH_MAX_ROWS):
        """Assign rows by `split`; string batches up to `python_hash_max_rows` use hashlib."""
        self.split = split
        self.python_hash_max_rows = python_hash_max_rows
        self._local = threading.local()
        self._connections: list[Any] = []
        self._lock = threading.Lock()
        self._bounds: list[int] = []
        total = 0
        for name in split.names:
            total += split.buckets[name]
            self._bounds.append(total)
        self.total = total

    def assign(self, table: pa.Table) -> pa.ChunkedArray:
        """Return each row's split index (into `split.names`) as a uint8 array."""
        import pyarrow as pa
        import pyarrow.compute as pc

        buckets = pc.remainder(self.hash(table), pa.scalar(self.total, pa.uint64()))
        index = pc.greater_equal(buckets, pa.scalar(self._bounds[0], pa.uint64())).cast(pa.uint8())
        for bound in self._bounds[1:-1]:
            above = pc.greater_equal(buckets, pa.scalar(bound, pa.uint64()))
            index = pc.add(index, above.cast(pa.uint8()))
        return index

    def hash(self, table: pa.Table) -> pa.ChunkedArray:
        """Return each row's 64-bit hash of the key columns (see the module docstring)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        names = list(self.split.key) if self.split.key else table.column_names
        numbers: list[pa.ChunkedArray] = []
        texts: list[pa.ChunkedArray] = []
        for name in names:
            column = table.column(name)
            unsigned = _as_uint64(column)
            if unsigned is None:
                texts.append(column)
            else:
                numbers.append(unsigned)
        golden = pa.scalar(GOLDEN, pa.uint64())
        null = pa.scalar(NULL_HASH, pa.uint64())
        hashed = self._text_hash(texts) if texts else None
        for unsigned in numbers:
            value = unsigned.fill_null(null)
            hashed = value if hashed is None else pc.add(pc.multiply(hashed, golden), value)
        assert hashed is not None  # a table has at least one column
        return mix64(hashed)

    def _text_hash(self, texts: list[pa.ChunkedArray]) -> pa.ChunkedArray:
        import pyarrow as pa

        strings = all(pa.types.is_string(c.type) or pa.types.is_large_string(c.type) for c in texts)
        if strings and len(texts[0]) <= self.python_hash_max_rows:
            return _python_text_hash(texts)
        import duckdb

        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = duckdb.connect(":memory:", config={"threads": 1})
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        table = pa.Table.from_arrays(texts, names=[f"c{i}" for i in range(len(texts))])
        parts = [
            f"coalesce({_text_sql(f'c{i}', column.type)}, chr(0))" for i, column in enumerate(texts)
        ]
        text = parts[0] if len(parts) == 1 else f"concat_ws(chr(31), {', '.join(parts)})"
        connection.register("ingest_batch", table)
        try:
            result = connection.sql(
                f"SELECT (md5_number({text}) & {2**64 - 1}::UHUGEINT)::UBIGINT AS h "  # noqa: S608 - names are ours (c0, c1...)
                "FROM ingest_batch"
            ).to_arrow_table()
        finally:
            connection.unregister("ingest_batch")
        return result.column(0)

    def close(self) -> None:
        """Close the DuckDB connections opened by the threads that hashed."""
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()


def _python_text_hash(texts: list[pa.ChunkedArray]) -> pa.ChunkedArray:
    """The text hash of string columns with hashlib, row by row (for small batches)."""
    import hashlib

    import pyarrow as pa

    rows = zip(*(column.to_pylist() for column in texts), strict=True)
    hashes = [
        int.from_bytes(
            hashlib.md5(
                "\x1f".join("\x00" if v is None else v for v in row).encode(),
                usedforsecurity=False,  # a split hash, not a security boundary
            ).digest()[:8],
            "little",
        )
        for row in rows
    ]
    return pa.chunked_array([pa.array(hashes, pa.uint64())])


def mix64(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """splitmix64's finaliser over uint64 values (wrapping arithmetic)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def shifted(z: pa.ChunkedArray, bits: int) -> pa.ChunkedArray:
        return pc.bit_wise_xor(z, pc.shift_right(z, pa.scalar(bits, pa.uint64())))

    z = pc.multiply(shifted(values, 30), pa.scalar(_MIX_1, pa.uint64()))
    z = pc.multiply(shifted(z, 27), pa.scalar(_MIX_2, pa.uint64()))
    return shifted(z, 31)


def _as_uint64(column: pa.ChunkedArray) -> pa.ChunkedArray | None:
    """A number, bool or temporal column as uint64 (see the module docstring), else None."""
    import pyarrow as pa

    kind = column.type
    if pa.types.is_dictionary(kind):
        return _as_uint64(column.cast(kind.value_type))
    if pa.types.is_floating(kind):
        return _view(column.cast(pa.float64()), pa.uint64())
    if pa.types.is_uint64(kind):
        return column
    if pa.types.is_integer(kind) or pa.types.is_boolean(kind):
        return _view(column.cast(pa.int64()), pa.uint64())
    if pa.types.is_temporal(kind) and not pa.types.is_interval(kind):
        integers = _view(column, pa.int64() if kind.bit_width == 64 else pa.int32())
        return _view(integers.cast(pa.int64()), pa.uint64())
    return None


def _view(column: pa.ChunkedArray, target: pa.DataType) -> pa.ChunkedArray:
    import pyarrow as pa

    return pa.chunked_array([chunk.view(target) for chunk in column.chunks], target)


def _text_sql(name: str, field_type: pa.DataType) -> str:
    import pyarrow as pa

    if pa.types.is_string(field_type) or pa.types.is_large_string(field_type):
        return name
    if pa.types.is_binary(field_type) or pa.types.is_large_binary(field_type):
        return f"hex({name})"
    return f"{name}::VARCHAR"


def column_groups(
    table: pa.Table, column: str, *, origin: str, first_row: int
) -> dict[str, pa.Table]:
    """Group rows by the split column's values; the column itself is dropped.

    Raises:
        DataError: A value is null or cannot name a split directory.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    values = table.column(column)
    if not pa.types.is_string(values.type):
        values = values.cast(pa.string())
    if values.null_count:
        row = first_row + pc.index(pc.is_null(values), True).as_py()
        raise DataError(
            "the split column is empty: every row needs the name of its split. Fill it in, "
            "or drop split_column to split by hash.",
            path=origin,
            row=row,
            column=column,
        )
    rest = table.drop_columns([column])
    groups: dict[str, pa.Table] = {}
    for value in pc.unique(values).to_pylist():
        if not SPLIT_NAME.match(value):
            row = first_row + pc.index(values, value).as_py()
            raise DataError(
                f"the split name {value!r} cannot name a directory: use letters, digits, "
                f"'_', '-' and '.'.",
                path=origin,
                row=row,
                column=column,
            )
        groups[value] = rest.filter(pc.equal(values, value))
    return groups
