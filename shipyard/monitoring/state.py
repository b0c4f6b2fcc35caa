"""The monitor's state between runs, recorded in the metadata store.

Each `shipyard monitor` run that read something new is recorded as a run of the pipeline
`monitor:NAME` whose properties hold the whole state: the files read (path and size), the
watermark, the counts of the windows still open, the finished windows' figures (the last
`HISTORY_WINDOWS`), the alerts firing and the notifications not yet delivered, and the
reference. The state is written in one transaction (`MetadataStore.create_run`), after the
run has counted everything: a monitor killed before that leaves the previous state, and its
rerun reads the same files again, so no window is ever counted twice. The newest run of the
pipeline holds the state; `shipyard runs list --pipeline monitor:NAME` lists them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shipyard.errors import InvalidParameterError

if TYPE_CHECKING:
    from shipyard.store import MetadataStore

STATE_VERSION = 1
HISTORY_WINDOWS = 500
"""How many finished windows' figures the state keeps, for the report's charts."""


@dataclass
class MonitorState:
    """What a monitor remembers between runs (see the module docstring)."""

    window_s: int
    timestamp: str
    files: dict[str, int] = field(default_factory=dict)
    watermark_us: int | None = None
    closed_before_us: int | None = None
    windows: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    alerts: dict[str, Any] = field(default_factory=dict)
    reference: dict[str, Any] | None = None
    reference_key: str | None = None
    late_rows: int = 0
    decay_alerts: dict[str, Any] = field(default_factory=dict)
    """Each served version's decay `AlertBook` (`decay.walk_decay`)."""

    def to_json(self) -> dict[str, Any]:
        """Return the state as plain JSON, as the store records it."""
        return {"version": STATE_VERSION, **self.__dict__}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MonitorState:
        """Read what `to_json` wrote."""
        fields = {key: value for key, value in data.items() if key != "version"}
        return cls(**fields)


def pipeline_name(monitor: str) -> str:
    """Return the name of the store's pipeline whose runs hold a monitor's state."""
    return f"monitor:{monitor}"


def load_state(store: MetadataStore, monitor: str) -> MonitorState | None:
    """Return a monitor's newest recorded state, or None for a monitor never run."""
    runs = store.list_runs(pipeline=pipeline_name(monitor), limit=1)
    if not runs or "state" not in runs[0].properties:
        return None
    data = runs[0].properties["state"]
    if data.get("version") != STATE_VERSION:
        raise InvalidParameterError(
            f"The monitor {monitor!r} was recorded by another version of Shipyard (state "
            f"version {data.get('version')!r}, this one reads {STATE_VERSION}). Give the "
            "--name of a new monitor."
        )
    return MonitorState.from_json(data)


def save_state(
    store: MetadataStore, monitor: str, state: MonitorState, summary: dict[str, Any]
) -> str:
    """Record a monitor's state (with a summary of the run) in one transaction; return the
    run's id."""
    run = store.create_run(
        pipeline_name(monitor), properties={"state": state.to_json(), "summary": summary}
    )
    store.finish_run(run.id, "complete")
    return run.id
