"""`shipyard schedule --status`: who holds each trigger, its next time, its last firing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipyard.scheduling.scheduler import Scheduler
from shipyard.scheduling.status import STATUS_KEYS, trigger_status
from shipyard.scheduling.triggers_file import load_triggers
from tests.scheduling.conftest import RecordingLauncher, write_triggers

if TYPE_CHECKING:
    from pathlib import Path

    from shipyard.scheduling.store import SchedulerStore
    from tests.scheduling.conftest import FakeClock


def test_the_status_says_who_holds_each_trigger_when_it_fires_next_and_what_it_did(
    project: Path, store: SchedulerStore, clock: FakeClock
) -> None:
    write_triggers(
        project,
        """
triggers:
  paris:
    file: pipeline.py
    schedule: {cron: "30 9 * * 1-5", timezone: Europe/Paris}
  by-hand:
    file: pipeline.py
    manual: true
""",
    )
    config = load_triggers(project / "triggers.yaml")
    before = trigger_status(config, store, clock.now())
    assert [tuple(entry) for entry in before] == [STATUS_KEYS] * 2
    assert [(e["held_by"], e["last_firing"]) for e in before] == [(None, None)] * 2
    assert before[0]["next_time"] == "2026-03-02T09:30:00+01:00"  # Monday 08:00 UTC
    assert before[1]["next_time"] is None
    scheduler = Scheduler(config, store, launcher=RecordingLauncher(store), clock=clock)
    scheduler.step()
    clock.move(minutes=30)
    scheduler.step()
    paris, by_hand = trigger_status(config, store, clock.now())
    assert paris["held_by"] == f"pid {scheduler.identity['pid']} on {scheduler.identity['host']}"
    assert paris["last_firing"]["key"] == "schedule:2026-03-02T08:30:00+00:00"
    assert paris["last_firing"]["state"] == "running"
    assert paris["next_time"] == "2026-03-03T09:30:00+01:00"
    assert by_hand["last_firing"] is None
    scheduler.close(wait_s=0)
    assert trigger_status(config, store, clock.now())[0]["held_by"] is None
