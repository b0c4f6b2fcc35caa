"""Components that hold their run open until the test releases them (threads engine only)."""

from __future__ import annotations

import logging
import threading

from shipyard import Out, component
from shipyard.artifacts import Metrics

RELEASE = threading.Event()


@component
def hold(inp: Metrics, out: Out[Metrics]) -> None:
    """Wait (at most 30 s) for `RELEASE`, then pass the value on."""
    RELEASE.wait(timeout=30)
    out.save({"v": inp.load()["v"]})


@component
def chatty(inp: Metrics, out: Out[Metrics]) -> None:
    """Log a record, wait (at most 30 s) for `RELEASE`, log another, pass the value on."""
    log = logging.getLogger("tests.ui.chatty")
    log.setLevel(logging.INFO)
    log.info("read %s", inp.load()["v"])
    RELEASE.wait(timeout=30)
    log.warning("released")
    out.save({"v": inp.load()["v"]})
