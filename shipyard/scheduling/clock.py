"""The scheduler's clock: the real one, or one a test moves by hand."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Tells the time (aware, UTC) and waits."""

    def now(self) -> datetime:
        """Return the current time, timezone-aware."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait `seconds` (a test clock moves its time instead)."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        """Return the current UTC time."""
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        """Sleep `seconds`."""
        time.sleep(seconds)
