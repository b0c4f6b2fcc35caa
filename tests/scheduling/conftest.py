"""Fixtures of the scheduling tests: a store, a clock moved by hand, launchers, pipelines."""

from __future__ import annotations

import socket
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from shipyard.scheduling.launch import run_firing
from shipyard.scheduling.store import open_scheduler_store

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from shipyard.scheduling.store import SchedulerStore
    from shipyard.store.firings import FiringRecord

START = datetime(2026, 3, 2, 8, 0, 30, tzinfo=UTC)
"""A Monday morning, 30 s past the minute."""

PIPELINE = """\
import os
import time
from pathlib import Path

from shipyard import Out, Pipeline, component
from shipyard.artifacts import Artifact


@component
def blob(out: Out[Artifact], *, size_bytes: int = 10) -> None:
    (out.path / "blob.bin").write_bytes(b"x" * size_bytes)


@component
def crash(out: Out[Artifact]) -> None:
    os._exit(3)


@component
def fail(out: Out[Artifact]) -> None:
    raise RuntimeError("the data is bad")


@component
def sleep(out: Out[Artifact]) -> None:
    Path("started").write_text(str(os.getpid()))
    while Path("block").exists():
        time.sleep(0.05)


def blobs(size_bytes: int = 10) -> Pipeline:
    return Pipeline("blobs", nodes=[blob(size_bytes=size_bytes)])


def crashing() -> Pipeline:
    return Pipeline("crashing", nodes=[crash()])


def failing() -> Pipeline:
    return Pipeline("failing", nodes=[fail()])


def sleeping() -> Pipeline:
    return Pipeline("sleeping", nodes=[sleep()])
"""


class FakeClock:
    """A clock that moves only when told to, or by what the scheduler sleeps."""

    def __init__(self, now: datetime = START) -> None:
        self.time = now

    def now(self) -> datetime:
        return self.time

    def sleep(self, seconds: float) -> None:
        self.time += timedelta(seconds=seconds)

    def move(self, **delta: float) -> datetime:
        self.time += timedelta(**delta)
        return self.time


class HeldHandle:
    """A run that goes on until the test ends it with an exit code."""

    def __init__(self) -> None:
        self.code: int | None = None
        self.stopped = False

    def poll(self) -> int | None:
        return self.code

    def stop(self) -> None:
        self.stopped = True
        self.code = -15

    def kill(self) -> None:
        self.code = -9


class RecordingLauncher:
    """Marks each firing running as a child would, and leaves it running: the test ends it.

    The "child" that claims each firing is a process that has ended (its pid is dead), as a
    real child is once its handle says it exited; `pid` gives another (this process: alive).
    """

    def __init__(self, store: SchedulerStore, *, pid: int | None = None) -> None:
        self.store = store
        self.started: list[FiringRecord] = []
        self.handles: dict[int, HeldHandle] = {}
        if pid is None:
            ended = subprocess.Popen(["true"])
            ended.wait()
            pid = ended.pid
        self.pid = pid

    def start(self, firing: FiringRecord) -> HeldHandle:
        launcher = {"host": socket.gethostname(), "pid": self.pid, "by_scheduler": True}
        running = self.store.start_firing(firing.id, launcher=launcher)
        assert running is not None
        self.started.append(running)
        self.handles[firing.id] = HeldHandle()
        return self.handles[firing.id]

    def end(self, firing_id: int, state: str = "complete", code: int = 0) -> None:
        """End a firing's run: record it as the child would, then exit with `code`."""
        if state:
            self.store.finish_firing(firing_id, state)  # type: ignore[arg-type]
        self.handles[firing_id].code = code


class ThreadHandle:
    def __init__(self, thread: threading.Thread) -> None:
        self.thread = thread

    def poll(self) -> int | None:
        return None if self.thread.is_alive() else 0

    def stop(self) -> None:
        pass

    def kill(self) -> None:
        pass


class ThreadLauncher:
    """Runs each firing's pipeline for real, on a thread of this process."""

    def __init__(self, store: SchedulerStore, url: str) -> None:
        self.store, self.url = store, url

    def start(self, firing: FiringRecord) -> ThreadHandle:
        thread = threading.Thread(target=run_firing, args=(self.store, self.url, firing.id))
        thread.start()
        return ThreadHandle(thread)


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / '.shipyard' / 'store.db'}"


@pytest.fixture
def store(store_url: str) -> Iterator[SchedulerStore]:
    opened = open_scheduler_store(store_url)
    yield opened
    opened.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A directory with the tiny pipelines' file."""
    (tmp_path / "pipeline.py").write_text(PIPELINE)
    return tmp_path


def write_triggers(directory: Path, text: str) -> Path:
    """Write a triggers file into `directory`."""
    path = directory / "triggers.yaml"
    path.write_text(text)
    return path
