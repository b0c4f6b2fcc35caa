"""The `shipyard` command: a Typer app with one module per command group.

Command modules import only Typer at load time; everything heavy is imported inside the
command, so `shipyard --help` stays fast.
"""

from __future__ import annotations

import sys

import typer

from shipyard.cli import (
    artifacts,
    gc,
    lineage,
    predict,
    run,
    runs,
    schema,
    serve,
    stats,
    train,
    validate,
)

app = typer.Typer(
    name="shipyard",
    help="Shipyard: from raw data to a versioned, served, monitored model.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _print_version(value: bool) -> None:
    if value:
        from shipyard.cli.version import version_line

        typer.echo(version_line())
        raise typer.Exit


@app.callback()
def _options(
    version: bool = typer.Option(
        False,
        "--version",
        is_eager=True,
        callback=_print_version,
        help="Print the version, the Python and the extras installed, then exit.",
    ),
) -> None:
    """Shipyard: from raw data to a versioned, served, monitored model."""


app.command("run")(run.run_command)
app.add_typer(runs.app, name="runs")
app.add_typer(artifacts.app, name="artifacts")
app.command("lineage")(lineage.lineage_command)
app.command("gc")(gc.gc_command)
app.command("schema")(schema.schema_command)
app.command("validate")(validate.validate_command)
app.command("stats")(stats.stats_command)
app.command("train")(train.train_command)
app.command("serve")(serve.serve_command)
app.command("predict")(predict.predict_command)


def _main() -> None:
    """Run the app; print Shipyard errors as headlines, anything else as a bug."""
    from shipyard.cli.output import (
        EXIT_FAILED,
        EXIT_INTERNAL,
        exit_interrupted,
        print_error,
        print_internal_error,
    )
    from shipyard.errors import ShipyardError
    from shipyard.extras import missing_extra

    try:
        app()
    except ShipyardError as error:
        print_error(error)
        sys.exit(EXIT_FAILED)
    except ImportError as error:
        command = " ".join(["shipyard", *sys.argv[1:2]])
        missing = missing_extra(error, needed_by=command)
        if missing is None:
            print_internal_error(error)
            sys.exit(EXIT_INTERNAL)
        print_error(missing)
        sys.exit(EXIT_FAILED)
    except KeyboardInterrupt:
        exit_interrupted()
    except Exception as error:
        print_internal_error(error)
        sys.exit(EXIT_INTERNAL)


def main() -> None:
    """Entry point: run the app, then end the process without the interpreter's teardown.

    See `shipyard.cli.process_exit` (after a training the teardown costs more than a second).
    """
    from shipyard.cli.process_exit import exit_process

    try:
        _main()
    except SystemExit as done:
        exit_process(done.code)
    exit_process(0)
