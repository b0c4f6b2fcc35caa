"""The scheduler on a clock moved by hand: cron times, catch-up, limits, restarts, two
schedulers on one store, runs whose process died, and firing by hand."""

from __future__ import annotations

import os
import subprocess
from typing import TYPE_CHECKING

import pytest

from shipyard.scheduling.manual import fire_by_hand
from shipyard.scheduling.scheduler import Scheduler
from shipyard.scheduling.triggers_file import load_triggers
from tests.scheduling.conftest import RecordingLauncher, write_triggers

if TYPE_CHECKING:
    from pathlib import Path

    from shipyard.scheduling.store import SchedulerStore
    from shipyard.store.firings import FiringRecord
    from tests.scheduling.conftest import FakeClock

HOURLY = """
triggers:
  hourly:
    file: pipeline.py
    schedule: {cron: "0 * * * *"}
"""


def scheduler(
    project: Path,
    store: SchedulerStore,
    clock: FakeClock,
    launcher: RecordingLauncher | None = None,
) -> Scheduler:
    return Scheduler(
        load_triggers(project / "triggers.yaml"),
        store,
        launcher=launcher or RecordingLauncher(store),
        clock=clock,
    )


def firings(store: SchedulerStore, trigger: str) -> list[FiringRecord]:
    return list(reversed(store.list_firings(trigger=trigger)))


def test_a_cron_time_fires_once_even_when_the_scheduler_dies_after_recording_it(
    project: Path, store: SchedulerStore, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_triggers(project, HOURLY)
    launcher = RecordingLauncher(store)
    first = scheduler(project, store, clock, launcher)
    first.step()  # 08:00:30: the schedule starts now; 08:00 is past
    clock.move(minutes=59, seconds=29)  # 08:59:59
    first.step()
    assert firings(store, "hourly") == []
    clock.move(seconds=2)  # 09:00:01
    first.step()
    [fired] = firings(store, "hourly")
    assert fired.key == "schedule:2026-03-02T09:00:00+00:00"
    assert fired.reason == "scheduled for 2026-03-02 09:00 UTC ('0 * * * *' in UTC)"
    assert [f.id for f in launcher.started] == [fired.id]
    first.step()
    assert len(firings(store, "hourly")) == 1
    launcher.end(fired.id)
    first.step()

    # 10:00: killed after recording the firing, before moving the cursor or starting the run
    clock.move(hours=1)
    with monkeypatch.context() as patched:
        patched.setattr(store, "update_lease", _killed)
        with pytest.raises(KeyboardInterrupt):
            first.step()
    [_, pending] = firings(store, "hourly")
    assert pending.state == "pending" and len(launcher.started) == 1
    clock.move(seconds=61)  # its lease lapses (same process: its pid looks alive)
    second = scheduler(project, store, clock, launcher)
    second.step()
    assert len(firings(store, "hourly")) == 2  # 10:00 evaluated again: a duplicate
    assert [f.id for f in launcher.started] == [fired.id, pending.id]  # not lost: it runs


def _killed(*args: object, **kwargs: object) -> bool:
    raise KeyboardInterrupt


@pytest.mark.parametrize(
    ("catch_up", "expected"),
    [
        ("skip", []),
        (
            "once",
            [
                "scheduled for 2026-03-02 12:00 UTC ('0 * * * *' in UTC); run once for 4 "
                "times missed while no scheduler ran (catch_up: once)"
            ],
        ),
    ],
)
def test_times_missed_while_no_scheduler_ran_are_skipped_or_run_once(
    project: Path, store: SchedulerStore, clock: FakeClock, catch_up: str, expected: list[str]
) -> None:
    write_triggers(project, HOURLY.replace('"0 * * * *"', f'"0 * * * *", catch_up: {catch_up}'))
    before = scheduler(project, store, clock)
    before.step()
    before.close(wait_s=0)
    clock.move(hours=4, minutes=10)  # 12:10:30: 09:00 to 12:00 missed
    after = scheduler(project, store, clock)
    after.step()
    assert [f.reason for f in firings(store, "hourly")] == expected


def test_a_scheduled_time_is_skipped_while_the_pipeline_still_runs(
    project: Path, store: SchedulerStore, clock: FakeClock
) -> None:
    write_triggers(project, HOURLY)
    launcher = RecordingLauncher(store)
    running = scheduler(project, store, clock, launcher)
    running.step()
    clock.move(hours=1)
    running.step()
    clock.move(hours=1)
    running.step()
    nine, ten = firings(store, "hourly")
    assert (nine.state, ten.state) == ("running", "skipped")
    assert ten.error == f"pipeline {project / 'pipeline.py'} has 1 run going (max_concurrent 1)"
    launcher.end(nine.id)
    clock.move(hours=1)
    running.step()
    assert [f.state for f in firings(store, "hourly")] == ["complete", "skipped", "running"]


def test_two_schedulers_on_one_store_never_both_fire_a_trigger(
    project: Path, store: SchedulerStore, clock: FakeClock
) -> None:
    write_triggers(project, HOURLY)
    launcher = RecordingLauncher(store)
    a, b = scheduler(project, store, clock, launcher), scheduler(project, store, clock, launcher)
    a.step()
    b.step()
    assert list(a.leases) == ["hourly"] and list(b.leases) == []
    clock.move(hours=1)
    a.step()
    b.step()
    assert len(firings(store, "hourly")) == 1
    launcher.end(firings(store, "hourly")[0].id)
    clock.move(minutes=30)  # a stops stepping (hung or killed): its lease lapses
    b.step()
    assert list(b.leases) == ["hourly"]
    a.step()  # a wakes up: it lost the lease and evaluates nothing
    assert list(a.leases) == []
    clock.move(minutes=30)
    a.step()
    b.step()
    assert [f.key for f in firings(store, "hourly")] == [
        "schedule:2026-03-02T09:00:00+00:00",
        "schedule:2026-03-02T10:00:00+00:00",
    ]


def test_a_run_whose_process_died_is_recorded_and_run_again(
    project: Path, store: SchedulerStore, clock: FakeClock
) -> None:
    write_triggers(project, HOURLY + "limits:\n  pipeline.py: {max_concurrent: 2}\n")
    launcher = RecordingLauncher(store)
    first = scheduler(project, store, clock, launcher)
    first.step()
    clock.move(hours=1)
    first.step()
    [fired] = firings(store, "hourly")
    run = store.create_run("blobs")
    store.link_firing(fired.id, run.id)
    launcher.end(fired.id, state="", code=-9)  # the child was killed (OOM): nothing recorded
    first.step()
    died = store.get_firing(fired.id)
    assert died.state == "failed"
    assert died.error == "its process was killed by SIGKILL before recording the run's end"
    assert store.get_run(run.id).state == "abandoned"

    # A scheduler killed with its run: the run's process is gone too (another pid, dead).
    clock.move(hours=1)
    first.step()
    _, ten = firings(store, "hourly")
    dead = subprocess.Popen(["true"])
    dead.wait()
    store.finish_firing(ten.id, "interrupted")
    store.retry_firing(ten.id)  # as if it were never started: pending again
    started = store.start_firing(
        ten.id, launcher={"host": _host(), "pid": dead.pid, "by_scheduler": True}
    )
    assert started is not None
    clock.move(seconds=61)  # the first scheduler's lease lapses
    by_hand = fire_by_hand(first.config, "hourly", store, now=clock.now(), artifact_root=None)
    assert by_hand.route == "direct"
    store.start_firing(by_hand.firing.id, launcher={"host": _host(), "pid": dead.pid})
    second = scheduler(project, store, clock, launcher)
    second.step()
    resumed = store.get_firing(ten.id)
    assert resumed.state == "running" and resumed.attempts == 2
    assert launcher.started[-1].id == ten.id
    # `shipyard trigger` ran the other itself: it is recorded, not run again
    stopped = store.get_firing(by_hand.firing.id)
    assert (stopped.state, stopped.error) == ("interrupted", f"its process (pid {dead.pid}) died")


def _host() -> str:
    import socket

    return socket.gethostname()


def test_new_files_fire_once_and_wait_out_a_cool_down(
    project: Path, store: SchedulerStore, clock: FakeClock
) -> None:
    incoming = project / "incoming"
    incoming.mkdir()
    (incoming / "old.csv").write_text("a\n1\n")
    write_triggers(
        project,
        """
limits:
  pipeline.py: {cooldown: 10m}
triggers:
  arrivals:
    file: pipeline.py
    new_data: {files: "incoming/*.csv", every: 1m}
""",
    )
    launcher = RecordingLauncher(store)
    watcher = scheduler(project, store, clock, launcher)
    watcher.step()  # what is there at the first look is remembered, not fired for
    (incoming / "new.csv").write_text("a\n2\n")
    (incoming / "_partial.csv").write_text("a\n")  # being written: not yet
    watcher.step()
    assert firings(store, "arrivals") == []  # looks once a minute
    clock.move(minutes=1)
    watcher.step()
    [fired] = firings(store, "arrivals")
    assert fired.reason == f"1 new file matching {incoming}/*.csv: {incoming}/new.csv"
    launcher.end(fired.id)
    (incoming / "newer.csv").write_text("a\n3\n")
    clock.move(minutes=1)
    watcher.step()
    assert len(firings(store, "arrivals")) == 1  # cooling down: it waits, unrecorded
    clock.move(minutes=9)
    watcher.step()
    newer = firings(store, "arrivals")[1]
    assert newer.reason.endswith(f"{incoming}/newer.csv") and newer.state == "running"
    clock.move(minutes=1)
    watcher.step()
    assert len(firings(store, "arrivals")) == 2


def test_a_new_span_fires_its_trigger(
    project: Path, store: SchedulerStore, clock: FakeClock
) -> None:
    (project / "data" / "span-1").mkdir(parents=True)
    (project / "data" / "span-1" / "x.csv").write_text("a\n1\n")
    write_triggers(
        project,
        """
triggers:
  spans:
    file: pipeline.py
    new_data: {spans: "data/span-{SPAN}/*.csv"}
""",
    )
    watcher = scheduler(project, store, clock)
    watcher.step()
    (project / "data" / "span-2").mkdir()
    (project / "data" / "span-2" / "x.csv").write_text("a\n2\n")
    clock.move(minutes=1)
    watcher.step()
    [fired] = firings(store, "spans")
    assert (fired.key, fired.reason) == (
        "span:2",
        f"new span 2 of {project}/data/span-{{SPAN}}/*.csv",
    )


def test_a_trigger_fired_by_hand_goes_through_the_scheduler_holding_it(
    project: Path, store: SchedulerStore, clock: FakeClock
) -> None:
    write_triggers(project, HOURLY)
    config = load_triggers(project / "triggers.yaml")
    direct = fire_by_hand(config, "hourly", store, now=clock.now(), artifact_root=None)
    assert (direct.route, direct.firing.state, direct.firing.kind) == (
        "direct",
        "pending",
        "manual",
    )
    store.finish_firing(direct.firing.id, "complete")

    launcher = RecordingLauncher(store)
    holding = scheduler(project, store, clock, launcher)
    holding.step()
    asked = fire_by_hand(config, "hourly", store, now=clock.now(), artifact_root=None)
    assert asked.route == "scheduler" and asked.firing.state == "requested"
    holding.step()
    assert store.get_firing(asked.firing.id).state == "running"
    assert launcher.started[-1].id == asked.firing.id
    from shipyard.errors import NotFoundError

    with pytest.raises(NotFoundError, match=r"No trigger .nope. in the triggers file .* hourly"):
        fire_by_hand(config, "nope", store, now=clock.now(), artifact_root=None)


def test_a_failing_step_is_logged_and_the_scheduler_goes_on_then_lets_go(
    project: Path,
    store: SchedulerStore,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import threading

    from shipyard.errors import StoreError

    write_triggers(project, HOURLY)
    looping = scheduler(project, store, clock)
    looping.poll_s = 0.001
    stop, steps = threading.Event(), []
    real_step = looping.step

    def step(**options: bool) -> None:
        steps.append(options)
        if len(steps) == 1:
            raise StoreError("database is locked")
        real_step(**options)
        stop.set()

    monkeypatch.setattr(looping, "step", step)
    looping.run(stop)
    assert len(steps) == 2
    assert "A step of the scheduler failed (1 in a row)" in caplog.text
    assert "database is locked" in caplog.text
    lease = store.get_lease("hourly")
    assert lease is not None and lease.holder is None and lease.cursor == clock.now()


def test_a_run_process_that_found_its_firing_taken_leaves_it_to_the_one_running_it(
    project: Path, store: SchedulerStore, clock: FakeClock
) -> None:
    write_triggers(project, HOURLY)
    launcher = RecordingLauncher(store, pid=os.getpid())  # claimed by a live process
    first = scheduler(project, store, clock, launcher)
    first.step()
    clock.move(hours=1)
    first.step()
    [fired] = firings(store, "hourly")
    # the handle's process ended at once: it found the firing claimed by another
    launcher.end(fired.id, state="", code=1)
    first.step()
    assert store.get_firing(fired.id).state == "running"
