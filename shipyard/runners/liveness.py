"""Whether the process that started a run is still alive, robust to recycled process ids.

A run records its host, its pid and, where the system tells it (Linux `/proc`), when that
process started. A pid alone is not enough: after a crash the system may give the same pid to
an unrelated process, and the dead run would show `running` forever. With the start time, a
pid that now belongs to a younger process counts as dead. A zombie (a process that ended and
that nobody reaped: its parent died too, in a container whose init reaps nothing) is dead.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shipyard.io import ArtifactStorage
    from shipyard.store import MetadataStore, RunRecord

_PROC = Path("/proc")


def process_started(pid: int) -> int | None:
    """When process `pid` started, in clock ticks since boot; None where it cannot be told.

    Args:
        pid: A process id.
    """
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # Field 2 (the command) is in parentheses and may hold spaces; field 22 is the start time.
    fields = stat[stat.rfind(")") + 2 :].split()
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None


def process_alive(pid: int, started: int | None = None) -> bool:
    """Whether process `pid` runs, and is the one that started at `started` (when given).

    Args:
        pid: The process id a run recorded.
        started: Its recorded start (`process_started`), or None to check the pid only.
    """
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        pass
    if _zombie(pid):
        return False
    if started is None:
        return True
    now = process_started(pid)
    return now is None or now == started


def _zombie(pid: int) -> bool:
    """Whether process `pid` has ended and waits to be reaped (state Z in /proc)."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2 :].split()[:1] == ["Z"]


def run_is_dead(run: RunRecord) -> bool:
    """Whether `run` was started on this host by a process that is gone (killed, crashed).

    A run of another host, or one that recorded no pid, is never judged dead here.
    """
    pid, started = run.properties.get("pid"), run.properties.get("pid_started")
    return (
        isinstance(pid, int)
        and run.properties.get("host") == socket.gethostname()
        and not process_alive(pid, started if isinstance(started, int) else None)
    )


def abandon_dead_runs(
    store: MetadataStore, storage: ArtifactStorage, *, pipeline: str | None
) -> list[str]:
    """Mark runs of this host whose process is gone (killed, crashed) as abandoned."""
    abandoned = []
    for run in store.list_runs(pipeline=pipeline, limit=200):
        if run.state == "running" and run_is_dead(run):
            store.abandon_run(run.id)
            storage.discard_run_staging(run.id)
            abandoned.append(run.id)
    return abandoned
