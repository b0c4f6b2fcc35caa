"""Ctrl-C during a run: the first asks running nodes to stop, the second exits at once.

`stop_signals()` installs handlers for SIGINT (Ctrl-C) and SIGTERM (`kill`, `docker stop`)
while a run drives its nodes. The first signal only sets a flag: the runner stops starting
nodes, tells running ones to stop (`TaskContext.interrupted`), waits up to
`STOP_GRACE_S` for them, records them interrupted and ends the run. A second signal raises
`KeyboardInterrupt` in the main thread at once: the runner records what was running as
interrupted and the command exits without waiting for the threads.

Handlers can only be installed from the main thread; elsewhere (a run started from a worker
thread) signals keep their usual effect.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import FrameType

STOP_GRACE_S = 10.0
"""How long a first Ctrl-C waits for running nodes to stop before leaving them behind."""

POLL_S = 0.2
"""How often the runner looks at the stop flag while nodes run."""

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequest:
    """The stop flag of one run, set by a first Ctrl-C (or by `request`).

    Attributes:
        signal_name: The signal that set it ("SIGINT", "SIGTERM"), or "request".
        requested_at: When it was set (`time.monotonic()`), or None.
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self.signal_name = ""
        self.requested_at: float | None = None

    def request(self, signal_name: str = "request") -> None:
        """Ask the run to stop."""
        if not self._event.is_set():
            self.signal_name = signal_name
            self.requested_at = time.monotonic()
            self._event.set()

    def is_set(self) -> bool:
        """Whether the run was asked to stop (safe to call from any thread)."""
        return self._event.is_set()

    def describe(self) -> str:
        """How the stop was asked for, for messages: "Ctrl-C (SIGINT)"."""
        if self.signal_name == "SIGINT":
            return "Ctrl-C (SIGINT)"
        return self.signal_name or "nothing"


@contextlib.contextmanager
def stop_signals(stop: StopRequest) -> Iterator[StopRequest]:
    """Route SIGINT and SIGTERM to `stop` inside the block; a second one raises at once.

    Args:
        stop: The flag a first signal sets.

    Yields:
        `stop`.

    Raises:
        KeyboardInterrupt: From the block, on the second signal.
    """
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handle(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.request(signal.Signals(signum).name)

    previous: dict[signal.Signals, Any] = {sig: signal.signal(sig, handle) for sig in _SIGNALS}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
