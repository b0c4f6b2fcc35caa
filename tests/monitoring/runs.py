"""Running a monitor in a test project, as `shipyard monitor` does, and reading its state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipyard.artifacts import MonitoringReport
from shipyard.monitoring.state import MonitorState, pipeline_name
from shipyard.runners import Project
from shipyard.runners.monitor_runs import monitor

if TYPE_CHECKING:
    from pathlib import Path

    from shipyard.monitoring.monitor import MonitorOptions
    from shipyard.monitoring.report import MonitorResult


def open_project(tmp_path: Path) -> Project:
    """A project whose store and artifacts are under `tmp_path`."""
    root = str(tmp_path / "artifacts")
    return Project.open(store=f"sqlite:///{tmp_path / 'store.db'}", artifact_root=root)


def monitored(options: MonitorOptions, project: Project) -> MonitorResult:
    """Run a monitor once in the project, as `shipyard monitor` does."""
    return monitor(project.store, project.storage, options)


def stored_state(project: Project, name: str) -> MonitorState | None:
    """The state the newest report of monitor `name` recorded, if any."""
    found = project.store.list_artifacts(
        pipeline=pipeline_name(name), type_name=MonitoringReport.type_name
    )
    if not found:
        return None
    return MonitorState.from_json(MonitoringReport(found[-1].uri).state(), name)
