"""Durations and times as users write them: a token's `--expires 30d`, the audit's `--since`."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Final

from shipyard.errors import InvalidParameterError

__all__ = ["DURATION_PATTERN", "parse_lifetime", "parse_since"]

_DURATION: Final = re.compile(r"([1-9]\d{0,3})([mhdw])")  # 1 to 9999 of a unit
_UNITS: Final = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
NEVER: Final = "never"
DURATION_PATTERN: Final = r"^[1-9][0-9]{0,3}[mhdw]$"


def _duration(text: str) -> timedelta | None:
    """The duration `text` names: 1 to 9999 minutes, hours, days or weeks."""
    found = _DURATION.fullmatch(text.strip())
    if found is None:
        return None
    return timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})


def parse_lifetime(text: str, *, name: str) -> timedelta | None:
    """Return a token's lifetime, `90m`, `12h`, `30d` or `8w`; None for `never`.

    Args:
        text: What the user wrote.
        name: The flag or field it came from, for the error.

    Raises:
        InvalidParameterError: It is none of these.
    """
    if text.strip() == NEVER:
        return None
    found = _duration(text)
    if found is None:
        raise InvalidParameterError(
            f"The {name!r} parameter must be a lifetime such as 90m, 12h, 30d or 8w (1 to 9999 "
            f"of a unit), or 'never'. Got {text!r} instead."
        )
    return found


def parse_since(text: str, *, name: str, now: datetime | None = None) -> datetime:
    """Return the time `text` names: an ISO 8601 time (UTC if it has no offset) or a
    duration back from `now` (`90m`, `12h`, `30d`, `8w`).

    Raises:
        InvalidParameterError: It is neither.
    """
    back = _duration(text)
    if back is not None:
        return (now or datetime.now(UTC)) - back
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidParameterError(
            f"The {name!r} parameter must be an ISO 8601 time (2026-01-05T12:00:00Z) or a "
            f"duration back from now (90m, 12h, 30d, 8w; 1 to 9999 of a unit). "
            f"Got {text!r} instead."
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
