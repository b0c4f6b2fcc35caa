"""Decay's alerts: each served version's decay windows walked through its own `AlertBook`.

A version's labels lag its requests, and each version has windows of its own, so one
version's windows must not resolve or hide another's alerts: the monitor's state keeps one
book per version (`MonitorState.decay_alerts`), and their notifications join the monitor's
own, posted in the same webhook call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    from shipyard.monitoring.decay import DecayReport


def walk_decay(
    report: DecayReport, books: dict[str, Any], *, monitor: str, min_labels: int
) -> list[dict[str, Any]]:
    """Walk each version's decay windows through its own `AlertBook`; return the new
    notifications.

    `books` (the monitor's state, updated in place) holds one book per version: a version's
    labels lag its requests, so its windows must not resolve or hide another's alerts.
    Only windows with at least `min_labels` labelled predictions are walked.
    """
    from shipyard.monitoring.alerts import AlertBook
    from shipyard.monitoring.findings import WindowFigures

    notes: list[dict[str, Any]] = []
    for window in report.windows:
        if window.labelled < min_labels:
            continue
        book = AlertBook.from_json(monitor, books.get(window.version))
        figures = WindowFigures(
            window.start_us,
            window.end_us,
            complete=True,
            rows=window.labelled,
            requests=window.labelled,
            versions={window.version: window.labelled},
            columns={},
            drifted_share=None,
            findings=window.findings,
        )
        notes.extend(book.walk(figures, min_rows=min_labels))
        book.pending = []  # delivered with the monitor's own notifications
        books[window.version] = book.to_json()
    return notes


def firing_decay(books: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return the decay alerts firing, from the books `walk_decay` keeps."""
    return [alert for book in books.values() for alert in book["firing"].values()]
