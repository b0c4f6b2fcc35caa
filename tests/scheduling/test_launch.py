"""Running a firing's pipeline: the run records its trigger, the firing its run and end."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipyard.scheduling.firing import firing_json, new_firing
from shipyard.scheduling.launch import run_firing
from shipyard.scheduling.scheduler import Scheduler
from shipyard.scheduling.triggers_file import load_triggers
from shipyard.store.firings import PipelineLimits
from tests.scheduling.conftest import ThreadLauncher, write_triggers

if TYPE_CHECKING:
    from pathlib import Path

    from shipyard.scheduling.store import SchedulerStore
    from tests.scheduling.conftest import FakeClock

TRIGGERS = """
triggers:
  good:
    file: pipeline.py
    pipeline: blobs
    params: {size_bytes: 4}
    manual: true
  bad:
    file: pipeline.py
    pipeline: failing
    manual: true
  broken:
    file: broken.py
    manual: true
"""


def test_a_run_records_the_trigger_that_started_it_and_the_firing_its_run(
    project: Path, store: SchedulerStore, store_url: str, clock: FakeClock
) -> None:
    write_triggers(project, TRIGGERS.replace("manual: true", 'new_data: {files: "in/*"}', 1))
    (project / "in").mkdir()
    (project / "broken.py").write_text("raise ImportError('no such module: taxi_features')\n")
    config = load_triggers(project / "triggers.yaml")
    root = str(project / "artifacts")
    scheduler = Scheduler(
        config, store, launcher=ThreadLauncher(store, store_url), clock=clock, artifact_root=root
    )
    scheduler.step()
    (project / "in" / "a.csv").write_text("a\n1\n")
    clock.move(minutes=1)
    firings = scheduler.run_once()
    [firing] = firings
    assert firing.state == "complete" and firing.run_id is not None
    run = store.get_run(firing.run_id)
    assert run.pipeline == "blobs" and run.state == "complete"
    assert run.properties["parameters"] == {"size_bytes": 4}
    assert run.properties["trigger"] == {
        "name": "good", "kind": "new_data", "reason": firing.reason, "firing": firing.id,
    }  # fmt: skip
    assert list((project / "artifacts" / "blobs").glob("*/blob/out/blob.bin"))
    assert firing_json(firing)["run_id"] == run.id


def test_a_failing_or_broken_pipeline_is_recorded_as_a_failed_firing(
    project: Path, store: SchedulerStore, store_url: str, clock: FakeClock
) -> None:
    write_triggers(project, TRIGGERS)
    (project / "broken.py").write_text("raise ImportError('no such module: taxi_features')\n")
    config = load_triggers(project / "triggers.yaml")
    ended = {}
    for name in ("bad", "broken"):
        new = new_firing(config, config.triggers[name], key=name, reason="test",
                         artifact_root=str(project / "artifacts"))  # fmt: skip
        fired = store.fire(new, limits=PipelineLimits(), now=clock.now(), record_blocked=True)
        assert fired.firing is not None
        ended[name] = run_firing(store, store_url, fired.firing.id)
    bad, broken = ended["bad"], ended["broken"]
    assert bad.state == "failed" and bad.run_id is not None
    assert bad.error == f"run {bad.run_id} failed; failed nodes: fail"
    assert store.get_run(bad.run_id).properties["trigger"]["name"] == "bad"
    assert broken.state == "failed" and broken.run_id is None
    assert broken.error is not None and "no such module: taxi_features" in broken.error
    assert run_firing(store, store_url, bad.id) == bad  # not pending: nothing runs again
