"""Evaluate a trigger's condition: whether it fires now, under which key, and why.

Each evaluation returns an `Evaluation`: at most one `Candidate` firing, with the key that
makes it idempotent (the scheduled time; a digest of the new files, the new span, or the new
alerts), and what the condition has seen, which the store writes in the same transaction as
the firing. So a scheduler killed after recording a firing never fires it again, and one
killed before fires it on its next evaluation: the data is still unseen.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING, Any

from shipyard.scheduling.cron import MAX_COUNTED, due_times

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from shipyard.monitoring.monitor import MonitorOptions
    from shipyard.monitoring.report import MonitorResult
    from shipyard.scheduling.triggers import MonitorCondition, NewDataCondition, ScheduleCondition
    from shipyard.store.records import JSON

__all__ = [
    "Candidate",
    "Evaluation",
    "evaluate_monitor",
    "evaluate_new_data",
    "evaluate_schedule",
]

NAMES_SHOWN = 3
"""How many new files or alerts a firing's reason names before "and N more"."""


@dataclass(frozen=True)
class Candidate:
    """A firing the condition asks for.

    Attributes:
        key: The idempotency key: one firing per trigger and key, ever.
        reason: Why, for people (`shipyard runs`, the scheduler's log).
        record_blocked: Whether a firing its pipeline's limits block is recorded as skipped
            (a scheduled time, which must not run late) or left to fire later (new data).
    """

    key: str
    reason: str
    record_blocked: bool = False


@dataclass(frozen=True)
class Evaluation:
    """What one evaluation found.

    Attributes:
        candidate: The firing asked for, or None.
        cursor: The schedule's new cursor (until when it was handled).
        seen: What the condition has seen now, to record with the firing, or alone when
            nothing fires; None when it did not change.
        note: Something worth a log line (a time skipped under `catch_up: skip`).
    """

    candidate: Candidate | None = None
    cursor: datetime | None = None
    seen: JSON | None = None
    note: str | None = None


def evaluate_schedule(
    condition: ScheduleCondition, cursor: datetime | None, now: datetime
) -> Evaluation:
    """Fire for the latest scheduled time after `cursor`, unless `catch_up` skips it.

    A trigger seen for the first time (no cursor) starts its schedule now. The cursor moves
    only when a time was due (most evaluations write nothing): the times after it up to now
    are the same whether it moved or not.
    """
    if cursor is None:
        return Evaluation(cursor=now)
    due = due_times(condition.cron, condition.timezone, cursor, now)
    if due is None:
        return Evaluation()
    when = f"{due.latest:%Y-%m-%d %H:%M %Z} ({condition.cron!r} in {condition.timezone})"
    missed = due.count - 1
    late = (now - due.latest).total_seconds() > condition.grace_s
    if late and condition.catch_up == "skip":
        return Evaluation(
            cursor=now,
            note=f"skipped the run scheduled for {when}: noticed "
            f"{(now - due.latest).total_seconds():.0f} s late (catch_up: skip)",
        )
    reason = f"scheduled for {when}"
    if late:  # and catch_up is "once"
        reason += (
            f"; run once for {_times(due.count)} missed while no scheduler ran (catch_up: once)"
        )
    elif missed:
        reason += f"; {_times(missed)} before it missed"
    key = "schedule:" + due.latest.astimezone(UTC).isoformat(timespec="seconds")
    return Evaluation(Candidate(key, reason, record_blocked=True), cursor=now)


def evaluate_new_data(condition: NewDataCondition, seen: JSON) -> Evaluation:
    """Fire for files or a span not seen before.

    A trigger looking for the first time only remembers what is there, unless
    `include_existing`.
    """
    if condition.spans is not None:
        return _new_span(condition, condition.spans, seen)
    assert condition.files is not None
    listing = _list_files(condition.files)
    known: dict[str, str] | None = seen.get("files")
    if known is None and not condition.include_existing:
        return Evaluation(seen={"files": listing})
    new = sorted(path for path, size in listing.items() if (known or {}).get(path) != size)
    if not new:
        return Evaluation(seen=None if listing == known else {"files": listing})
    digest = _digest([[path, listing[path]] for path in new])
    reason = (
        f"{len(new)} new file{'s' if len(new) != 1 else ''} matching {condition.files}: "
        + _some(new)
    )
    return Evaluation(Candidate(f"files:{digest}", reason), seen={"files": listing})


def evaluate_monitor(
    condition: MonitorCondition,
    seen: JSON,
    monitor: Callable[[MonitorOptions], MonitorResult],
) -> Evaluation:
    """Run the monitor once; fire for alerts of `condition.alerts` firing and not yet fired for.

    `monitor` runs it and records its report (`shipyard.runners.monitor_runs.monitor`, bound
    to the scheduler's store, with the served statistics' lookup).

    An alert is one (kind, column) firing since a time: once a firing answered it, it fires
    nothing more until it resolves and fires again.
    """
    from shipyard.artifacts.schema import read_schema_file
    from shipyard.monitoring.monitor import MonitorOptions

    options = MonitorOptions(
        logs=condition.logs,
        name=condition.name,
        reference=condition.reference,
        schema=None if condition.schema is None else read_schema_file(condition.schema),
        window_s=condition.window_s,
        lateness_s=condition.lateness_s,
        timestamp=condition.timestamp,
        min_rows=condition.min_rows,
        dataset_share=condition.dataset_share,
        webhook=condition.webhook,
    )
    report = monitor(options)
    firing = {
        f"{alert['fingerprint']}@{alert['startsAt']}": alert
        for alert in report.firing
        if alert["labels"].get("kind") in condition.alerts
    }
    known = set(seen.get("alerts", []))
    new = sorted(set(firing) - known)
    now_seen = {"alerts": sorted(firing)}
    if not new:
        return Evaluation(seen=None if set(firing) == known else now_seen)
    summaries = [
        str(firing[key]["annotations"].get("summary", firing[key]["labels"])) for key in new
    ]
    reason = (
        f"{len(new)} monitor alert{'s' if len(new) != 1 else ''} firing on {condition.logs}: "
        + _some(summaries, sep="; ")
    )
    return Evaluation(Candidate(f"alerts:{_digest(new)}", reason), seen=now_seen)


def _new_span(condition: NewDataCondition, pattern: str, seen: JSON) -> Evaluation:
    from shipyard.components.ingest.spans import select_spans
    from shipyard.errors import DataError

    try:
        selection = select_spans(pattern)
    except DataError:
        return Evaluation()  # no span has arrived yet
    span = selection.spans[-1]
    version = selection.versions[-1] if selection.versions else -1
    latest = [span, version]
    known: list[int] | None = seen.get("span")
    if known is None and not condition.include_existing:
        return Evaluation(seen={"span": latest})
    if known is not None and latest <= known:
        return Evaluation()
    label = f"span {span}" + (f" version {version}" if version >= 0 else "")
    key = f"span:{span}" + (f":v{version}" if version >= 0 else "")
    return Evaluation(Candidate(key, f"new {label} of {pattern}"), seen={"span": latest})


def _list_files(pattern: str) -> dict[str, str]:
    """Files matching a glob or fsspec URL glob, each with its size and modification time
    ("1234@1767225600.5", the size alone where the filesystem has no time); names starting
    with "." or "_" (files being written) are left out."""
    from fsspec.core import url_to_fs

    fs, path = url_to_fs(pattern)
    found: dict[str, Any] = fs.glob(path, detail=True)
    listing: dict[str, str] = {}
    for name, info in found.items():
        base = name.rstrip("/").rsplit("/", 1)[-1]
        if info.get("type") == "file" and not base.startswith((".", "_")):
            path = fs.unstrip_protocol(name) if "://" in pattern else name
            listing[path] = _version(info)
    return listing


def _version(info: dict[str, Any]) -> str:
    """A file's size and modification time, as fsspec's filesystems name them."""
    size = int(info.get("size") or 0)
    for key in ("mtime", "LastModified", "updated", "last_modified"):
        if info.get(key) is not None:
            modified = info[key]
            stamp = modified.timestamp() if hasattr(modified, "timestamp") else modified
            return f"{size}@{stamp}"
    return str(size)


def _times(count: int) -> str:
    shown = f"{count}+" if count >= MAX_COUNTED else str(count)
    return f"{shown} time{'s' if count != 1 else ''}"


def _digest(value: object) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _some(names: list[str], sep: str = ", ") -> str:
    shown = sep.join(names[:NAMES_SHOWN])
    more = len(names) - NAMES_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")
