"""Run a recorded firing's pipeline: in this process (`run_firing`), or in a child process.

The scheduler starts every run in a process of its own (`SubprocessLauncher`), running
`python -m shipyard.scheduling.launch FIRING`: a pipeline that crashes, leaks or is killed
never takes the scheduler with it, and each run imports the pipeline file afresh. The
store's URL goes to the child in `SHIPYARD_STORE`, never on its command line (which any
user can read, with a PostgreSQL password). The child marks the firing running (a claim:
only one process ever runs a firing), runs the pipeline through `shipyard.run` with the
trigger recorded on the run, links the run to the firing as soon as the run is registered,
and records how the firing ended. A child that dies without recording it is recorded by
the scheduler (`Scheduler`), from its exit code.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import traceback
from typing import TYPE_CHECKING, Any, Protocol, cast

if TYPE_CHECKING:
    from collections.abc import Sequence

    from shipyard.runners.hooks import RunHook
    from shipyard.scheduling.store import SchedulerStore
    from shipyard.store.firings import FiringRecord

STORE_VARIABLE = "SHIPYARD_STORE"
"""The variable the child reads its store's URL from, as every command does."""

__all__ = [
    "STORE_VARIABLE",
    "Handle",
    "Launcher",
    "SubprocessLauncher",
    "main",
    "run_firing",
    "run_spec",
]


class Handle(Protocol):
    """A firing's run started by a launcher."""

    def poll(self) -> int | None:
        """Return the exit code once it ended (negative: killed by that signal), else None."""
        ...

    def stop(self) -> None:
        """Ask it to stop (SIGTERM): the run records itself interrupted."""
        ...

    def kill(self) -> None:
        """End it at once."""
        ...


class Launcher(Protocol):
    """Starts the run of a pending firing somewhere, without waiting for it."""

    def start(self, firing: FiringRecord) -> Handle:
        """Start running `firing` (pending, recorded with its `run` spec)."""
        ...


class SubprocessLauncher:
    """Runs each firing in a child process of its own, in the run's directory.

    Args:
        store_url: The store the child records in.
    """

    def __init__(self, store_url: str) -> None:
        self.store_url = store_url

    def start(self, firing: FiringRecord) -> Handle:
        """Start `python -m shipyard.scheduling.launch` for the firing."""
        command = [sys.executable, "-m", "shipyard.scheduling.launch", str(firing.id)]
        env = {**os.environ, STORE_VARIABLE: self.store_url}
        # A session of its own: a Ctrl-C at the scheduler's terminal reaches the scheduler
        # only, which stops its runs itself (and a run's engine processes with it).
        process = subprocess.Popen(
            command, cwd=run_spec(firing)["cwd"], env=env, start_new_session=True
        )
        return _ProcessHandle(process)


class _ProcessHandle:
    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process

    def poll(self) -> int | None:
        return self.process.poll()

    def stop(self) -> None:
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def _signal(self, sig: signal.Signals) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                pass


def run_spec(firing: FiringRecord) -> dict[str, Any]:
    """The run a firing asks for: `file`, `pipeline`, `params`, `cwd`, `artifact_root`."""
    spec: dict[str, Any] = firing.properties["run"]
    return spec


def run_firing(
    store: SchedulerStore,
    store_url: str,
    firing_id: int,
    *,
    progress: bool | None = False,
    by_scheduler: bool = True,
) -> FiringRecord:
    """Run a pending firing's pipeline here and record how it ended.

    Args:
        store: The store the firing is recorded in.
        store_url: Its URL, for the run.
        firing_id: A pending firing.
        progress: Show the run's live display.
        by_scheduler: Whether a scheduler started this process, and resumes the run if
            the process is interrupted or dies (False for `shipyard trigger`: the person
            who stopped it decides).

    Returns:
        The firing as it ended; unchanged when it was not pending (another process runs it).

    Raises:
        KeyboardInterrupt: Ctrl-C or SIGTERM stopped the run; the firing is interrupted.
    """
    from shipyard.errors import ShipyardError
    from shipyard.runners.api import run
    from shipyard.runners.liveness import process_started

    pid = os.getpid()
    launcher = {
        "host": socket.gethostname(), "pid": pid, "pid_started": process_started(pid),
        "by_scheduler": by_scheduler,
    }  # fmt: skip
    firing = store.start_firing(firing_id, launcher=launcher)
    if firing is None:
        return store.get_firing(firing_id)
    spec = run_spec(firing)
    trigger = {"name": firing.trigger, "kind": firing.kind, "reason": firing.reason}
    try:
        result = run(
            spec["file"],
            params=spec.get("params") or {},
            pipeline=spec.get("pipeline"),
            store=store_url,
            artifact_root=spec.get("artifact_root"),
            progress=progress,
            hooks=[cast("RunHook", _LinkRun(store, firing_id))],  # the event it needs
            properties={"trigger": {**trigger, "firing": firing_id}},
        )
    except KeyboardInterrupt:
        store.finish_firing(firing_id, "interrupted", error="interrupted by Ctrl-C or SIGTERM")
        raise
    except ShipyardError as exc:
        return store.finish_firing(firing_id, "failed", error=f"{exc.headline}: {exc}")
    except Exception as exc:  # the user's pipeline file raised: record it, never lose it
        text = "".join(traceback.format_exception(exc))
        return store.finish_firing(firing_id, "failed", error=text)
    if result.ok:
        return store.finish_firing(firing_id, "complete")
    failed = ", ".join(node.name for node in result.failed) or "none"
    return store.finish_firing(
        firing_id, "failed", error=f"run {result.id} {result.state}; failed nodes: {failed}"
    )


class _LinkRun:
    """Links the firing to its run as soon as the run is registered (lineage)."""

    def __init__(self, store: SchedulerStore, firing_id: int) -> None:
        self.store, self.firing_id = store, firing_id

    def on_run_start(self, *, run_id: str, **future: Any) -> None:
        self.store.link_firing(self.firing_id, run_id)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one firing (`python -m shipyard.scheduling.launch FIRING`).

    Returns:
        The exit code: 0 complete, 1 failed, 130 interrupted.
    """
    from shipyard.errors import ShipyardError
    from shipyard.scheduling.store import open_scheduler_store

    parser = argparse.ArgumentParser(prog="python -m shipyard.scheduling.launch")
    parser.add_argument("firing", type=int, help="The id of a pending firing.")
    args = parser.parse_args(argv)
    url = os.environ.get(STORE_VARIABLE)
    if not url:
        parser.error(f"{STORE_VARIABLE} must hold the store's URL")
    try:
        store = open_scheduler_store(url)
        try:
            firing = run_firing(store, url, args.firing)
        finally:
            store.close()
    except KeyboardInterrupt:
        return 130
    except ShipyardError as exc:
        sys.stderr.write(f"{exc.headline}: {exc}\n")
        return 1
    line = f"Trigger {firing.trigger!r}, firing {firing.id}: run {firing.run_id} {firing.state}"
    sys.stderr.write(line + (f": {firing.error.splitlines()[-1]}\n" if firing.error else "\n"))
    return 0 if firing.state == "complete" else 1


if __name__ == "__main__":
    sys.exit(main())
