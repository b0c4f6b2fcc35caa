"""The monitoring report: one run's figures as JSON, the one shape `--json` prints.

`MonitorResult.to_json` is the only serialisation of a report: `--json` prints it and the
`MonitoringReport` artifact stores it (`report.json`, with `figure_rows` in its Parquet
table); the HTML report (`report_html`), the Prometheus gauges (`prometheus`) and the CLI's
table read the same object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

    from shipyard.artifacts.monitoring_report import FigureRow
    from shipyard.monitoring.decay import DecayReport
    from shipyard.monitoring.findings import WindowFigures
    from shipyard.monitoring.reference import Reference


def iso_time(micros: int) -> str:
    """Return microseconds since the epoch as an ISO 8601 UTC time (`...Z`)."""
    moment = datetime.fromtimestamp(micros / 1e6, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + (
        f".{moment.microsecond:06d}Z" if moment.microsecond else "Z"
    )


def firing_line(count: int) -> str:
    """Return "1 alert firing." or "N alerts firing."."""
    return f"{count} alert{'' if count == 1 else 's'} firing."


@dataclass(frozen=True)
class SkippedFile:
    """A log file that was not read, and why; `new` unless an earlier run reported it."""

    path: str
    reason: str
    new: bool = True


@dataclass
class MonitorResult:
    """What one run of a monitor read, measured and alerted."""

    monitor: str
    logs: str
    reference: Reference
    window_s: int
    lateness_s: int
    slide_s: int | None = None
    files_read: int = 0
    files_known: int = 0
    rows_read: int = 0
    late_rows: int = 0
    rows_without_time: int = 0
    skipped: list[SkippedFile] = field(default_factory=list)
    new_columns: list[str] = field(default_factory=list)
    absent_columns: list[str] = field(default_factory=list)
    watermark_us: int | None = None
    windows: list[WindowFigures] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    firing: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    webhook_error: str | None = None
    store_run: str | None = None
    artifact: int | None = None
    """The id of the `MonitoringReport` artifact recording this run (None inside it)."""
    decay: DecayReport | None = None

    @property
    def alerting(self) -> bool:
        """Whether an alert is firing after this run (the exit code 1 of the CLI)."""
        return bool(self.firing)

    def to_json(self) -> dict[str, Any]:
        """Return the report as plain JSON."""
        return {
            "monitor": self.monitor,
            "logs": self.logs,
            "reference": {
                "source": self.reference.source,
                "rows": self.reference.rows,
                "columns": {
                    name: {
                        "role": column.role,
                        "categorical": column.categorical,
                        "comparator": column.comparator,
                        "threshold": column.threshold,
                    }
                    for name, column in self.reference.columns.items()
                },
                "baselines": dict(self.reference.baselines),
                "not_monitored": dict(self.reference.skipped),
            },
            "window_s": self.window_s,
            "slide_s": self.slide_s or self.window_s,
            "lateness_s": self.lateness_s,
            "watermark": None if self.watermark_us is None else iso_time(self.watermark_us),
            "files": {
                "read": self.files_read,
                "already_read": self.files_known,
                "skipped": [
                    {"path": s.path, "reason": s.reason, "new": s.new} for s in self.skipped
                ],
            },
            "rows": {
                "read": self.rows_read,
                "late": self.late_rows,
                "without_timestamp": self.rows_without_time,
            },
            "columns": {"new": self.new_columns, "absent": self.absent_columns},
            "windows": [window.to_json() for window in self.windows],
            "alerts": {
                "alerting": self.alerting,
                "firing": self.firing,
                "notifications": self.notifications,
                "webhook_error": self.webhook_error,
            },
            "store_run": self.store_run,
            "artifact": self.artifact,
            "decay": None if self.decay is None else self.decay.to_json(),
        }

    def figure_rows(self) -> Iterator[FigureRow]:
        """Yield every figure of this run's windows, one per window x column x measure.

        The window's own figures have the column `*`: rows, requests, drifted_share,
        dataset_drift, and each measure's (`latency.p99_ms`...); each column has values,
        drift, threshold, missing_share, invalid and out_of_range; each finding is
        a figure `finding.KIND` of its column, valued as the finding.
        """
        for window in self.windows:
            at = (window.start_us, window.end_us, window.complete)
            own: dict[str, float | None] = {
                "rows": window.rows,
                "requests": window.requests,
                "drifted_share": window.drifted_share,
                "dataset_drift": float(window.dataset_drift),
            }
            for measure, figures in window.measures.items():
                own |= {f"{measure}.{name}": value for name, value in figures.items()}
            for name, value in own.items():
                yield (*at, "*", name, value)
            for column in window.columns.values():
                for name, value in (
                    ("values", column.values),
                    ("drift", column.drift),
                    ("threshold", column.threshold),
                    ("missing_share", column.missing_share),
                    ("invalid", column.invalid),
                    ("out_of_range", column.out_of_range),
                ):
                    yield (*at, column.column, name, None if value is None else float(value))
            for finding in window.findings:
                yield (*at, finding.column, f"finding.{finding.kind}", float(finding.value))


def history_entry(window: WindowFigures) -> dict[str, Any]:
    """Return the compact figures of a finished window that the state keeps for charts."""
    return {
        "start_us": window.start_us,
        "rows": window.rows,
        "drifted_share": window.drifted_share,
        "drift": {name: c.drift for name, c in window.columns.items()},
        "missing": {name: c.missing_share for name, c in window.columns.items()},
        "measures": window.measures,
        "findings": [f.to_json() for f in window.findings],
    }
