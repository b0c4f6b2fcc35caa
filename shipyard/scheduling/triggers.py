"""The triggers of a triggers file: what each runs, and the condition that fires it.

`triggers_file.load_triggers` reads and checks a file into these frozen value objects. Paths
are absolute by then (the file's relative paths are relative to its directory), and every
duration is in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from shipyard.store.firings import PipelineLimits

if TYPE_CHECKING:
    from pathlib import Path

    from shipyard.store.firings import FiringKind

CatchUp = Literal["skip", "once"]
DEFAULT_ALERTS = ("drift", "prediction_drift", "dataset_drift", "decay")
"""The monitor alert kinds that fire a monitor trigger unless it names its own."""


@dataclass(frozen=True)
class RunTarget:
    """The pipeline a trigger runs, as `shipyard.run` takes it.

    Attributes:
        file: The pipeline file (absolute).
        pipeline: Which pipeline of the file, when it defines several.
        params: Arguments of the pipeline function.
    """

    file: Path
    pipeline: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def identity(self) -> str:
        """The pipeline as the limits count it: its file, and its name in the file if given."""
        return str(self.file) + (f"#{self.pipeline}" if self.pipeline else "")


@dataclass(frozen=True)
class ScheduleCondition:
    """Fire at the times of a cron expression, in a time zone.

    Attributes:
        cron: Five fields (minute hour day month weekday), as cron reads them.
        timezone: An IANA time zone name ("Europe/Paris"); "UTC" by default.
        catch_up: Times missed while no scheduler ran: "skip" them, or run "once" for them.
        grace_s: How late a time may be noticed and still run under "skip".
    """

    cron: str
    timezone: str = "UTC"
    catch_up: CatchUp = "skip"
    grace_s: int = 300


@dataclass(frozen=True)
class NewDataCondition:
    """Fire when new data arrives: a new span of `spans`, or new files matching `files`.

    Attributes:
        spans: A span pattern (`data/span-{SPAN}/*.csv`, see ingest's spans).
        files: A glob or fsspec URL glob; a file rewritten (size or time) counts as new.
        every_s: How often to look.
        include_existing: Whether the data there when the trigger first looks fires it.
    """

    spans: str | None = None
    files: str | None = None
    every_s: int = 60
    include_existing: bool = False


@dataclass(frozen=True)
class MonitorCondition:
    """Fire when `shipyard monitor` on a request log has an alert of `alerts` firing.

    The fields are `shipyard monitor`'s options; `name` is the monitor whose state is kept
    (default: `trigger:NAME`).
    """

    logs: str
    name: str
    reference: str | None = None
    schema: Path | None = None
    window_s: int = 3600
    lateness_s: int = 0
    timestamp: str = "timestamp"
    min_rows: int = 1000
    dataset_share: float = 0.5
    webhook: str | None = None
    alerts: tuple[str, ...] = DEFAULT_ALERTS
    every_s: int = 300


@dataclass(frozen=True)
class ManualCondition:
    """Fire only when asked: `shipyard trigger NAME` (any trigger can be fired so)."""


Condition = ScheduleCondition | NewDataCondition | MonitorCondition | ManualCondition


@dataclass(frozen=True)
class Trigger:
    """A named trigger: the pipeline it runs and the one condition that fires it."""

    name: str
    target: RunTarget
    condition: Condition

    @property
    def kind(self) -> FiringKind:
        """The condition's kind, as firings record it."""
        kinds: dict[type, FiringKind] = {
            ScheduleCondition: "schedule",
            NewDataCondition: "new_data",
            MonitorCondition: "monitor",
            ManualCondition: "manual",
        }
        return kinds[type(self.condition)]


@dataclass(frozen=True)
class TriggersConfig:
    """A checked triggers file.

    Attributes:
        path: The file (absolute).
        triggers: The triggers by name, in the file's order.
        limits: Each pipeline's limits, by `RunTarget.identity`; pipelines not listed have
            the default (one run at a time, no cool-down).
    """

    path: Path
    triggers: dict[str, Trigger]
    limits: dict[str, PipelineLimits] = field(default_factory=dict)

    @property
    def directory(self) -> Path:
        """Where runs start, and what the file's relative paths are relative to."""
        return self.path.parent

    def limits_of(self, target: RunTarget) -> PipelineLimits:
        """Return the limits of `target`'s pipeline (by its file, or its file and name)."""
        return self.limits.get(target.identity, self.limits.get(str(target.file), PipelineLimits()))
