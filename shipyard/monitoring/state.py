"""The monitor's state between runs, and the protocol of where it is kept.

A monitor remembers: the files read (path and size), the malformed files already reported
(path, size and why), the watermark, the counts of the panes that open windows still need,
the finished windows' figures (the last `HISTORY_WINDOWS`), the alerts firing and the
notifications not yet delivered, and the reference. A `StateKeeper` loads it at the start of
a run and records it, with the run's report, at the end; the store's keeper
(`shipyard.runners.monitor_runs`) writes both into one `MonitorResult` artifact
registered in one transaction, so a monitor killed before that leaves the previous state,
and its rerun reads the same files again: no window is ever counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from shipyard.errors import InvalidParameterError

if TYPE_CHECKING:
    from shipyard.monitoring.report import MonitorResult

STATE_VERSION = 2
HISTORY_WINDOWS = 500
"""How many finished windows' figures the state keeps, for the report's charts."""


@dataclass
class MonitorState:
    """What a monitor remembers between runs (see the module docstring).

    `panes` holds the counts of each pane (`shipyard.monitoring.windows`) by its start;
    `skipped` the malformed files reported, by path: `{"size_bytes": N, "reason": "..."}`;
    `versions`, for a reference found through lineage, each model version's statistics key.
    """

    window_s: int
    timestamp: str
    slide_s: int | None = None
    files: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, dict[str, Any]] = field(default_factory=dict)
    watermark_us: int | None = None
    closed_before_us: int | None = None
    panes: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    alerts: dict[str, Any] = field(default_factory=dict)
    reference: dict[str, Any] | None = None
    reference_key: str | None = None
    versions: dict[str, str] = field(default_factory=dict)
    late_rows: int = 0
    decay_alerts: dict[str, Any] = field(default_factory=dict)
    """Each served version's decay `AlertBook` (`decay_alerts.walk_decay`)."""

    def to_json(self) -> dict[str, Any]:
        """Return the state as plain JSON."""
        return {"version": STATE_VERSION, **self.__dict__}

    @classmethod
    def from_json(cls, data: dict[str, Any], monitor: str) -> MonitorState:
        """Read what `to_json` wrote.

        Raises:
            InvalidParameterError: Another version of Shipyard wrote it.
        """
        if data.get("version") != STATE_VERSION:
            raise InvalidParameterError(
                f"The monitor {monitor!r} was recorded by another version of Shipyard (state "
                f"version {data.get('version')!r}, this one reads {STATE_VERSION}). Give the "
                "--name of a new monitor."
            )
        fields = {key: value for key, value in data.items() if key != "version"}
        return cls(**fields)


class StateKeeper(Protocol):
    """Where a monitor's state is kept between runs, and each run's report recorded."""

    def load(self) -> MonitorState | None:
        """Return the monitor's newest recorded state; None for a monitor never run."""
        ...

    def record(self, report: MonitorResult, state: MonitorState) -> None:
        """Record the run's report and the state the next run starts from, at once; set
        the report's `store_run` and `artifact`."""
        ...


def pipeline_name(monitor: str) -> str:
    """Return the name of the store's pipeline whose runs are a monitor's runs."""
    return f"monitor:{monitor}"
