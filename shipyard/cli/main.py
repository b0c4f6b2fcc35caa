"""The `shipyard` command: a Typer app with one module per command group.

No command module is imported until its command runs (`shipyard.cli.lazy`): `shipyard
--help` and `shipyard --version` import Typer and nothing of the commands. Command modules
import only Typer at load time; everything heavy is imported inside the command.
"""

from __future__ import annotations

import sys

import typer

from shipyard.cli.lazy import LazyCommand, lazy_group

COMMANDS = (
    LazyCommand(
        "run",
        "shipyard.cli.run:run_command",
        "Run a pipeline: unchanged nodes come from the cache, the rest execute.",
    ),
    LazyCommand(
        "lineage",
        "shipyard.cli.lineage:lineage_command",
        "Show where an artifact came from and what was made from it.",
    ),
    LazyCommand(
        "gc",
        "shipyard.cli.gc:gc_command",
        "Delete artifacts that none of the newest runs read or wrote; records stay for lineage.",
    ),
    LazyCommand(
        "schema",
        "shipyard.cli.schema:schema_command",
        "Infer a schema from a data file and print it as YAML to curate and pin.",
    ),
    LazyCommand(
        "validate",
        "shipyard.cli.validate:validate_command",
        "Validate a data file against a schema: print its anomalies, exit 1 if there are any.",
    ),
    LazyCommand(
        "stats",
        "shipyard.cli.stats:stats_command",
        "Summarize a dataset per feature: counts, missing values, distributions, top values.",
    ),
    LazyCommand(
        "train",
        "shipyard.cli.train:train_command",
        "Train, evaluate and push a model from a data file, and say where it went.",
    ),
    LazyCommand(
        "serve",
        "shipyard.cli.serve:serve_command",
        "Serve models over HTTP until interrupted (TF Serving /v1 and KServe /v2 APIs).",
    ),
    LazyCommand(
        "monitor",
        "shipyard.cli.monitor:monitor_command",
        "Monitor served requests: drift, missing and bad values per window; alert on change.",
    ),
    LazyCommand(
        "feedback",
        "shipyard.cli.feedback:feedback_command",
        "Store labels that arrived later, keyed by request id, beside the request log.",
    ),
    LazyCommand(
        "promote",
        "shipyard.cli.promote:promote_command",
        "Promote a canary to stable if its live figures match stable's, else roll it back.",
    ),
    LazyCommand(
        "models",
        "shipyard.cli.models:app",
        "List each model's versions: blessing, infra validation, labels, decisions, serving.",
    ),
    LazyCommand(
        "schedule",
        "shipyard.cli.schedule:schedule_command",
        "Run the triggers of a triggers file: schedules, new data, monitor alerts.",
    ),
    LazyCommand(
        "trigger",
        "shipyard.cli.schedule:trigger_command",
        "Fire a trigger now: through the running scheduler if one holds it, else run it here.",
    ),
    LazyCommand(
        "predict",
        "shipyard.cli.predict:predict_command",
        "Predict every row of a file with a model directory, or with a model on a server.",
    ),
    LazyCommand(
        "execute-node",
        "shipyard.cli.execute_node:execute_node_command",
        "Execute one node's task: read its inputs, run its component, publish its outputs.",
    ),
    LazyCommand(
        "compile",
        "shipyard.cli.compile:compile_command",
        "Compile a pipeline to Kubeflow Pipelines YAML: one container task per node.",
    ),
    LazyCommand(
        "image",
        "shipyard.cli.compile:image_command",
        "Build the container image a compiled pipeline runs, from the packaged Dockerfile.",
    ),
    LazyCommand(
        "ui",
        "shipyard.cli.ui:ui_command",
        "Serve the read-only web UI over the store: runs, their graphs, artifacts and models.",
    ),
    LazyCommand(
        "server",
        "shipyard.cli.server:server_command",
        "Serve the platform server's REST API (jobs, packages), each project's web UI (at "
        "/projects/P/, listed at /) and start local workers.",
    ),
    LazyCommand(
        "worker",
        "shipyard.cli.worker:worker_command",
        "Run jobs of the platform server: claim them from its queue, run each as a process.",
    ),
    LazyCommand(
        "jobs", "shipyard.cli.jobs:app", "Submit jobs to a platform server and follow them."
    ),
    LazyCommand(
        "endpoints",
        "shipyard.cli.endpoints:app",
        "Deploy registered models to a platform server's endpoints and see what they serve.",
    ),
    LazyCommand(
        "runs",
        "shipyard.cli.runs:app",
        "List runs, show one run, compare runs, or print their logs.",
    ),
    LazyCommand(
        "users",
        "shipyard.cli.users:app",
        "Add, list, disable and enable the platform server's users, set their passwords "
        "(on the server host).",
    ),
    LazyCommand(
        "projects",
        "shipyard.cli.projects:app",
        "Add and list the platform server's projects (on the server host).",
    ),
    LazyCommand(
        "grant",
        "shipyard.cli.projects:grant_command",
        "Give a user a role in a project (viewer, runner, editor or admin), replacing its own.",
    ),
    LazyCommand(
        "revoke", "shipyard.cli.projects:revoke_command", "Take away a user's role in a project."
    ),
    LazyCommand(
        "tokens",
        "shipyard.cli.tokens:app",
        "Make, list and revoke users' API tokens (on the server host).",
    ),
    LazyCommand(
        "audit",
        "shipyard.cli.audit:audit_command",
        "Print the audit log: who did what, when, where, and how it ended, oldest first.",
    ),
    LazyCommand("artifacts", "shipyard.cli.artifacts:app", "Inspect artifacts."),
)
"""Every command, by name: its function (or Typer app) and the summary `--help` lists."""

app = typer.Typer(
    cls=lazy_group(COMMANDS),
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
    context: typer.Context,
    version: bool = typer.Option(
        False,
        "--version",
        is_eager=True,
        callback=_print_version,
        help="Print the version, the Python and the extras installed, then exit.",
    ),
) -> None:
    """Shipyard: from raw data to a versioned, served, monitored model."""
    _end_startup(context.invoked_subcommand)


def _end_startup(command: str | None) -> None:
    """Collect garbage as usual from here on (`shipyard._startup`), except in `shipyard run`,
    whose start-up goes on until the runner starts the nodes (the runner resumes it)."""
    if command != "run":
        from shipyard._startup import resume_collection

        resume_collection()


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
    from shipyard._startup import pause_collection
    from shipyard.cli.process_exit import exit_process

    pause_collection()  # until the command's own work starts: see `_end_startup`
    try:
        _main()
    except SystemExit as done:
        exit_process(done.code)
    exit_process(0)
