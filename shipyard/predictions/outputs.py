"""Predictions out: model outputs as Arrow columns, and files written atomically.

Each output of the model is one column named after it, as `Model.predict` and the server
name them: `class_ids` (int64), `class_labels` (string) and `probabilities` (list<float32>,
in the order of the signature's `label_vocabulary`) for a classifier; `predictions`
(float32) for a regressor. An output of one value per row (shape `[N]` or `[N, 1]`) is a
plain column; a wider one is a list column.

`PredictionWriter` writes Parquet (`.parquet`, `.pq`), CSV (`.csv`, list columns as JSON
arrays) or JSON lines (`.jsonl`, `.ndjson`; NaN as null) to a hidden file next to the
target and renames it into place once every row is written, so the target never holds a
partial file.
"""

from __future__ import annotations

import json
import math
import os
from typing import TYPE_CHECKING, Any

from shipyard.errors import DataError, InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path
    from types import TracebackType

    import pyarrow as pa

    from shipyard.artifacts.exported_model import TensorSpec

FORMATS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
ROW_GROUP_ROWS = 128 * 1024
"""Rows per Parquet row group: batches are gathered up to this many before a write."""


def output_format(path: Path) -> str:
    """Return `parquet`, `csv` or `jsonl` from the file's extension.

    Raises:
        InvalidParameterError: Another extension.
    """
    found = FORMATS.get(path.suffix.lower())
    if found is None:
        raise InvalidParameterError(
            f"The output file must end with {', '.join(FORMATS)}: it says how to write the "
            f"predictions. Got {str(path)!r} instead."
        )
    return found


def output_schema(outputs: Sequence[TensorSpec]) -> pa.Schema:
    """The Arrow schema of the predictions: one column per output, in signature order."""
    import pyarrow as pa

    types = {"float": pa.float32(), "int64": pa.int64(), "string": pa.string()}
    return pa.schema(
        pa.field(spec.name, types[spec.dtype] if _is_scalar(spec) else pa.list_(types[spec.dtype]))
        for spec in outputs
    )


def outputs_table(values: Mapping[str, Any], schema: pa.Schema) -> pa.Table:
    """Turn model outputs (NumPy arrays, or JSON lists from a server) into a table.

    Args:
        values: Output name -> one value (or one list of values) per row.
        schema: From `output_schema`; outputs not in it are dropped.

    Raises:
        DataError: An output the schema names is missing.
    """
    import numpy as np
    import pyarrow as pa

    numpy_types = {pa.float32(): np.float32, pa.int64(): np.int64, pa.string(): object}
    columns = []
    for field in schema:
        if field.name not in values:
            raise DataError(
                f"the model returned no output {field.name!r} (it returned "
                f"{', '.join(values) or 'none'})."
            )
        listed = pa.types.is_list(field.type)
        kind = field.type.value_type if listed else field.type
        array = np.asarray(values[field.name], dtype=numpy_types[kind])
        rows = array.reshape(len(array), -1)
        if listed:
            width = rows.shape[1]
            offsets = pa.array(np.arange(0, rows.size + 1, max(width, 1), dtype=np.int32))
            columns.append(pa.ListArray.from_arrays(offsets, pa.array(rows.ravel(), kind)))
        else:
            columns.append(pa.array(rows[:, 0], kind))
    return pa.Table.from_arrays(columns, schema=schema)


class PredictionWriter:
    """Write prediction tables to a file, atomically: a hidden file, then a rename.

    Use it as a context manager: the file is put in place when the block ends normally and
    removed when it raises.

    Example:
        >>> with PredictionWriter(Path("preds.parquet"), schema) as writer:
        ...     writer.write(table)
    """

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.path = path
        self.schema = schema
        self.rows = 0
        self._format = output_format(path)
        self._temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self._writer: Any = None
        self._file: Any = None

    def __enter__(self) -> PredictionWriter:
        import pyarrow as pa

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self._format == "parquet":
                import pyarrow.parquet as pq

                self._writer = pq.ParquetWriter(self._temporary, self.schema)
            elif self._format == "csv":
                import pyarrow.csv as pacsv

                self._writer = pacsv.CSVWriter(self._temporary, _csv_schema(self.schema))
            else:
                self._file = self._temporary.open("w", encoding="utf-8")
        except (OSError, pa.ArrowException) as exc:
            raise DataError(f"cannot write the predictions: {exc}", path=str(self.path)) from exc
        return self

    def write(self, table: pa.Table) -> None:
        """Append rows (with the writer's schema)."""
        self.rows += table.num_rows
        if self._format == "parquet":
            self._pending.append(table)
            self._pending_rows += table.num_rows
            if self._pending_rows >= ROW_GROUP_ROWS:
                self._flush()
        elif self._format == "csv":
            self._writer.write_table(_csv_table(table))
        else:
            self._file.writelines(
                json.dumps(_json_safe(row), default=str, ensure_ascii=False) + "\n"
                for row in table.to_pylist()
            )

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if error is None:
                self._flush()
            if self._writer is not None:
                self._writer.close()
            if self._file is not None:
                self._file.close()
            if error is None:
                self._temporary.replace(self.path)
        finally:
            self._temporary.unlink(missing_ok=True)

    def _flush(self) -> None:
        import pyarrow as pa

        if self._pending and self._writer is not None:
            self._writer.write_table(pa.concat_tables(self._pending))
        self._pending, self._pending_rows = [], 0


def _is_scalar(spec: TensorSpec) -> bool:
    return spec.shape[1:] in ((), (1,))


def _csv_schema(schema: pa.Schema) -> pa.Schema:
    import pyarrow as pa

    return pa.schema(
        field.with_type(pa.string()) if pa.types.is_list(field.type) else field for field in schema
    )


def _csv_table(table: pa.Table) -> pa.Table:
    """CSV has no lists: write list cells as JSON arrays."""
    import pyarrow as pa

    for index, field in enumerate(table.schema):
        if pa.types.is_list(field.type):
            text = [
                None if value is None else json.dumps(_json_safe(value))
                for value in table.column(index).to_pylist()
            ]
            table = table.set_column(
                index, field.with_type(pa.string()), pa.array(text, pa.string())
            )
    return table


def _json_safe(value: Any) -> Any:
    """Replace NaN and infinities (not JSON) with None, in rows, lists and numbers."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    return value
