"""Conditions on their own: cron times across daylight saving time, and monitor alerts."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from shipyard.io.storage import ArtifactStorage
from shipyard.runners.monitor_runs import monitor
from shipyard.scheduling.conditions import evaluate_monitor, evaluate_schedule
from shipyard.scheduling.cron import due_times
from shipyard.scheduling.triggers import MonitorCondition, ScheduleCondition
from tests.monitoring.logs import write_log, write_reference

if TYPE_CHECKING:
    from pathlib import Path

    from shipyard.scheduling.store import SchedulerStore

PARIS = ZoneInfo("Europe/Paris")


def test_a_daily_time_follows_its_time_zone_across_the_change_to_summer_time() -> None:
    # 2026-03-29: Paris moves from UTC+1 to UTC+2 at 02:00 local
    cursor = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    saturday = due_times("30 8 * * *", "Europe/Paris", cursor, cursor + timedelta(days=1))
    sunday = due_times("30 8 * * *", "Europe/Paris", cursor, cursor + timedelta(days=2))
    assert saturday is not None and sunday is not None
    assert saturday.latest.astimezone(UTC) == datetime(2026, 3, 29, 6, 30, tzinfo=UTC)
    assert saturday.latest.astimezone(PARIS).hour == 8
    assert sunday.count == 2
    assert sunday.latest.astimezone(UTC) == datetime(2026, 3, 30, 6, 30, tzinfo=UTC)
    # 02:30 does not exist that night: cron runs it right after the change, once
    skipped = due_times("30 2 * * *", "Europe/Paris", cursor, cursor + timedelta(days=1))
    assert skipped is not None and skipped.count == 1
    assert skipped.latest.astimezone(UTC) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)


def test_a_daily_time_that_happens_twice_when_clocks_go_back_runs_once() -> None:
    # 2026-10-25: Paris goes back from 03:00 CEST to 02:00 CET; 02:30 happens twice
    cursor = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)
    due = due_times("30 2 * * *", "Europe/Paris", cursor, cursor + timedelta(days=1))
    assert due is not None and due.count == 1
    assert due.latest.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_a_schedule_fires_a_time_within_its_grace_and_keys_it_by_the_time() -> None:
    condition = ScheduleCondition("0 2 * * *", "Europe/Paris", grace_s=60)
    cursor = datetime(2026, 3, 2, 0, 59, tzinfo=UTC)
    nothing = evaluate_schedule(condition, cursor, cursor + timedelta(seconds=30))
    assert (nothing.candidate, nothing.cursor) == (None, None)  # nothing due: nothing written
    on_time = evaluate_schedule(condition, cursor, cursor + timedelta(minutes=1, seconds=30))
    assert on_time.candidate is not None
    assert on_time.candidate.key == "schedule:2026-03-02T01:00:00+00:00"
    assert on_time.candidate.record_blocked
    late = evaluate_schedule(condition, cursor, cursor + timedelta(minutes=3))
    assert late.candidate is None
    assert late.note == (
        "skipped the run scheduled for 2026-03-02 02:00 CET ('0 2 * * *' in Europe/Paris): "
        "noticed 120 s late (catch_up: skip)"
    )
    assert late.cursor == cursor + timedelta(minutes=3)
    assert evaluate_schedule(condition, None, cursor).cursor == cursor  # first look


def test_a_monitor_alert_fires_once_until_another_alert_starts(
    tmp_path: Path, store: SchedulerStore
) -> None:
    reference = write_reference(tmp_path / "reference.parquet")
    logs = tmp_path / "logs" / "taxi" / "3"
    write_log(logs, 0, seed=10)
    condition = MonitorCondition(
        logs=str(logs), name="trigger:drift", reference=str(reference), alerts=("drift",)
    )
    storage = ArtifactStorage(str(tmp_path / "artifacts"), scratch_dir=tmp_path / "scratch")
    run = functools.partial(monitor, store, storage)
    quiet = evaluate_monitor(condition, {}, run)
    assert quiet.candidate is None
    write_log(logs, 1, seed=11, shift=0.5)
    shifted = evaluate_monitor(condition, {}, run)
    assert shifted.candidate is not None and shifted.seen is not None
    assert shifted.candidate.key.startswith("alerts:")
    assert shifted.candidate.reason.startswith(f"1 monitor alert firing on {logs}: ")
    assert "x" in shifted.candidate.reason
    again = evaluate_monitor(condition, shifted.seen, run)
    assert again.candidate is None  # still firing, already fired for
    write_log(logs, 2, seed=12, shift=0.5, colors=[0.1, 0.1, 0.8])
    recolored = evaluate_monitor(condition, shifted.seen, run)
    assert recolored.candidate is not None
    assert recolored.candidate.key != shifted.candidate.key
    assert "color" in recolored.candidate.reason


def test_a_file_rewritten_with_the_same_size_is_new_data_again(tmp_path: Path) -> None:
    import os

    from shipyard.scheduling.conditions import evaluate_new_data
    from shipyard.scheduling.triggers import NewDataCondition

    (tmp_path / "a.csv").write_text("a\n1\n")
    condition = NewDataCondition(files=str(tmp_path / "*.csv"), include_existing=True)
    first = evaluate_new_data(condition, {})
    assert first.candidate is not None and first.seen is not None
    assert evaluate_new_data(condition, first.seen).candidate is None
    (tmp_path / "a.csv").write_text("a\n2\n")  # same size, written again
    later = os.stat(tmp_path / "a.csv").st_mtime + 60
    os.utime(tmp_path / "a.csv", (later, later))
    again = evaluate_new_data(condition, first.seen)
    assert again.candidate is not None and again.candidate.key != first.candidate.key
