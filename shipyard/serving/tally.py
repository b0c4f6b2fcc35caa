"""Request metrics counted in plain numbers and handed to prometheus_client when read.

A prometheus_client `Counter.inc` or `Histogram.observe` takes a lock per value and, for a
histogram, walks the buckets in Python: four updates cost a 1-row request about 10 us, as
much as parsing its body. A `Tally` keeps one series pair (a counter and a histogram child
with the same labels) as a count, a sum and one count per bucket, updated under one lock;
a `VersionTally` keeps the four series of one model version (requests, errors, latency and
rows per run), so that a request updates them in one call. Both add what they hold to the
prometheus_client children when the registry is collected (a scrape, `get_sample_value`):
`FlushOnCollect`, registered first in the registry, flushes every tally before the metrics
are read, so what a scrape shows is exactly what direct updates would have shown. With
several workers (multiprocess mode) each update goes through at once, since another
worker's scrape reads this one's values from its files and cannot flush them; so does every
update of a tally no longer tracked (a request still in flight when its version unloads).

Example:
    >>> tally = Tally(counter.labels("penguins"), histogram.labels("penguins"))
    >>> tally.add(0.0012)  # one request, observed at 1.2 ms
"""

from __future__ import annotations

import bisect
import threading
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from collections.abc import Iterator

T = TypeVar("T", "Tally", "VersionTally")


class Tally:
    """Pending updates of a counter child and a histogram child (see the module docstring).

    Attributes:
        counter: The prometheus_client counter child.
        histogram: The prometheus_client histogram child.
        immediate: Whether every update is handed over at once.
    """

    __slots__ = (
        "_bounds",
        "_buckets",
        "_count",
        "_lock",
        "_sum",
        "counter",
        "histogram",
        "immediate",
    )

    def __init__(self, counter: Any, histogram: Any, *, immediate: bool = False) -> None:
        """Tally updates for `counter` and `histogram`.

        Args:
            counter: A labelled `Counter` child.
            histogram: A labelled `Histogram` child.
            immediate: Hand every update over at once (multiprocess mode).
        """
        self.counter = counter
        self.histogram = histogram
        self._bounds: list[float] = list(histogram._upper_bounds)
        self._lock = threading.Lock()
        self.immediate = immediate
        self._count = 0
        self._sum = 0.0
        self._buckets = [0] * len(self._bounds)

    def add(self, value: float) -> None:
        """Count one event and observe `value` (a request and its latency)."""
        with self._lock:
            self._count += 1
            self._sum += value
            self._buckets[bisect.bisect_left(self._bounds, value)] += 1
        if self.immediate:
            self.flush()

    def flush(self) -> None:
        """Add what is pending to the prometheus_client children."""
        with self._lock:
            count, total, buckets = self._count, self._sum, self._buckets
            if not count:
                return
            self._count, self._sum, self._buckets = 0, 0.0, [0] * len(buckets)
        self.counter.inc(count)
        _add_to_histogram(self.histogram, total, buckets)


class VersionTally:
    """Pending updates of one version's four series (see the module docstring).

    Attributes:
        requests: The counter child of the requests it answered.
        errors: The counter child of the requests it refused or failed.
        latency: The histogram child of every request's latency.
        batch_size: The histogram child of the rows of each model run.
        immediate: Whether every update is handed over at once.
    """

    __slots__ = (
        "_errors",
        "_latency",
        "_latency_bounds",
        "_latency_sum",
        "_lock",
        "_requests",
        "_rows",
        "_rows_bounds",
        "_rows_sum",
        "batch_size",
        "errors",
        "immediate",
        "latency",
        "requests",
    )

    def __init__(
        self, requests: Any, errors: Any, latency: Any, batch_size: Any, *, immediate: bool
    ) -> None:
        """Tally updates for the four children; `immediate`: hand every update over at once."""
        self.requests = requests
        self.errors = errors
        self.latency = latency
        self.batch_size = batch_size
        self.immediate = immediate
        self._lock = threading.Lock()
        self._latency_bounds: list[float] = list(latency._upper_bounds)
        self._rows_bounds: list[float] = list(batch_size._upper_bounds)
        self._requests = self._errors = 0
        self._latency_sum = self._rows_sum = 0.0
        self._latency = [0] * len(self._latency_bounds)
        self._rows = [0] * len(self._rows_bounds)

    def request(self, seconds: float, rows: int, *, failed: bool = False) -> None:
        """Count a request answered (or, `failed`, refused or failed) after `seconds`.

        `rows`: the rows of its own model run; 0 when it had none, or when its rows ran in
        a batch (which `ran` counts).
        """
        with self._lock:
            if failed:
                self._errors += 1
            else:
                self._requests += 1
            self._latency_sum += seconds
            self._latency[bisect.bisect_left(self._latency_bounds, seconds)] += 1
            if rows:
                self._rows_sum += rows
                self._rows[bisect.bisect_left(self._rows_bounds, rows)] += 1
        if self.immediate:
            self.flush()

    def ran(self, rows: int) -> None:
        """Count a model run of `rows` rows (a batch)."""
        with self._lock:
            self._rows_sum += rows
            self._rows[bisect.bisect_left(self._rows_bounds, rows)] += 1
        if self.immediate:
            self.flush()

    def flush(self) -> None:
        """Add what is pending to the prometheus_client children."""
        with self._lock:
            requests, errors = self._requests, self._errors
            latency, latency_sum = self._latency, self._latency_sum
            rows, rows_sum = self._rows, self._rows_sum
            self._requests = self._errors = 0
            self._latency_sum = self._rows_sum = 0.0
            self._latency = [0] * len(latency)
            self._rows = [0] * len(rows)
        if requests:
            self.requests.inc(requests)
        if errors:
            self.errors.inc(errors)
        if any(latency):
            _add_to_histogram(self.latency, latency_sum, latency)
        if any(rows):
            _add_to_histogram(self.batch_size, rows_sum, rows)


def _add_to_histogram(histogram: Any, total: float, buckets: list[int]) -> None:
    """What `Histogram.observe` does per value, once per bucket: its sum and its
    (non-cumulative) bucket values; the exposition adds the buckets up."""
    histogram._sum.inc(total)
    for index, hits in enumerate(buckets):
        if hits:
            histogram._buckets[index].inc(hits)


class FlushOnCollect:
    """A collector that yields no metric and flushes tallies: register it first.

    The registry collects its collectors in the order they were registered, so the tallies
    are flushed before any metric is read.
    """

    def __init__(self) -> None:
        self._tallies: list[Tally | VersionTally] = []
        self._lock = threading.Lock()

    def track(self, tally: T) -> T:
        """Flush `tally` on every collection from now on; return it."""
        with self._lock:
            self._tallies.append(tally)
        return tally

    def forget(self, tally: Tally | VersionTally) -> None:
        """Stop tracking `tally`: flush it, and from now on each of its updates at once."""
        tally.immediate = True
        tally.flush()
        with self._lock:
            if tally in self._tallies:
                self._tallies.remove(tally)

    def collect(self) -> Iterator[Any]:
        """Flush every tally; yield nothing."""
        with self._lock:
            tallies = list(self._tallies)
        for tally in tallies:
            tally.flush()
        yield from ()
