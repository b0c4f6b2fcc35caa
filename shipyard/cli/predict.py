"""`shipyard predict`: predictions for the rows of a file, from a model directory or a server.

    shipyard predict --model DIR --input DATA --output PREDS.parquet
    shipyard predict --server URL --model NAME (--input DATA | --instances FILE.json)

Without `--server`, DATA streams through the model's `model.onnx` with ONNX Runtime; with
it, the rows go to `shipyard serve` in batches. Either way the predictions are written to
`--output` atomically, or printed.
"""

from __future__ import annotations

import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shipyard.cli.options import FormatOption, JsonOption

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import pyarrow as pa

    from shipyard.predictions import Predictor

LOCAL_BATCH_ROWS = 8192
SERVER_BATCH_ROWS = 256
SHOWN_ROWS = 100
"""Rows the table on a terminal shows; --output or --json give them all."""


def predict_command(
    model: Annotated[
        str,
        typer.Option(
            "--model",
            metavar="DIR|NAME",
            help="Without --server: an exported model directory (BASE/NAME/VERSION, BASE/NAME "
            "for its newest version, or a Model artifact). With --server: the served model's "
            "name.",
        ),
    ],
    input_data: Annotated[
        str | None,
        typer.Option(
            "--input",
            metavar="DATA",
            help="The rows: a CSV, Parquet, JSON-lines or Arrow file, a glob or a directory.",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write the predictions to a .parquet, .csv or .jsonl file, atomically. "
            "Default: print them.",
        ),
    ] = None,
    server: Annotated[
        str | None,
        typer.Option(
            "--server",
            metavar="URL",
            help="Use the model served there (http://127.0.0.1:8501) instead of a directory.",
        ),
    ] = None,
    instances: Annotated[
        Path | None,
        typer.Option(
            "--instances",
            metavar="FILE.json",
            help='With --server: JSON rows, a list or {"instances": [...]}, sent as they are.',
        ),
    ] = None,
    version: Annotated[
        int | None,
        typer.Option(
            "--version", min=0, metavar="N", help="The model version (default: the newest)."
        ),
    ] = None,
    label: Annotated[
        str | None,
        typer.Option(
            "--label", metavar="LABEL", help="With --server: a version label, such as stable."
        ),
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option(
            "--batch-size",
            min=1,
            metavar="ROWS",
            help=f"Rows per model call. Default: {LOCAL_BATCH_ROWS}, or {SERVER_BATCH_ROWS} "
            f"per request to a server.",
        ),
    ] = None,
    columns_to_keep: Annotated[
        str | None,
        typer.Option(
            "--columns-to-keep",
            metavar="COLUMNS",
            help="Input columns to copy to the predictions, comma-separated (e.g. id).",
        ),
    ] = None,
    timeout_seconds: Annotated[
        float,
        typer.Option(
            "--timeout-seconds", min=0.001, metavar="S", help="With --server: seconds per request."
        ),
    ] = 60.0,
    data_format: FormatOption = "auto",
    json_output: JsonOption = False,
) -> None:
    """Predict every row of a file with a model directory, or with a model on a server.

    The predictions hold the --columns-to-keep, then one column per model output:
    class_ids, probabilities (a list, in label vocabulary order) and class_labels for a
    classifier, predictions for a regressor. With --output they are written to the file
    (--json prints a summary); else printed as a table, or with --json as
    {"predictions": [...]}.
    """
    from shipyard.predictions import open_input, predict_batches, write_predictions
    from shipyard.predictions.batches import prediction_schema
    from shipyard.predictions.outputs import output_format

    keep = [name.strip() for name in (columns_to_keep or "").split(",") if name.strip()]
    _check_flags(server, input_data, instances, label, keep)
    if output is not None:
        output_format(output)
    batch_rows = batch_size or (LOCAL_BATCH_ROWS if server is None else SERVER_BATCH_ROWS)
    started = time.monotonic()
    predictor = _predictor(model, server, version, label, timeout_seconds)
    printed: list[pa.Table] = []
    with _progress(input_data or str(instances)) as advance, ExitStack() as stack:
        if instances is not None:
            tables, schema = _instances(predictor, instances, batch_rows)
        else:
            assert input_data is not None
            stream = stack.enter_context(
                open_input(input_data, predictor.inputs, format=data_format, keep_columns=keep)
            )
            tables = predict_batches(predictor, stream, batch_rows=batch_rows, keep_columns=keep)
            schema = prediction_schema(stream.schema, keep, predictor)
        if output is not None:
            count = write_predictions(tables, output, schema, on_rows=advance)
        else:
            for table in tables:
                printed.append(table)
                advance(table.num_rows)
    if output is None:
        _print(printed, schema, json_output)
        return
    elapsed = time.monotonic() - started
    if json_output:
        from shipyard.cli.output import print_json

        print_json({"model": predictor.name, "rows": count, "output": str(output)})
        return
    from shipyard.cli.output import console

    console(stderr=True).print(
        f"Wrote {count:,} predictions of {predictor.name} to {output} in {elapsed:.1f} s.",
        markup=False,
    )


def _check_flags(
    server: str | None,
    input_data: str | None,
    instances: Path | None,
    label: str | None,
    keep: list[str],
) -> None:
    from shipyard.errors import InvalidParameterError

    if (input_data is None) == (instances is None):
        raise InvalidParameterError(
            "Give the rows to predict with --input DATA or, with --server, --instances "
            "FILE.json: exactly one of them."
        )
    if server is None and instances is not None:
        raise InvalidParameterError(
            "--instances needs --server. To predict JSON rows with a model directory, write "
            "them one object per line to a .jsonl file and pass it with --input."
        )
    if server is None and label is not None:
        raise InvalidParameterError(
            f"--label needs --server: labels are the server's names for versions. Got "
            f"--label {label!r}; pass --version N for a version under a model directory."
        )
    if instances is not None and keep:
        raise InvalidParameterError(
            "--columns-to-keep needs --input: rows sent with --instances go as they are."
        )


def _predictor(
    model: str, server: str | None, version: int | None, label: str | None, timeout_s: float
) -> Predictor:
    if server is None:
        from shipyard.predictions import LocalPredictor, find_model_dir

        return LocalPredictor(find_model_dir(Path(model).expanduser(), version=version))
    from shipyard.client import Client
    from shipyard.predictions import RemotePredictor

    return RemotePredictor(Client(server, timeout_s=timeout_s), model, version=version, label=label)


def _instances(
    predictor: Predictor, instances: Path, batch_rows: int
) -> tuple[Iterator[pa.Table], pa.Schema]:
    """The predictions of the rows of a JSON file, sent as they are, and their schema."""
    from shipyard.predictions import RemotePredictor, predict_instances
    from shipyard.predictions.batches import read_instances
    from shipyard.predictions.outputs import output_schema

    assert isinstance(predictor, RemotePredictor)  # --instances needs --server
    rows = read_instances(instances)
    tables = predict_instances(predictor, rows, batch_rows=batch_rows, origin=str(instances))
    return tables, output_schema(predictor.outputs)


@contextmanager
def _progress(what: str) -> Iterator[Callable[[int], None]]:
    """A progress line on stderr (on a terminal only), advanced by the rows predicted."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from shipyard.cli.output import console

    err = console(stderr=True)
    with Progress(
        SpinnerColumn(),
        TextColumn("Predicting {task.description}: {task.completed:,.0f} rows"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as progress:
        task = progress.add_task(what, total=None)
        yield lambda rows: progress.advance(task, rows)


def _print(tables: list[pa.Table], schema: pa.Schema, json_output: bool) -> None:
    import pyarrow as pa

    from shipyard.cli.output import console, print_json

    table = pa.concat_tables(tables) if tables else schema.empty_table()
    if json_output:
        print_json({"predictions": table.to_pylist()})
        return
    from rich.markup import escape
    from rich.table import Table

    shown = Table(*map(escape, table.column_names))
    for row in table.slice(0, SHOWN_ROWS).to_pylist():
        shown.add_row(*(escape(_cell(value)) for value in row.values()))
    out = console()
    out.print(shown)
    if table.num_rows > SHOWN_ROWS:
        out.print(
            f"... and {table.num_rows - SHOWN_ROWS:,} more rows: write them all with "
            f"--output FILE, or print them with --json.",
            markup=False,
        )


def _cell(value: Any) -> str:
    """Plain text of a value: numbers to 4 significant digits; escape it for Rich."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return "[" + ", ".join(_cell(item) for item in value) + "]"
    return str(value)
