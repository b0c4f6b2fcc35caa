"""Sliding windows: each row counted once (in a pane), every window it falls in updated."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipyard.monitoring.monitor import MonitorOptions
from tests.monitoring.logs import HOUR_US, T0, write_log
from tests.monitoring.runs import monitored, stored_state

if TYPE_CHECKING:
    from pathlib import Path

    from shipyard.monitoring.report import MonitorResult
    from shipyard.runners import Project


def _options(
    logs: Path, reference: Path | None, name: str = "taxi", **changes: object
) -> MonitorOptions:
    return MonitorOptions(
        logs=str(logs),
        name=name,
        reference=None if reference is None else str(reference),
        window_s=7200,
        slide_s=3600,
        **changes,  # type: ignore[arg-type]
    )


def _windows(report: MonitorResult) -> list[tuple[int, int, bool]]:
    return [((w.start_us - T0) // HOUR_US, w.rows, w.complete) for w in report.windows]


def test_two_hour_windows_every_hour_hold_each_hour_twice(
    logs: Path, reference: Path, project: Project
) -> None:
    for hour in range(3):
        write_log(logs, hour, seed=hour, shift=0.5 if hour == 2 else 0.0)
    report = monitored(_options(logs, reference), project)
    assert _windows(report) == [
        (-1, 3000, True),
        (0, 6000, True),
        (1, 6000, False),
        (2, 3000, False),
    ]
    assert report.slide_s == 3600 and report.to_json()["slide_s"] == 3600
    drifted = {(w.start_us - T0) // HOUR_US: {f.column for f in w.findings} for w in report.windows}
    assert drifted == {-1: set(), 0: set(), 1: {"x"}, 2: {"x"}}
    assert report.windows[2].columns["x"].drift < report.windows[3].columns["x"].drift


def test_a_rerun_counts_each_window_as_one_run_over_everything_would(
    tmp_path: Path, logs: Path, reference: Path, project: Project
) -> None:
    write_log(logs, 0, seed=1)
    write_log(logs, 1, seed=2)
    first = monitored(_options(logs, reference), project)
    assert _windows(first) == [(-1, 3000, True), (0, 6000, False), (1, 3000, False)]
    write_log(logs, 2, seed=3)
    second = monitored(_options(logs, None), project)
    assert _windows(second) == [(0, 6000, True), (1, 6000, False), (2, 3000, False)]
    once = monitored(_options(logs, reference, name="all at once"), project)
    state, whole = stored_state(project, "taxi"), stored_state(project, "all at once")
    assert state is not None and whole is not None
    assert [h["rows"] for h in state.history] == [h["rows"] for h in whole.history] == [3000, 6000]
    assert state.panes == whole.panes and list(state.panes) == [
        str(T0 + HOUR_US),
        str(T0 + 2 * HOUR_US),
    ]
    assert _windows(once)[-2:] == _windows(second)[-2:]


def test_a_late_record_updates_every_open_window_it_falls_in(
    logs: Path, reference: Path, project: Project
) -> None:
    for hour in range(4):
        write_log(logs, hour, 1000, seed=hour)
    monitored(_options(logs, reference, lateness_s=3600), project)  # windows -1h, 0h finish
    write_log(logs, 2, 500, seed=10, sequence=2)  # in windows 1h and 2h, both open
    write_log(logs, 1, 200, seed=11, sequence=2)  # in windows 0h (finished) and 1h (open)
    write_log(logs, 0, 100, seed=12, sequence=2)  # in windows -1h and 0h: both finished
    report = monitored(_options(logs, None, lateness_s=3600), project)
    assert report.late_rows == 100
    assert _windows(report) == [(1, 2700, False), (2, 2500, False)]


def test_a_slide_equal_to_the_window_is_tumbling(
    logs: Path, reference: Path, project: Project
) -> None:
    write_log(logs, 0, seed=1)
    tumbling = MonitorOptions(logs=str(logs), name="t", reference=str(reference), slide_s=3600)
    assert monitored(tumbling, project).slide_s == 3600
    state = stored_state(project, "t")
    assert state is not None and state.slide_s is None
    assert list(state.panes) == [str(T0)]
