"""`shipyard monitor LOGS --reference DATA`: drift and data quality of served requests.

Exit codes, for scripts and cron: 0 when no alert is firing, 1 when one is (fired by this
run or still firing), 2 when the command cannot run (a bad flag, no reference, missing
logs). Malformed log files are listed and skipped, never fatal.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shipyard.cli.options import JsonOption, StoreOption

if TYPE_CHECKING:
    from shipyard.monitoring.decay import DecayOptions
    from shipyard.monitoring.report import MonitorResult

EXIT_ALERT = 1
EXIT_USAGE = 2
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def monitor_command(
    logs: Annotated[
        str,
        typer.Argument(
            metavar="LOGS",
            help="The request logs: the server's --request-log-dir (or one model's directory "
            "in it), or a file, glob or fsspec URL of Parquet or CSV files with a timestamp.",
        ),
    ],
    reference: Annotated[
        str | None,
        typer.Option(
            "--reference",
            metavar="DATA",
            help="The data to compare with, e.g. the training data. Default: the recorded "
            "reference, else the training statistics of the served version, found in the store.",
        ),
    ] = None,
    schema: Annotated[
        Path | None,
        typer.Option(
            "--schema",
            "-s",
            metavar="FILE",
            help="A schema YAML: its drift comparators, ranges, domains and presence apply.",
        ),
    ] = None,
    window: Annotated[
        str,
        typer.Option("--window", metavar="DURATION", help="The windows' length: 90s, 15m, 1h, 1d."),
    ] = "1h",
    slide: Annotated[
        str | None,
        typer.Option(
            "--slide",
            metavar="DURATION",
            help="Start a window this often (sliding windows); default: --window (tumbling).",
        ),
    ] = None,
    lateness: Annotated[
        str,
        typer.Option(
            "--lateness",
            metavar="DURATION",
            help="How long after its end a window still takes late records.",
        ),
    ] = "0s",
    timestamp: Annotated[
        str, typer.Option("--timestamp", metavar="COLUMN", help="The column of event times.")
    ] = "timestamp",
    min_rows: Annotated[
        int,
        typer.Option("--min-rows", min=1, help="The fewest values a window needs to be measured."),
    ] = 1000,
    dataset_share: Annotated[
        float,
        typer.Option(
            "--dataset-share",
            min=0.0,
            max=1.0,
            help="The share of drifted features that is dataset drift.",
        ),
    ] = 0.5,
    latency_p99_ms: Annotated[
        float | None,
        typer.Option(
            "--latency-p99-ms",
            min=0.0,
            metavar="MS",
            help="Alert when a window's p99 request latency exceeds this many milliseconds.",
        ),
    ] = None,
    webhook: Annotated[
        str | None,
        typer.Option(
            "--webhook",
            metavar="URL",
            help="POST firing and resolved alerts here, as Alertmanager's webhook does.",
        ),
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option("--html", metavar="FILE", help="Also write an HTML report to this file."),
    ] = None,
    prometheus: Annotated[
        Path | None,
        typer.Option(
            "--prometheus",
            metavar="FILE",
            help="Write the latest window's figures as Prometheus gauges (textfile collector).",
        ),
    ] = None,
    min_labels: Annotated[
        int,
        typer.Option(
            "--min-labels",
            min=1,
            help="Decay: the fewest labelled predictions a window needs to be compared with "
            "the evaluation.",
        ),
    ] = 500,
    decay_tolerance: Annotated[
        list[str] | None,
        typer.Option(
            "--decay-tolerance",
            metavar="METRIC=VALUE",
            help="Decay: how far a live metric may fall behind evaluation, e.g. accuracy=0.03 "
            "(absolute for accuracy and auc; relative for log_loss, rmse, mae). Repeatable.",
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(
            "--name",
            metavar="NAME",
            help="The monitor's name, under which its state is kept. Default: LOGS.",
        ),
    ] = None,
    store: StoreOption = None,
    json_output: JsonOption = False,
) -> None:
    """Monitor served requests: drift, missing and bad values per window; alert on change.

    Reads only the log files no earlier run of this monitor read (its state is kept in the
    store), counts them into event-time windows, and compares each window with the
    reference. Where labels were stored beside the logs (`shipyard feedback`), each window's
    live metrics are compared with the served version's evaluation (decay). Exit codes: 0
    no alert firing, 1 an alert is firing, 2 the command could not run.
    """
    _without_blas_threads()
    from shipyard.cli.output import print_error, print_json
    from shipyard.errors import ShipyardError

    try:
        decay = _decay_options(min_labels, decay_tolerance or [])
        report = _monitor(
            logs, reference, schema, window, slide, lateness, timestamp, min_rows,
            dataset_share, latency_p99_ms, webhook, name, store, decay,
        )  # fmt: skip
    except ShipyardError as error:
        print_error(error)
        raise typer.Exit(EXIT_USAGE) from None
    if json_output:
        print_json(report.to_json())
    else:
        _print_report(report)
    _log_alerts(report)
    if html is not None:
        _write_file(report, html, "--html", json_output=json_output)
    if prometheus is not None:
        _write_file(report, prometheus, "--prometheus", json_output=json_output)
    if report.alerting:
        raise typer.Exit(EXIT_ALERT)


def _without_blas_threads() -> None:
    """Start no OpenBLAS threads when NumPy loads (a user's OPENBLAS_NUM_THREADS stays).

    The monitor does no linear algebra, and OpenBLAS starts a thread per core and sizes
    their buffers when NumPy is imported: 30-50 ms of CPU at each run, for nothing.
    """
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def parse_duration(text: str, flag: str) -> int:
    """Return a duration like `90s`, `15m`, `1h` or `1d` in seconds.

    Raises:
        InvalidParameterError: `text` is not such a duration.
    """
    from shipyard.errors import InvalidParameterError

    found = re.fullmatch(r"\s*(\d+)\s*([smhd])\s*", text)
    positive = flag in ("--window", "--slide")
    if found is None or (int(found.group(1)) == 0 and positive):
        raise InvalidParameterError(
            f"The {flag!r} option of shipyard monitor must be a duration such as 90s, 15m, "
            f"1h or 1d{' (not 0)' if positive else ''}. Got {text!r} instead."
        )
    return int(found.group(1)) * _UNITS[found.group(2)]


def _monitor(
    logs: str,
    reference: str | None,
    schema: Path | None,
    window: str,
    slide: str | None,
    lateness: str,
    timestamp: str,
    min_rows: int,
    dataset_share: float,
    latency_p99_ms: float | None,
    webhook: str | None,
    name: str | None,
    store: str | None,
    decay: DecayOptions,
) -> MonitorResult:
    from shipyard.artifacts.schema import read_schema_file
    from shipyard.errors import InvalidParameterError

    if webhook is not None and not webhook.startswith(("http://", "https://")):
        raise InvalidParameterError(
            "The '--webhook' option of shipyard monitor must be an http:// or https:// URL. "
            f"Got {webhook!r} instead."
        )
    window_s = parse_duration(window, "--window")
    slide_s = None if slide is None else parse_duration(slide, "--slide")
    if slide_s is not None and slide_s > window_s:
        raise InvalidParameterError(
            f"The '--slide' option of shipyard monitor must be at most --window ({window}), "
            f"or windows would leave rows out. Got {slide!r} instead."
        )
    lateness_s = parse_duration(lateness, "--lateness")
    data_schema = None if schema is None else read_schema_file(schema)
    prefetch = None
    if reference is not None:  # read while the store opens; cancelled if the state has it
        from shipyard.monitoring.reference_data import ReferencePrefetch

        prefetch = ReferencePrefetch(reference, data_schema, timestamp)

    from shipyard.monitoring.measures import LatencyMeasure
    from shipyard.monitoring.monitor import MonitorOptions
    from shipyard.runners import Project
    from shipyard.runners.monitor_runs import monitor
    from shipyard.runners.served_evaluation import served_evaluation
    from shipyard.runners.served_statistics import served_statistics

    options = MonitorOptions(
        logs=logs,
        name=name or _default_name(logs),
        reference=reference,
        schema=data_schema,
        window_s=window_s,
        slide_s=slide_s,
        lateness_s=lateness_s,
        timestamp=timestamp,
        min_rows=min_rows,
        dataset_share=dataset_share,
        webhook=webhook,
        measures=(LatencyMeasure(p99_threshold_ms=latency_p99_ms),),
        prefetch=prefetch,
    )
    with Project.open(store=store) as project:
        lineage = functools.partial(served_statistics, project)
        evaluation = functools.partial(served_evaluation, project)
        decay = dataclasses.replace(decay, find_evaluation=evaluation)
        options = dataclasses.replace(options, find_reference=lineage, decay=decay)
        return monitor(project.store, project.storage, options)


def _decay_options(min_labels: int, tolerances: list[str]) -> DecayOptions:
    """The decay options, with `--decay-tolerance METRIC=VALUE` over the defaults.

    Raises:
        InvalidParameterError: A tolerance is not `METRIC=VALUE` with a known metric and
            a number >= 0.
    """
    from shipyard.errors import InvalidParameterError
    from shipyard.monitoring.decay import DEFAULT_TOLERANCES, DecayOptions

    chosen = dict(DEFAULT_TOLERANCES)
    for text in tolerances:
        metric, _, value = text.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = -1.0
        if metric.strip() not in chosen or not number >= 0:
            raise InvalidParameterError(
                "The '--decay-tolerance' option of shipyard monitor must be METRIC=VALUE with "
                f"METRIC one of {', '.join(DEFAULT_TOLERANCES)} and VALUE a number >= 0. "
                f"Got {text!r} instead."
            )
        chosen[metric.strip()] = number
    return DecayOptions(min_labels=min_labels, tolerances=chosen)


def _default_name(logs: str) -> str:
    """A local path's absolute form; a URL as written."""
    if "://" in logs:
        return logs
    return str(Path(logs).absolute())


def _log_alerts(report: MonitorResult) -> None:
    from shipyard.monitoring.alerts import log_line

    for alert in report.notifications:
        typer.echo(log_line(alert), err=True)
    if report.webhook_error is not None:
        typer.echo(
            f"Could not post {len(report.notifications)} alert notifications: "
            f"{report.webhook_error}. The next run posts them again.",
            err=True,
        )


def _write_file(report: MonitorResult, path: Path, flag: str, *, json_output: bool) -> None:
    """Write the HTML report (`--html`) or the Prometheus gauges (`--prometheus`)."""
    from shipyard.cli.output import print_error
    from shipyard.errors import InvalidParameterError
    from shipyard.monitoring.prometheus import write_gauges
    from shipyard.monitoring.report_html import render_report

    try:
        if flag == "--html":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(render_report(report), encoding="utf-8")
            done = f"Wrote the HTML report to {path}"
        elif write_gauges(report, path):
            done = f"Wrote the latest window's gauges to {path}"
        else:
            done = f"No window measured: left {path} as it was"
    except OSError as exc:
        print_error(
            InvalidParameterError(
                f"The {flag!r} option of shipyard monitor must be a file path that can be "
                f"written. Got {str(path)!r} instead ({exc.strerror or exc})."
            )
        )
        raise typer.Exit(EXIT_USAGE) from None
    typer.echo(done, err=json_output)


def _print_report(report: MonitorResult) -> None:
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    from shipyard.cli.output import console
    from shipyard.monitoring.report import firing_line, iso_time

    out = console()
    out.print(
        f"Read {report.files_read} new log files ({report.rows_read:,} rows; "
        f"{report.files_known} read before), {report.late_rows:,} late rows dropped.",
        markup=False,
    )
    for skipped in report.skipped:
        if skipped.new:
            out.print(f"[yellow]Skipped[/] {escape(skipped.path)}: {escape(skipped.reason)}")
    known = sum(not skipped.new for skipped in report.skipped)
    if known:
        out.print(f"{known} files skipped as before (--json lists them).", markup=False)
    if report.new_columns:
        out.print(f"Columns not in the reference: {', '.join(report.new_columns)}", markup=False)
    table = Table(title="Windows", title_justify="left")
    for column in ("window start", "rows", "drifted", "p99 ms", "findings"):
        table.add_column(column, overflow="fold")
    for window in report.windows:
        share = "-" if window.drifted_share is None else f"{window.drifted_share:.0%}"
        found = "; ".join(f"{f.kind} {f.column}" for f in window.findings) or "none"
        label = iso_time(window.start_us) + ("" if window.complete else " (open)")
        style = "bold red" if window.findings else ""
        p99 = window.measures.get("latency", {}).get("p99_ms")
        latency = "-" if p99 is None else f"{p99:.1f}"
        table.add_row(label, f"{window.rows:,}", share, latency, Text(found, style=style))
    out.print(table)
    if report.decay is not None:
        _print_decay(report)
    if report.artifact is not None:
        out.print(f"Recorded as artifact #{report.artifact} (run {report.store_run}).")
    if report.alerting:
        out.print(f"[bold red]{firing_line(len(report.firing))}[/]")
    else:
        out.print("[green]No alert firing.[/]")


def _print_decay(report: MonitorResult) -> None:
    from rich.table import Table
    from rich.text import Text

    from shipyard.artifacts.evaluation import format_metric
    from shipyard.cli.output import console
    from shipyard.monitoring.report import iso_time

    decay = report.decay
    assert decay is not None
    out = console()
    out.print(
        f"Labels: {decay.labels:,} ({decay.matched:,} matched to logged predictions, "
        f"{decay.unmatched:,} not or not yet).",
        markup=False,
    )
    table = Table(title="Live metrics (evaluation)", title_justify="left")
    for column in ("window start", "version", "labelled", "metrics", "findings"):
        table.add_column(column, overflow="fold")
    for window in decay.windows:
        metrics = "; ".join(
            f"{name} {format_metric(value)} ({format_metric(window.evaluation.get(name))})"
            for name, value in window.metrics.items()
        )
        found = "; ".join(f.column for f in window.findings) or "none"
        style = "bold red" if window.findings else ""
        table.add_row(
            iso_time(window.start_us),
            window.version,
            f"{window.labelled:,}",
            metrics,
            Text(found, style=style),
        )
    out.print(table)
