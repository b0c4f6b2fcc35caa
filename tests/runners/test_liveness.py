"""Telling a dead run's process from a live one, a recycled pid included."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from shipyard.runners.liveness import process_alive, process_started


def test_this_process_is_alive() -> None:
    assert process_alive(os.getpid(), process_started(os.getpid()))


def test_an_exited_process_is_dead() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not process_alive(child.pid)


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc start times")
def test_a_pid_now_held_by_another_process_counts_as_dead() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        started = process_started(child.pid)
        assert started is not None
        assert process_alive(child.pid, started)
        assert not process_alive(child.pid, started - 1)  # the recorded process started earlier
    finally:
        child.kill()
        child.wait()


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc states")
def test_a_process_that_ended_but_was_never_reaped_is_dead() -> None:
    import time
    from pathlib import Path

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    started = process_started(child.pid)
    child.kill()  # not waited for: a zombie until reaped, as one whose parent died too
    try:
        stat = Path(f"/proc/{child.pid}/stat")
        for _ in range(100):
            if stat.read_text().rsplit(")", 1)[1].split()[0] == "Z":
                break
            time.sleep(0.02)
        assert not process_alive(child.pid, started)
        assert not process_alive(child.pid)
    finally:
        child.wait()
