"""Login throttling: after 5 failed logins in a minute for a user or from an address, wait.

Failures are counted per key (`user:NAME`, `client:ADDRESS`) in a sliding window. A key with
`max_failures` failures in the last `window_s` seconds is refused until the oldest of them
leaves the window; a successful login clears its user's failures (not the address's). The
counts live in the server process: each process of a server counts on its own, so with N
processes an attacker gets at most N times the limit.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["LoginThrottle"]

MAX_KEYS: Final = 100_000  # the least recently failed keys are forgotten past this


class LoginThrottle:
    """Counts failed logins per key and says how long a key must wait.

    Args:
        max_failures: Failures allowed in the window before the key must wait.
        window_s: The window's length in seconds.
        clock: The monotonic clock (tests pass their own).

    Example:
        >>> throttle = LoginThrottle()
        >>> for _ in range(5):
        ...     throttle.failed("user:ana", "client:10.0.0.7")
        >>> throttle.retry_after_s("user:ana", "client:10.0.0.8")
        60
    """

    def __init__(
        self,
        *,
        max_failures: int = 5,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after_s(self, *keys: str) -> int | None:
        """Whole seconds until every key may try again; None if all may now."""
        now = self._clock()
        waits = []
        with self._lock:
            for key in keys:
                recent = self._recent(key, now)
                if recent is not None and len(recent) >= self.max_failures:
                    waits.append(recent[0] + self.window_s - now)
        return max(1, math.ceil(max(waits))) if waits else None

    def failed(self, *keys: str) -> None:
        """Count a failed login against each key."""
        now = self._clock()
        with self._lock:
            for key in keys:
                recent = self._recent(key, now)
                if recent is None:
                    recent = self._failures[key] = deque(maxlen=self.max_failures)
                recent.append(now)
                self._failures.move_to_end(key)
            while len(self._failures) > MAX_KEYS:
                self._failures.popitem(last=False)

    def succeeded(self, key: str) -> None:
        """Forget the failures of `key` (a user who logged in)."""
        with self._lock:
            self._failures.pop(key, None)

    def _recent(self, key: str, now: float) -> deque[float] | None:
        recent = self._failures.get(key)
        while recent and recent[0] <= now - self.window_s:
            recent.popleft()
        return recent
