"""`shipyard validate DATA --schema schema.yaml`: print anomalies; exit 1 when there are any.

Like a linter, to gate CI: exit 0 with one OK line when the data matches its schema, 1 when
there are anomalies of severity error (and warnings too with `--strict`), 2 when the command
cannot run (a bad flag, a missing file, an invalid schema). Bad data is reported, never
refused: words in a column the schema types as a number are a `wrong_type` anomaly with
their count and examples; values outside a range are counted exactly.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shipyard.cli.options import DataArgument, FormatOption, JsonOption

if TYPE_CHECKING:
    from shipyard.artifacts import AnomalyReport

EXIT_ANOMALIES = 1
EXIT_USAGE = 2


def validate_command(
    data: DataArgument,
    schema: Annotated[
        Path, typer.Option("--schema", "-s", help="The schema YAML file to validate against.")
    ],
    baseline: Annotated[
        str | None,
        typer.Option("--baseline", help="The previous span's data file, compared for drift."),
    ] = None,
    environment: Annotated[
        str | None,
        typer.Option(
            "--environment",
            "-e",
            help="Where the data comes from, e.g. SERVING "
            "(default: the schema's default environment).",
        ),
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option(
            "--html",
            help="Also write a self-contained HTML report to this file (its path is printed).",
        ),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 on warnings too, not only on errors.")
    ] = False,
    data_format: FormatOption = "auto",
    json_output: JsonOption = False,
) -> None:
    """Validate a data file against a schema: print its anomalies, exit 1 if there are any.

    Checks columns, types, presence, domains, ranges and list lengths, and with --baseline
    the drift from the previous span. Exit codes: 0 no anomalies (or only warnings), 1
    anomalies, 2 the command could not run.
    """
    from shipyard.cli.output import print_error, print_json
    from shipyard.errors import InvalidParameterError, ShipyardError

    try:
        report = _validate(data, schema, baseline, environment, data_format)
    except ShipyardError as error:
        print_error(error)
        raise typer.Exit(EXIT_USAGE) from None
    if json_output:
        print_json([anomaly.to_json() for anomaly in report.anomalies])
    else:
        _print_report(report)
    if html is not None:
        try:
            html.parent.mkdir(parents=True, exist_ok=True)
            html.write_text(report.to_html(title=f"Validation of {data}"), encoding="utf-8")
        except OSError as exc:
            print_error(
                InvalidParameterError(
                    f"The '--html' option of shipyard validate must be a file path that can be "
                    f"written. Got {str(html)!r} instead ({exc.strerror or exc})."
                )
            )
            raise typer.Exit(EXIT_USAGE) from None
        typer.echo(f"Wrote the HTML report to {html}", err=json_output)
    if report.errors or (strict and report.anomalies):
        raise typer.Exit(EXIT_ANOMALIES)


def _validate(
    data: str, schema: Path, baseline: str | None, environment: str | None, data_format: str
) -> AnomalyReport:
    from shipyard.artifacts.schema import read_schema_file
    from shipyard.components.ingest import load_dataset
    from shipyard.components.statistics import compute_dataset_statistics
    from shipyard.components.validate import validate_statistics

    data_schema = read_schema_file(schema)
    split = Path(data).name
    table = load_dataset(data, format=data_format)
    statistics = {split: compute_dataset_statistics(table)}
    previous = (
        None
        if baseline is None
        else {split: compute_dataset_statistics(load_dataset(baseline, format=data_format))}
    )
    return validate_statistics(
        statistics,
        data_schema,
        environment=environment,
        baseline=previous,
        skew_splits=(),
        component="shipyard validate",
        read_column=lambda _split, column: table.column(column),  # exact out-of-range counts
    )


def _print_report(report: AnomalyReport) -> None:
    from rich.table import Table
    from rich.text import Text

    from shipyard.cli.output import console

    out = console()
    if not report.anomalies:
        out.print(f"[green]{report.summary()}[/]")
        return
    style = "bold red" if report.errors else "yellow"
    table = Table(title=Text(report.summary(), style=style), title_justify="left")
    for column in ("feature", "kind", "severity", "values", "description"):
        table.add_column(column, overflow="fold")
    for anomaly in report.anomalies:
        table.add_row(
            Text(anomaly.feature, style="bold"),
            anomaly.kind,
            Text(anomaly.severity, style="bold red" if anomaly.severity == "error" else "yellow"),
            anomaly.extent(),
            Text(anomaly.description),
        )
    out.print(table)
