"""Login throttling: after 5 failed logins in a minute for a user or from an address, wait.

Failures are counted per key (`user:NAME`, `client:ADDRESS`) in a sliding window. A key with
`max_failures` failures in the last `window_s` seconds is refused until the oldest of them
leaves the window; a successful login clears its user's failures (not the address's).

The failures are rows of the platform's database (`login_failures`), so every server
process on one database counts the same attempts: an attacker gets the limit once, however
many processes a load balancer spreads the tries over. A key is kept as its SHA-256 (a name
typed at a login, perhaps a password typed in the wrong field, is never written, and any
length fits). A refused try is not counted, so a key holds at most `max_failures` rows; rows
past the window are deleted as failures are written. Times are the servers' UTC clocks: keep
them synchronised (NTP).
"""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, insert, select

from shipyard.store.sql.tables import login_failures

if TYPE_CHECKING:
    from collections.abc import Callable

    from shipyard.platform.database import Database

__all__ = ["LoginThrottle"]


def _now() -> datetime:
    return datetime.now(UTC)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class LoginThrottle:
    """Counts failed logins per key in the database and says how long a key must wait.

    Args:
        database: The platform's database, shared by every server process.
        max_failures: Failures allowed in the window before the key must wait.
        window_s: The window's length in seconds.
        clock: The UTC clock (tests pass their own).

    Example:
        >>> throttle = LoginThrottle(database)
        >>> for _ in range(5):
        ...     throttle.failed("user:ana", "client:10.0.0.7")
        >>> throttle.retry_after_s("user:ana", "client:10.0.0.8")
        60
    """

    def __init__(
        self,
        database: Database,
        *,
        max_failures: int = 5,
        window_s: float = 60.0,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.max_failures = max_failures
        self.window = timedelta(seconds=window_s)
        self._database = database
        self._clock = clock

    def retry_after_s(self, *keys: str) -> int | None:
        """Whole seconds until every key may try again; None if all may now."""
        now = self._clock()
        query = (
            select(login_failures.c.key, login_failures.c.at)
            .where(
                login_failures.c.key.in_([_digest(key) for key in keys]),
                login_failures.c.at > now - self.window,
            )
            .order_by(login_failures.c.at.desc())
        )
        recent: dict[str, list[datetime]] = {}
        with self._database.read() as conn:
            for key, at in conn.execute(query):
                recent.setdefault(key, []).append(at)
        waits = [
            (times[self.max_failures - 1] + self.window - now).total_seconds()
            for times in recent.values()
            if len(times) >= self.max_failures
        ]
        return max(1, math.ceil(max(waits))) if waits else None

    def failed(self, *keys: str) -> None:
        """Count a failed login against each key (and delete the failures past the window)."""
        now = self._clock()
        with self._database.write() as conn:
            conn.execute(delete(login_failures).where(login_failures.c.at <= now - self.window))
            conn.execute(insert(login_failures), [{"key": _digest(key), "at": now} for key in keys])

    def succeeded(self, key: str) -> None:
        """Forget the failures of `key` (a user who logged in)."""
        with self._database.write() as conn:
            conn.execute(delete(login_failures).where(login_failures.c.key == _digest(key)))
