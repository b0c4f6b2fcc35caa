"""Data in: ingest's readers, the columns checked against the model, values fitted to it.

`open_input` opens any source ingest reads (CSV, Parquet, JSON lines, Arrow IPC; a file,
glob or directory) as a stream of record batches and checks its columns before any row is
read. A string input the reader typed otherwise (a zip code read as numbers) is read again
as text, so its values stay as written. `model_inputs` then turns each batch into the
model's columns: numbers as float64 (null is missing), strings as strings, exactly what
`Model.predict` and the server take.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from shipyard.components.ingest.columns import first_failure
from shipyard.components.ingest.options import read_options
from shipyard.components.ingest.plan import SourceSpec, plan_sources
from shipyard.components.ingest.readers import open_source
from shipyard.errors import DataError, InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    import pyarrow as pa

    from shipyard.artifacts.exported_model import TensorSpec
    from shipyard.components.ingest.stream import BatchStream

_COMPONENT = "predict"


def open_input(
    source: str | Path,
    inputs: Sequence[TensorSpec],
    *,
    format: str = "auto",
    keep_columns: Sequence[str] = (),
) -> BatchStream:
    """Open `source` as record batches and check its columns against the model's inputs.

    Args:
        source: A file, glob or directory that ingest reads.
        inputs: The model's inputs.
        format: "auto" (by extension), "csv", "parquet", "jsonl" or "arrow".
        keep_columns: Columns to copy to the predictions; they must be in the data.

    Returns:
        The open stream; close it (or use it in a `with` block).

    Raises:
        DataError: The data cannot be read; a required input is not a column of the data;
            a column's type cannot feed its input (a date for a number).
        InvalidParameterError: A column to keep is not in the data; an unknown format.
    """
    reading = read_options(format=format, component=_COMPONENT)
    (resolved,) = plan_sources(SourceSpec(source=str(source), format=format)).values()
    stream = open_source(resolved, reading)
    try:
        as_text = [name for name in _text_inputs(inputs) if _needs_text(stream.schema, name)]
        if as_text:
            import pyarrow as pa

            stream.close()
            types = {**reading.column_types, **dict.fromkeys(as_text, pa.string())}
            stream = open_source(resolved, replace(reading, column_types=types))
        check_columns(stream.schema, inputs, keep_columns, where=stream.description)
    except BaseException:
        stream.close()
        raise
    return stream


def check_columns(
    schema: pa.Schema, inputs: Sequence[TensorSpec], keep_columns: Sequence[str], *, where: str
) -> None:
    """Check that the data has every required input, in a type that can feed it.

    Raises:
        DataError: A required input is missing, or every input is; a column has a type its
            input cannot take.
        InvalidParameterError: A column to keep is not in the data.
    """
    import pyarrow as pa

    names = schema.names
    listed = ", ".join(names) or "no column"
    missing = [spec.name for spec in inputs if not spec.optional and spec.name not in names]
    if missing:
        raise DataError(
            f"the model needs the column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(map(repr, missing))}; the data has {listed}. Add "
            f"{'them' if len(missing) > 1 else 'it'} (empty values are missing values).",
            path=where,
            column=missing[0] if len(missing) == 1 else None,
        )
    if not any(spec.name in names for spec in inputs):
        raise DataError(
            f"the data has none of the model's inputs "
            f"({', '.join(spec.name for spec in inputs)}); it has {listed}. Check that this "
            f"is the data for this model.",
            path=where,
        )
    unknown = [name for name in keep_columns if name not in names]
    if unknown:
        raise InvalidParameterError(
            f"The columns to keep must be columns of the data: {', '.join(map(repr, unknown))} "
            f"{'is' if len(unknown) == 1 else 'are'} not. The data ({where}) has {listed}."
        )
    for spec in inputs:
        if spec.name not in names:
            continue
        kind = schema.field(spec.name).type
        if spec.dtype == "int64" and not (pa.types.is_integer(kind) or pa.types.is_null(kind)):
            raise DataError(
                f"the model takes integers, the column holds {kind}.", path=where, column=spec.name
            )
        if spec.dtype == "float" and not (_is_numeric(kind) or _is_text(kind)):
            raise DataError(
                f"the model takes numbers, the column holds {kind}. Convert it to numbers.",
                path=where,
                column=spec.name,
            )


def model_inputs(
    table: pa.Table, inputs: Sequence[TensorSpec], *, origin: str, first_row: int
) -> pa.Table:
    """Return the model's inputs found in `table`: numbers as float64, strings as strings.

    Args:
        table: Rows read by `open_input`'s stream.
        inputs: The model's inputs; those not in `table` are left out (missing).
        origin: The file the rows came from, for messages.
        first_row: The 1-based row number of the table's first row in `origin`.

    Raises:
        DataError: A number input holds text that is not a number (row and column named).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    columns: dict[str, pa.ChunkedArray] = {}
    for spec in inputs:
        if spec.name not in table.column_names:
            continue
        column = table.column(spec.name)
        if spec.dtype == "string":
            columns[spec.name] = pc.cast(column, pa.string())
        elif spec.dtype == "int64":
            columns[spec.name] = pc.cast(column, pa.int64())
        elif _is_text(column.type):
            columns[spec.name] = _parse_numbers(column, spec.name, origin, first_row)
        else:
            columns[spec.name] = pc.cast(column, pa.float64())
    return pa.table(columns)


def _parse_numbers(column: pa.ChunkedArray, name: str, origin: str, first_row: int) -> pa.Array:
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.cast(column, pa.string()).combine_chunks()
    try:
        return pc.cast(text, pa.float64())
    except pa.ArrowInvalid:
        index = first_failure(text, lambda part: pc.cast(part, pa.float64())) or 0
        raise DataError(
            f"the model takes numbers, got {text[index].as_py()!r}. Fix the value, or leave it "
            f"empty for a missing value.",
            path=origin,
            row=first_row + index,
            column=name,
        ) from None


def _text_inputs(inputs: Sequence[TensorSpec]) -> list[str]:
    return [spec.name for spec in inputs if spec.dtype == "string"]


def _needs_text(schema: pa.Schema, name: str) -> bool:
    """Whether a string input's column was typed as something other than text."""
    index = schema.get_field_index(name)
    return index >= 0 and not _is_text(schema.field(index).type)


def _is_text(kind: pa.DataType) -> bool:
    import pyarrow as pa

    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return bool(
        pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind)
    )


def _is_numeric(kind: pa.DataType) -> bool:
    import pyarrow as pa

    return bool(
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_decimal(kind)
        or pa.types.is_null(kind)
    )
