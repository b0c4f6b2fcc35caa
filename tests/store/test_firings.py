"""Trigger firings and leases in the SQL store: idempotent keys, limits, lineage, claims."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from shipyard.errors import InvalidParameterError, NotFoundError, StoreError
from shipyard.scheduling.store import open_scheduler_store
from shipyard.store.firings import FiringLog, NewFiring, PipelineLimits

if TYPE_CHECKING:
    from collections.abc import Iterator

    from shipyard.scheduling.store import SchedulerStore

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
ONE = PipelineLimits(max_concurrent=1)


@pytest.fixture
def store(store_url: str) -> Iterator[SchedulerStore]:
    """A fresh store on SQLite, and on PostgreSQL where the suite has one."""
    opened = open_scheduler_store(store_url)
    yield opened
    opened.close()


def firing(key: str, *, trigger: str = "nightly", pipeline: str = "/p/taxi.py") -> NewFiring:
    return NewFiring(trigger, "schedule", key, pipeline, f"because {key}", {"run": {"x": 1}})


def test_a_key_fires_once_whoever_fires_it_and_the_second_is_told_which(
    store: SchedulerStore, store_url: str
) -> None:
    assert isinstance(store, FiringLog)
    first = store.fire(firing("k1"), limits=ONE, now=NOW, record_blocked=True)
    assert first.outcome == "fired" and first.firing is not None
    assert (first.firing.state, first.firing.fired_at, first.firing.run_id) == (
        "pending",
        NOW,
        None,
    )
    other = open_scheduler_store(store_url)  # another scheduler
    try:
        again = other.fire(firing("k1"), limits=ONE, now=NOW, record_blocked=True)
    finally:
        other.close()
    assert again.outcome == "duplicate" and again.firing == first.firing
    assert [f.key for f in store.list_firings(trigger="nightly")] == ["k1"]


def test_a_pipeline_at_its_limit_skips_a_scheduled_firing_or_leaves_new_data_for_later(
    store: SchedulerStore,
) -> None:
    first = store.fire(firing("k1"), limits=ONE, now=NOW, record_blocked=True).firing
    assert first is not None
    skipped = store.fire(firing("k2"), limits=ONE, now=NOW, record_blocked=True)
    assert skipped.outcome == "blocked" and skipped.firing is not None
    assert skipped.firing.state == "skipped"
    assert skipped.reason == "pipeline /p/taxi.py has 1 run going (max_concurrent 1)"
    assert skipped.firing.error == skipped.reason
    later = store.fire(
        firing("files:ab", trigger="new"), limits=ONE, now=NOW, record_blocked=False,
        seen={"files": {"a.csv": 3}},
    )  # fmt: skip
    assert (later.outcome, later.firing) == ("blocked", None)
    assert store.list_firings(trigger="new") == []
    # another pipeline is not held back; two at once are allowed where the limit says so
    assert store.fire(firing("k3", pipeline="/p/other.py"), limits=ONE, now=NOW,
                      record_blocked=True).outcome == "fired"  # fmt: skip
    two = PipelineLimits(max_concurrent=2)
    assert store.fire(firing("k4"), limits=two, now=NOW, record_blocked=True).outcome == "fired"


def test_a_cool_down_counts_from_the_last_firing_of_the_pipeline(store: SchedulerStore) -> None:
    limits = PipelineLimits(max_concurrent=5, cooldown_s=600)
    first = store.fire(firing("k1"), limits=limits, now=NOW, record_blocked=True).firing
    assert first is not None
    store.finish_firing(first.id, "complete")
    soon = store.fire(firing("k2"), limits=limits, now=NOW + timedelta(minutes=5),
                      record_blocked=True)  # fmt: skip
    assert soon.outcome == "blocked"
    assert soon.reason == (
        "pipeline /p/taxi.py is cooling down until 2026-03-02T08:10:00+00:00 "
        "(cooldown 600 s after its last firing)"
    )
    late = store.fire(firing("k3"), limits=limits, now=NOW + timedelta(minutes=10),
                      record_blocked=True)  # fmt: skip
    assert late.outcome == "fired"


def test_what_a_trigger_has_seen_is_written_with_its_firing(store: SchedulerStore) -> None:
    lease = store.claim_lease(
        "new", holder="a", properties={}, expires_at=NOW + timedelta(seconds=30), now=NOW
    )
    assert lease is not None and lease.seen == {} and lease.cursor is None
    store.fire(firing("files:1", trigger="new"), limits=ONE, now=NOW, record_blocked=False,
               seen={"files": {"a.csv": 3}})  # fmt: skip
    got = store.get_lease("new")
    assert got is not None and got.seen == {"files": {"a.csv": 3}}


def test_a_firing_is_started_by_one_launcher_linked_to_its_run_and_ended_once(
    store: SchedulerStore,
) -> None:
    new = store.fire(firing("k1"), limits=ONE, now=NOW, record_blocked=True).firing
    assert new is not None
    started = store.start_firing(new.id, launcher={"host": "h", "pid": 1})
    assert started is not None and started.state == "running"
    assert started.properties == {"run": {"x": 1}, "launcher": {"host": "h", "pid": 1}}
    assert store.start_firing(new.id, launcher={"host": "h", "pid": 2}) is None
    run = store.create_run("taxi")
    store.link_firing(new.id, run.id)
    with pytest.raises(NotFoundError, match="No run 'nope'"):
        store.link_firing(new.id, "nope")
    ended = store.finish_firing(new.id, "interrupted", error="SIGTERM")
    assert (ended.state, ended.run_id, ended.error) == ("interrupted", run.id, "SIGTERM")
    assert ended.ended_at is not None
    with pytest.raises(StoreError, match="it is interrupted, not pending or running"):
        store.finish_firing(new.id, "complete")
    retried = store.retry_firing(new.id)
    assert (retried.state, retried.attempts, retried.ended_at) == ("pending", 1, None)
    with pytest.raises(InvalidParameterError, match="'state' parameter of finish_firing"):
        store.finish_firing(new.id, "running")
    with pytest.raises(NotFoundError, match="No trigger firing with id 99"):
        store.get_firing(99)


def test_a_requested_firing_waits_for_a_scheduler_to_admit_it(store: SchedulerStore) -> None:
    manual = NewFiring("nightly", "manual", "manual:1", "/p/taxi.py", "by hand")
    requested = store.request_firing(manual, now=NOW)
    assert requested.state == "requested"
    with pytest.raises(InvalidParameterError, match="fired with the key 'manual:1' already"):
        store.request_firing(manual, now=NOW)
    # requested firings hold no run: the pipeline may still fire meanwhile
    running = store.fire(firing("k1"), limits=ONE, now=NOW, record_blocked=True).firing
    assert running is not None
    blocked = store.admit_firing(requested.id, limits=ONE, now=NOW)
    assert blocked.outcome == "blocked" and blocked.firing is not None
    assert blocked.firing.state == "skipped"
    again = store.request_firing(
        NewFiring("nightly", "manual", "manual:2", "/p/taxi.py", "by hand"), now=NOW
    )
    store.finish_firing(running.id, "complete")
    admitted = store.admit_firing(again.id, limits=ONE, now=NOW)
    assert admitted.outcome == "fired" and admitted.firing is not None
    assert admitted.firing.state == "pending"
    with pytest.raises(StoreError, match="it is pending, not requested"):
        store.admit_firing(again.id, limits=ONE, now=NOW)


def test_a_lease_is_held_by_one_scheduler_until_it_lapses_or_its_holder_is_dead(
    store: SchedulerStore,
) -> None:
    until = NOW + timedelta(seconds=30)
    a = store.claim_lease("t", holder="a", properties={"pid": 1}, expires_at=until, now=NOW)
    assert a is not None and a.holder == "a" and a.properties == {"pid": 1}
    assert store.claim_lease("t", holder="b", properties={}, expires_at=until, now=NOW) is None
    renewed = store.claim_lease(
        "t", holder="a", properties={}, expires_at=until + timedelta(seconds=30), now=NOW
    )
    assert renewed is not None and renewed.expires_at == until + timedelta(seconds=30)
    assert store.update_lease("t", holder="a", cursor=NOW, seen={"span": [3, 1]})
    assert not store.update_lease("t", holder="b", cursor=NOW)
    taken = store.claim_lease("t", holder="b", properties={}, expires_at=until, now=NOW,
                              take_from="a")  # fmt: skip
    assert taken is not None and taken.holder == "b"
    assert (taken.cursor, taken.seen) == (NOW, {"span": [3, 1]})  # kept across holders
    late = NOW + timedelta(minutes=5)
    lapsed = store.claim_lease("t", holder="c", properties={}, expires_at=late, now=late)
    assert lapsed is not None and lapsed.holder == "c"
    later = late + timedelta(minutes=1)
    assert store.renew_leases(["t", "never"], holder="c", expires_at=later) == {"t"}
    assert store.renew_leases(["t"], holder="a", expires_at=later) == set()
    renewed = store.get_lease("t")
    assert renewed is not None and renewed.expires_at == later
    store.release_lease("t", holder="c")
    released = store.get_lease("t")
    assert released is not None and released.holder is None and released.cursor == NOW
    assert store.get_lease("never") is None


def test_launchers_and_schedulers_racing_for_one_firing_or_lease_have_one_winner(
    store: SchedulerStore, store_url: str
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    new = store.fire(firing("k1"), limits=ONE, now=NOW, record_blocked=True).firing
    assert new is not None
    others = [open_scheduler_store(store_url) for _ in range(6)]
    try:
        with ThreadPoolExecutor(len(others)) as pool:
            started = list(pool.map(
                lambda pair: pair[1].start_firing(new.id, launcher={"pid": pair[0]}),
                enumerate(others),
            ))  # fmt: skip
            until = NOW + timedelta(seconds=60)
            leases = list(pool.map(
                lambda pair: pair[1].claim_lease(
                    "t", holder=f"s{pair[0]}", properties={}, expires_at=until, now=NOW
                ),
                enumerate(others),
            ))  # fmt: skip
    finally:
        for other in others:
            other.close()
    assert len([s for s in started if s is not None]) == 1
    assert len([lease for lease in leases if lease is not None]) == 1
