"""`shipyard feedback LABELS --request-log-dir DIR`: store labels that arrived later.

The labels are keyed by the request id the server answered in `X-Request-Id`; they are
stored beside the request log (`DIR/MODEL/feedback/`), where `shipyard monitor` joins them
to the logged predictions to measure the model's live metrics (decay detection).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shipyard.cli.options import JsonOption


def feedback_command(
    labels: Annotated[
        str,
        typer.Argument(
            metavar="LABELS",
            help="The labels: a CSV, Parquet or JSON Lines file with a request id and a "
            "label per row (and the row's index in its request, for requests of several rows).",
        ),
    ],
    request_log_dir: Annotated[
        Path,
        typer.Option(
            "--request-log-dir",
            metavar="DIR",
            help="The server's --request-log-dir: the labels go to DIR/MODEL/feedback/.",
        ),
    ],
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            metavar="NAME",
            help="The model the labels are for. Default: the only model logged in DIR.",
        ),
    ] = None,
    id_column: Annotated[
        str, typer.Option("--id-column", metavar="COLUMN", help="The column of request ids.")
    ] = "request_id",
    label_column: Annotated[
        str, typer.Option("--label-column", metavar="COLUMN", help="The column of true labels.")
    ] = "label",
    row_column: Annotated[
        str,
        typer.Option(
            "--row-column",
            metavar="COLUMN",
            help="The column of each row's index in its request, if the file has it (else 0).",
        ),
    ] = "row",
    json_output: JsonOption = False,
) -> None:
    """Store labels that arrived later, keyed by request id, beside the request log.

    A label whose request id is not (or not yet) in the log is kept and counted by
    `shipyard monitor`; for a repeated request id, the newest label wins.
    """
    from shipyard.cli.output import print_json
    from shipyard.monitoring.feedback import read_label_file, write_labels

    if not request_log_dir.is_dir():
        from shipyard.errors import InvalidParameterError

        raise InvalidParameterError(
            "The '--request-log-dir' option of shipyard feedback must be the server's request "
            f"log directory. Got {str(request_log_dir)!r}, which is not a directory."
        )
    name = _model(request_log_dir, model)
    table = read_label_file(
        labels, id_column=id_column, label_column=label_column, row_column=row_column
    )
    stored = write_labels(request_log_dir, name, table)
    if json_output:
        print_json(stored.to_json())
    else:
        typer.echo(f"Stored {stored.count:,} labels of {name!r} in {stored.path}")


def _model(log_dir: Path, model: str | None) -> str:
    """`model`, if `log_dir` holds its requests; without it, the one model it holds.

    Raises:
        InvalidParameterError: No requests of `model` are logged there, or `model` is None
            and the directory holds no model or several.
    """
    from shipyard.errors import InvalidParameterError

    models = sorted(p.name for p in log_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    if model is None and len(models) == 1:
        return models[0]
    if model is not None and model in models:
        return model
    found = f"it holds the models {', '.join(models)}" if models else "it holds no model's requests"
    if model is None:
        raise InvalidParameterError(
            f"The '--model' option of shipyard feedback is needed: {found} ({log_dir}). "
            "Give the served model's name, e.g. --model taxi."
        )
    raise InvalidParameterError(
        f"The '--model' option of shipyard feedback must name a model whose requests are "
        f"logged in {log_dir}: {found}. Got {model!r} instead."
    )
