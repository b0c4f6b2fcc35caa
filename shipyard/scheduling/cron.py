"""Cron expressions in a time zone: checking them, and the times due since a cursor.

`cronsim` evaluates the expressions (five fields, as cron reads them, with cron's own rules
for daylight saving time: a time skipped by the change runs right after it, a repeated hour
runs once); `zoneinfo` supplies the time zones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

__all__ = ["DueTimes", "check_cron", "check_timezone", "due_times", "next_time"]

MAX_COUNTED: Final = 1000
"""Missed times are counted up to this many (a per-minute schedule down for days)."""


@dataclass(frozen=True)
class DueTimes:
    """The times of a schedule in (cursor, now]: the latest, and how many there are."""

    latest: datetime
    count: int


def check_cron(expression: str) -> str | None:
    """Return what is wrong with a cron expression, or None when it is valid."""
    from cronsim import CronSim, CronSimError

    if len(expression.split()) != 5:
        return "must be a cron expression of five fields: minute hour day month weekday"
    try:
        CronSim(expression, datetime(2026, 1, 1))
    except CronSimError as exc:
        return f"must be a valid cron expression ({exc})"
    return None


def check_timezone(name: str) -> str | None:
    """Return what is wrong with an IANA time zone name, or None when it is known."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return "must be an IANA time zone name such as UTC or Europe/Paris"
    return None


def due_times(expression: str, timezone: str, cursor: datetime, now: datetime) -> DueTimes | None:
    """Return the schedule's times after `cursor` up to `now` included, or None if none.

    Args:
        expression: A valid cron expression.
        timezone: The time zone its fields are read in.
        cursor: Until when the schedule was already handled (aware).
        now: The current time (aware).
    """
    from zoneinfo import ZoneInfo

    from cronsim import CronSim

    zone = ZoneInfo(timezone)
    # Going backwards, cronsim yields times strictly before its start: start on the second
    # after now's (cron times fall on whole minutes).
    start = now.replace(microsecond=0) + timedelta(seconds=1)
    latest: datetime = next(CronSim(expression, start.astimezone(zone), reverse=True))
    if latest <= cursor:
        return None
    count = 0
    for due in CronSim(expression, cursor.astimezone(zone)):
        if due > now or count >= MAX_COUNTED:
            break
        count += 1
    return DueTimes(latest, max(count, 1))


def next_time(expression: str, timezone: str, after: datetime) -> datetime:
    """Return the schedule's first time after `after`, in its time zone."""
    from zoneinfo import ZoneInfo

    from cronsim import CronSim

    start = after.astimezone(ZoneInfo(timezone)).replace(microsecond=0)
    found: datetime = next(CronSim(expression, start))
    return found
