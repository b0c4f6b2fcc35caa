"""`shipyard schedule TRIGGERS.yaml`: run the triggers; `shipyard trigger NAME`: fire one now.

The store is the one of the triggers file's directory (the nearest .shipyard/ at or above it,
or `--store`); runs start in that directory. `schedule` runs until Ctrl-C or SIGTERM, which
stop its runs (they resume when a scheduler starts again); a second Ctrl-C exits at once.
`--once` evaluates every trigger once and waits for the runs it started, for cron.
Exit codes: 0, or 1 when a run `--once` started or `trigger` ran did not complete (or the
trigger was not run: its pipeline is at its limit of runs, or cooling down).
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shipyard.cli.options import ArtifactRootOption, JsonOption, StoreOption

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import FrameType

    from shipyard.monitoring.monitor import MonitorOptions
    from shipyard.monitoring.report import MonitorResult
    from shipyard.runners import Project
    from shipyard.scheduling.scheduler import Scheduler
    from shipyard.scheduling.store import SchedulerStore
    from shipyard.scheduling.triggers import TriggersConfig
    from shipyard.store.firings import FiringRecord

DEFAULT_TRIGGERS = "triggers.yaml"
TRIGGER_WAIT_S = 60.0
"""How long `shipyard trigger` waits for the running scheduler to start the run it asked for."""

TriggersArgument = Annotated[
    Path,
    typer.Argument(metavar="TRIGGERS", help="The triggers file (YAML); see docs/continuous.md."),
]


def schedule_command(
    triggers: TriggersArgument,
    once: Annotated[
        bool,
        typer.Option(
            "--once", help="Evaluate every trigger once, wait for the runs it fired, and exit."
        ),
    ] = False,
    print_systemd_unit: Annotated[
        bool,
        typer.Option("--print-systemd-unit", help="Print a systemd unit that runs the scheduler."),
    ] = False,
    print_cron: Annotated[
        bool,
        typer.Option("--print-cron", help="Print a crontab line that runs it --once a minute."),
    ] = False,
    status: Annotated[
        bool,
        typer.Option(
            "--status",
            help="Show each trigger: the scheduler holding it, its next time, its last firing.",
        ),
    ] = False,
    store: StoreOption = None,
    artifact_root: ArtifactRootOption = None,
    json_output: Annotated[
        bool,
        typer.Option("--json", help="With --once or --status: print JSON on stdout."),
    ] = False,
) -> None:
    """Run the triggers of a triggers file: schedules, new data, monitor alerts.

    Each firing is recorded in the store before its run starts, with the trigger's name,
    kind and reason; `shipyard runs` shows which trigger started a run. Runs start in a
    process of their own in the triggers file's directory.
    """
    from shipyard.cli.output import exit_on_interrupt, print_json
    from shipyard.scheduling.firing import firing_json
    from shipyard.scheduling.install import cron_line, systemd_unit
    from shipyard.scheduling.triggers_file import load_triggers

    config = load_triggers(triggers)
    if print_systemd_unit or print_cron:
        store_url = None if store is None else _absolute_sqlite(store)
        text = (systemd_unit if print_systemd_unit else cron_line)(config.path, store_url)
        typer.echo(text, nl=False)
        return
    if status:
        _print_status(config, store, artifact_root, json_output=json_output)
        return
    _log_to_stderr()
    with _project(config, store, artifact_root) as project, exit_on_interrupt():
        scheduler = _scheduler(config, project)
        if once:
            with _interrupt_on_sigterm():
                firings = scheduler.run_once()
            if json_output:
                print_json([firing_json(firing) for firing in firings])
            if any(firing.state != "complete" for firing in firings):
                raise typer.Exit(1)
            return
        typer.echo(
            f"Scheduling the {len(config.triggers)} triggers of {config.path} on the store "
            f"{project.store.url}; Ctrl-C or SIGTERM stops.",
            err=True,
        )
        stop = threading.Event()
        with _stop_on_signals(stop):
            scheduler.run(stop)


def trigger_command(
    name: Annotated[str, typer.Argument(help="The trigger's name in the triggers file.")],
    triggers: Annotated[
        Path,
        typer.Option("--triggers", metavar="FILE", help="The triggers file (YAML)."),
    ] = Path(DEFAULT_TRIGGERS),
    store: StoreOption = None,
    artifact_root: ArtifactRootOption = None,
    json_output: JsonOption = False,
) -> None:
    """Fire a trigger now: through the running scheduler if one holds it, else run it here.

    Its pipeline's limits apply (runs at once, cool-down): a firing they block is recorded
    as skipped and the command exits 1.
    """
    from shipyard.cli.output import console, exit_on_interrupt, print_json
    from shipyard.scheduling.clock import SystemClock
    from shipyard.scheduling.firing import firing_json
    from shipyard.scheduling.launch import run_firing, run_spec
    from shipyard.scheduling.manual import fire_by_hand, wait_for_start
    from shipyard.scheduling.store import scheduler_store
    from shipyard.scheduling.triggers_file import load_triggers

    config = load_triggers(triggers)
    with _project(config, store, artifact_root) as project:
        log = scheduler_store(project.store)
        fired = fire_by_hand(
            config,
            name,
            log,
            now=SystemClock().now(),
            artifact_root=project.settings.artifact_root,
        )
        firing = fired.firing
        out = console(stderr=True)
        if fired.route == "scheduler":
            firing = wait_for_start(log, firing.id, timeout_s=TRIGGER_WAIT_S)
            waiting = (
                ""
                if firing.state != "requested"
                else f"; not admitted in {TRIGGER_WAIT_S:.0f} s, it runs when a scheduler "
                "holding the trigger admits it"
            )
            out.print(
                f"Trigger {name!r} fired through the running scheduler ({fired.scheduler}): "
                f"{_state_line(firing)}{waiting}",
                markup=False,
            )
        elif firing.state == "skipped":
            out.print(f"Trigger {name!r} not run: {fired.reason}.", markup=False)
        else:
            os.chdir(run_spec(firing)["cwd"])
            with exit_on_interrupt():
                firing = run_firing(
                    log, project.settings.store_url, firing.id, progress=None, by_scheduler=False
                )
            out.print(f"Trigger {name!r}: {_state_line(firing)}", markup=False)
    if json_output:
        print_json(firing_json(firing))
    if firing.state in ("skipped", "failed", "interrupted"):
        raise typer.Exit(1)


def _print_status(
    config: TriggersConfig, store: str | None, artifact_root: str | None, *, json_output: bool
) -> None:
    from rich.table import Table

    from shipyard.cli.output import console, print_json
    from shipyard.runners import Project
    from shipyard.scheduling.clock import SystemClock
    from shipyard.scheduling.status import trigger_status
    from shipyard.scheduling.store import scheduler_store

    url = None if store is None else _absolute_sqlite(store)
    with Project.open(store=url, artifact_root=artifact_root, cwd=config.directory,
                      create=False) as project:  # fmt: skip
        statuses = trigger_status(config, scheduler_store(project.store), SystemClock().now())
    if json_output:
        print_json(statuses)
        return
    table = Table(title=f"Triggers of {config.path}", title_justify="left")
    for column in ("trigger", "kind", "held by", "next time", "last firing"):
        table.add_column(column, overflow="fold")
    for entry in statuses:
        last = entry["last_firing"]
        fired = "never" if last is None else (
            f"{last['fired_at'][:16].replace('T', ' ')} {last['state']}"
            + (f", run {last['run_id']}" if last["run_id"] else "")
            + (f"\n{last['error'].strip().splitlines()[-1]}" if last["error"] else "")
        )  # fmt: skip
        table.add_row(
            entry["trigger"], entry["kind"], entry["held_by"] or "no scheduler",
            (entry["next_time"] or "")[:16].replace("T", " "), fired,
        )  # fmt: skip
    console().print(table)


def _state_line(firing: FiringRecord) -> str:
    run = f"run {firing.run_id}" if firing.run_id else "no run yet"
    error = f": {firing.error.strip().splitlines()[-1]}" if firing.error else ""
    return f"firing {firing.id} ({firing.state}), {run}{error}"


def _project(config: TriggersConfig, store: str | None, artifact_root: str | None) -> Project:
    from shipyard.runners import Project

    return Project.open(
        store=None if store is None else _absolute_sqlite(store),
        artifact_root=artifact_root,
        cwd=config.directory,
    )


def _scheduler(config: TriggersConfig, project: Project) -> Scheduler:
    from shipyard.scheduling.launch import SubprocessLauncher
    from shipyard.scheduling.scheduler import Scheduler
    from shipyard.scheduling.store import scheduler_store

    store: SchedulerStore = scheduler_store(project.store)
    url = project.settings.store_url
    return Scheduler(
        config,
        store,
        launcher=SubprocessLauncher(url),
        artifact_root=project.settings.artifact_root,
        monitor=functools.partial(_monitor, project),
    )


def _monitor(project: Project, options: MonitorOptions) -> MonitorResult:
    """Run a monitor trigger's monitor as `shipyard monitor` runs it, in the project's store:
    with the labels stored beside its logs, decay against the served version's evaluation."""
    from dataclasses import replace

    from shipyard.monitoring.decay import DecayOptions
    from shipyard.runners.monitor_runs import monitor
    from shipyard.runners.served_evaluation import served_evaluation
    from shipyard.runners.served_statistics import served_statistics

    lineage = functools.partial(served_statistics, project)
    decay = DecayOptions(find_evaluation=functools.partial(served_evaluation, project))
    options = replace(options, find_reference=lineage, decay=decay)
    return monitor(project.store, project.storage, options)


def _absolute_sqlite(url: str) -> str:
    """A SQLite URL with a relative path made absolute: runs start in another directory."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != prefix:
        return prefix + str(Path(url[len(prefix) :]).absolute())
    return url


def _log_to_stderr() -> None:
    import logging

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S"))
    logger = logging.getLogger("shipyard.scheduling")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


@contextlib.contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """The first SIGINT or SIGTERM sets `stop`; a second raises KeyboardInterrupt."""

    def handle(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        typer.echo(
            f"{signal.Signals(signum).name}: stopping the runs (they resume when a scheduler "
            "starts again); press Ctrl-C again to exit at once.",
            err=True,
        )

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def _interrupt_on_sigterm() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt, as Ctrl-C does, so that `--once` stops its runs."""
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
