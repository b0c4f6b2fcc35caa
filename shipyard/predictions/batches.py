"""The loop of batch prediction: read a batch, fit it, run the model, keep columns, write.

Memory holds one record batch of the input (ingest's readers cut files into batches) and
its predictions at a time, plus the Parquet row group being gathered, so a file of any size
streams through.

Example:
    >>> from shipyard.predictions import LocalPredictor, find_model_dir, predict_file
    >>> predictor = LocalPredictor(find_model_dir(Path("models/penguins")))
    >>> predict_file(predictor, "penguins.csv", Path("p.parquet"), keep_columns=["species"])
    344
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from shipyard.errors import DataError, InvalidParameterError, ServingError
from shipyard.predictions.inputs import model_inputs, open_input
from shipyard.predictions.outputs import PredictionWriter, output_format, output_schema

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence
    from pathlib import Path

    import pyarrow as pa

    from shipyard.components.ingest.stream import BatchStream
    from shipyard.predictions.predictors import Predictor, RemotePredictor


def predict_batches(
    predictor: Predictor,
    stream: BatchStream,
    *,
    batch_rows: int,
    keep_columns: Sequence[str] = (),
) -> Iterator[pa.Table]:
    """Yield the predictions of every row of `stream`, `batch_rows` rows per model call.

    Each table holds the `keep_columns` as read, then one column per model output.

    Raises:
        DataError: A value cannot feed the model (file, row and column named).
        ServingError: The server refused a batch (the file and rows are named).
    """
    import pyarrow as pa

    check_batch_rows(batch_rows)
    check_no_clash(predictor, keep_columns)
    for batch in stream:
        table = batch.table
        for start in range(0, table.num_rows, batch_rows):
            part = table.slice(start, batch_rows)
            first = batch.first_row + start
            inputs = model_inputs(part, predictor.inputs, origin=batch.origin, first_row=first)
            try:
                outputs = predictor.predict(inputs)
            except ServingError as error:
                where = f"{batch.origin}, {_span('row', first, len(part))}"
                raise _located(error, where) from error
            if outputs.num_rows != part.num_rows:
                raise DataError(
                    f"{predictor.name} returned {outputs.num_rows} rows of predictions for "
                    f"{part.num_rows} rows of inputs.",
                    path=batch.origin,
                    row=first,
                )
            kept = part.select(list(keep_columns))
            yield pa.Table.from_arrays(
                [*kept.columns, *outputs.columns],
                schema=pa.schema([*kept.schema, *outputs.schema]),
            )


def predict_file(
    predictor: Predictor,
    source: str | Path,
    output: Path,
    *,
    format: str = "auto",
    batch_rows: int = 8192,
    keep_columns: Sequence[str] = (),
    on_rows: Callable[[int], None] | None = None,
) -> int:
    """Predict every row of `source` and write the predictions to `output`, atomically.

    Args:
        predictor: What runs the model.
        source: Data ingest reads: a CSV, Parquet, JSON-lines or Arrow file, glob or directory.
        output: A `.parquet`, `.csv` or `.jsonl` file; replaced only once complete.
        format: The data's format, or "auto" (by extension).
        batch_rows: Rows per model call (per request, for a server).
        keep_columns: Input columns copied to the predictions, before the outputs.
        on_rows: Called with the number of rows after each batch (for a progress bar).

    Returns:
        The number of rows written.

    Raises:
        DataError: The data is unreadable, lacks a required input, or holds a value that
            cannot feed the model (file, row and column named).
        InvalidParameterError: An unknown output extension; a column to keep that the data
            lacks or that an output has the name of.
        ServingError: The server refused a batch or could not be reached.
    """
    output_format(output)
    check_batch_rows(batch_rows)
    check_no_clash(predictor, keep_columns)
    with open_input(source, predictor.inputs, format=format, keep_columns=keep_columns) as stream:
        tables = predict_batches(
            predictor, stream, batch_rows=batch_rows, keep_columns=keep_columns
        )
        schema = prediction_schema(stream.schema, keep_columns, predictor)
        return write_predictions(tables, output, schema, on_rows=on_rows)


def prediction_schema(
    input_schema: pa.Schema, keep_columns: Sequence[str], predictor: Predictor
) -> pa.Schema:
    """The schema of `predict_batches`' tables: the columns kept, then the outputs."""
    import pyarrow as pa

    kept = [input_schema.field(name) for name in keep_columns]
    return pa.schema([*kept, *output_schema(predictor.outputs)])


def write_predictions(
    tables: Iterable[pa.Table],
    output: Path,
    schema: pa.Schema,
    *,
    on_rows: Callable[[int], None] | None = None,
) -> int:
    """Write prediction tables to `output` atomically; return the number of rows.

    Raises:
        InvalidParameterError: An unknown output extension.
        DataError: The file cannot be written.
    """
    with PredictionWriter(output, schema) as writer:
        for table in tables:
            writer.write(table)
            if on_rows is not None:
                on_rows(table.num_rows)
    return writer.rows


def predict_instances(
    predictor: RemotePredictor, rows: Sequence[Any], *, batch_rows: int, origin: str
) -> Iterator[pa.Table]:
    """Send JSON rows to the server as they are, `batch_rows` per request.

    Raises:
        ServingError: The server refused a batch (the file and instances are named).
    """
    check_batch_rows(batch_rows)
    for start in range(0, len(rows), batch_rows):
        part = rows[start : start + batch_rows]
        try:
            yield predictor.predict_rows(part)
        except ServingError as error:
            where = f"{origin}, {_span('instance', start, len(part))}"
            raise _located(error, where) from error


def read_instances(path: Path) -> list[Any]:
    """Read rows from a JSON file: a list of rows, or a predict body `{"instances": [...]}`.

    Raises:
        DataError: The file is missing, is not JSON, or holds something else.
    """
    try:
        value = json.loads(path.read_bytes())
    except OSError as exc:
        raise DataError(f"cannot read the instances: {exc.strerror}.", path=str(path)) from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise DataError(f"the instances are not valid JSON: {exc}.", path=str(path)) from None
    if isinstance(value, dict) and set(value) <= {"instances", "signature_name"}:
        value = value.get("instances")
    if not isinstance(value, list) or not value:
        raise DataError(
            'the file must hold a non-empty JSON list of rows, or {"instances": [...]}.',
            path=str(path),
        )
    return value


def check_batch_rows(batch_rows: int) -> None:
    """Raise unless `batch_rows` >= 1.

    Raises:
        InvalidParameterError: It is not.
    """
    if batch_rows < 1:
        raise InvalidParameterError(
            f"The batch size must be an int >= 1. Got {batch_rows!r} instead."
        )


def check_no_clash(predictor: Predictor, keep_columns: Sequence[str]) -> None:
    """Raise when a column to keep has the name of an output.

    Raises:
        InvalidParameterError: One has.
    """
    clash = sorted({spec.name for spec in predictor.outputs} & set(keep_columns))
    if clash:
        raise InvalidParameterError(
            f"The columns to keep may not have the names of the model's outputs: "
            f"{', '.join(map(repr, clash))} would be written twice. Rename the input column."
        )


def _span(noun: str, first: int, count: int) -> str:
    return f"{noun} {first}" if count == 1 else f"{noun}s {first}-{first + count - 1}"


def _located(error: ServingError, where: str) -> ServingError:
    return ServingError(
        f"{where}: {error.message}",
        url=error.url,
        status=error.status,
        server_message=error.server_message,
        hint=error.hint,
    )
