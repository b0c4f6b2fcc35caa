"""Tallies show, once collected, exactly what direct prometheus_client updates show."""

from __future__ import annotations

import threading

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from shipyard.serving.tally import FlushOnCollect, Tally, VersionTally

BOUNDS = (1, 2, 4, 8)
VALUES = [0.5, 1, 1.0001, 2, 3, 4, 8, 8.5, 1000, 0, 2]  # bounds, between, past the last


def _metrics(registry: CollectorRegistry) -> tuple[Counter, Histogram]:
    counter = Counter("runs", "Runs.", ["model"], registry=registry)
    histogram = Histogram("rows", "Rows.", ["model"], buckets=BOUNDS, registry=registry)
    return counter, histogram


def _exposition(registry: CollectorRegistry) -> list[str]:
    """The text format without the `_created` lines (creation times differ)."""
    text = generate_latest(registry).decode()
    return [line for line in text.splitlines() if "_created" not in line]


def test_flushed_tallies_read_as_direct_updates() -> None:
    direct = CollectorRegistry()
    counter, histogram = _metrics(direct)
    tallied = CollectorRegistry()
    flusher = FlushOnCollect()
    tallied.register(flusher)
    t_counter, t_histogram = _metrics(tallied)
    tally = flusher.track(Tally(t_counter.labels("a"), t_histogram.labels("a")))
    for value in VALUES:
        counter.labels("a").inc()
        histogram.labels("a").observe(value)
        tally.add(value)
    assert tallied.get_sample_value("rows_count", {"model": "a"}) == len(VALUES)
    assert _exposition(tallied) == _exposition(direct)
    tally.add(5)  # pending values appear at the next read, not before a flush
    histogram.labels("a").observe(5)
    counter.labels("a").inc()
    assert _exposition(tallied) == _exposition(direct)


def test_an_immediate_tally_updates_at_once_and_forget_flushes() -> None:
    registry = CollectorRegistry()
    counter, histogram = _metrics(registry)
    immediate = Tally(counter.labels("a"), histogram.labels("a"), immediate=True)
    immediate.add(3)
    assert counter.labels("a")._value.get() == 1  # no collection needed
    flusher = FlushOnCollect()
    pending = flusher.track(Tally(counter.labels("b"), histogram.labels("b")))
    pending.add(1)
    assert counter.labels("b")._value.get() == 0
    flusher.forget(pending)
    assert counter.labels("b")._value.get() == 1
    assert registry.get_sample_value("rows_sum", {"model": "b"}) == 1


def test_updates_from_many_threads_are_all_counted() -> None:
    registry = CollectorRegistry()
    flusher = FlushOnCollect()
    registry.register(flusher)
    counter, histogram = _metrics(registry)
    tally = flusher.track(Tally(counter.labels("a"), histogram.labels("a")))

    def work() -> None:
        for i in range(2000):
            tally.add(i % 10)
            if i % 100 == 0:
                tally.flush()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert registry.get_sample_value("runs_total", {"model": "a"}) == 8000
    assert registry.get_sample_value("rows_bucket", {"model": "a", "le": "+Inf"}) == 8000
    assert registry.get_sample_value("rows_sum", {"model": "a"}) == 4 * 200 * 45


def test_a_version_tally_reads_as_direct_updates_of_its_four_series() -> None:
    def series(registry: CollectorRegistry) -> tuple[Counter, Counter, Histogram, Histogram]:
        requests = Counter("requests", "Answered.", ["v"], registry=registry)
        errors = Counter("errors", "Failed.", ["v"], registry=registry)
        latency = Histogram("latency", "Seconds.", ["v"], buckets=BOUNDS, registry=registry)
        rows = Histogram("rows", "Rows.", ["v"], buckets=BOUNDS, registry=registry)
        return requests, errors, latency, rows

    direct = CollectorRegistry()
    requests, errors, latency, rows = series(direct)
    tallied = CollectorRegistry()
    flusher = FlushOnCollect()
    tallied.register(flusher)
    tally = flusher.track(
        VersionTally(*(metric.labels("1") for metric in series(tallied)), immediate=False)
    )
    for index, value in enumerate(VALUES):
        latency.labels("1").observe(value)
        if index % 3 == 0:
            errors.labels("1").inc()
            tally.request(value, 0, failed=True)
        else:
            requests.labels("1").inc()
            run_rows = index % 2 * (index + 1)  # 0: its rows ran in a batch
            if run_rows:
                rows.labels("1").observe(run_rows)
            tally.request(value, run_rows)
    for batch in (3, 9, 64):
        rows.labels("1").observe(batch)
        tally.ran(batch)
    assert _exposition(tallied) == _exposition(direct)


def test_a_forgotten_tally_hands_each_later_update_over_at_once() -> None:
    registry = CollectorRegistry()
    counter, histogram = _metrics(registry)
    flusher = FlushOnCollect()
    tally = flusher.track(Tally(counter.labels("a"), histogram.labels("a")))
    tally.add(1)
    flusher.forget(tally)
    tally.add(2)  # a request still in flight when its version unloaded
    assert registry.get_sample_value("runs_total", {"model": "a"}) == 2
    assert registry.get_sample_value("rows_sum", {"model": "a"}) == 3
