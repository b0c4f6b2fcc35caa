"""A component that holds its run open until the test releases it (threads engine only)."""

from __future__ import annotations

import threading

from shipyard import Out, component
from shipyard.artifacts import Metrics

RELEASE = threading.Event()


@component
def hold(inp: Metrics, out: Out[Metrics]) -> None:
    """Wait (at most 30 s) for `RELEASE`, then pass the value on."""
    RELEASE.wait(timeout=30)
    out.save({"v": inp.load()["v"]})
