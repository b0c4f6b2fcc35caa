"""Request metrics counted in plain numbers and handed to prometheus_client when read.

A prometheus_client `Counter.inc` or `Histogram.observe` takes a lock per value and, for a
histogram, walks the buckets in Python: four updates cost a 1-row request about 10 us, as
much as parsing its body. A `Tally` keeps one series pair (a counter and a histogram child
with the same labels) as a count, a sum and one count per bucket, updated under one lock,
and adds them to the prometheus_client children when the registry is collected (a scrape,
`get_sample_value`): `FlushOnCollect`, registered first in the registry, flushes every tally
before the metrics are read, so what a scrape shows is exactly what direct updates would
have shown. With several workers (multiprocess mode) each update goes through at once, since
another worker's scrape reads this one's values from its files and cannot flush them.

Example:
    >>> tally = Tally(counter.labels("penguins"), histogram.labels("penguins"))
    >>> tally.add(0.0012)  # one request, observed at 1.2 ms
"""

from __future__ import annotations

import bisect
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator


class Tally:
    """Pending updates of a counter child and a histogram child (see the module docstring).

    Attributes:
        counter: The prometheus_client counter child (None: count nothing).
        histogram: The prometheus_client histogram child (None: observe nothing).
    """

    __slots__ = (
        "_bounds",
        "_buckets",
        "_count",
        "_immediate",
        "_lock",
        "_sum",
        "counter",
        "histogram",
    )

    def __init__(self, counter: Any, histogram: Any, *, immediate: bool = False) -> None:
        """Tally updates for `counter` and `histogram`.

        Args:
            counter: A labelled `Counter` child, or None.
            histogram: A labelled `Histogram` child, or None.
            immediate: Hand every update over at once (multiprocess mode).
        """
        self.counter = counter
        self.histogram = histogram
        self._bounds: list[float] = [] if histogram is None else list(histogram._upper_bounds)
        self._lock = threading.Lock()
        self._immediate = immediate
        self._count = 0
        self._sum = 0.0
        self._buckets = [0] * len(self._bounds)

    def add(self, value: float) -> None:
        """Count one event and observe `value` (a request and its latency)."""
        with self._lock:
            self._count += 1
            self._sum += value
            self._buckets[bisect.bisect_left(self._bounds, value)] += 1
        if self._immediate:
            self.flush()

    def count(self) -> None:
        """Count one event."""
        with self._lock:
            self._count += 1
        if self._immediate:
            self.flush()

    def observe(self, value: float) -> None:
        """Observe `value` (in the histogram's bucket for it, as `Histogram.observe` does)."""
        with self._lock:
            self._sum += value
            self._buckets[bisect.bisect_left(self._bounds, value)] += 1
        if self._immediate:
            self.flush()

    def flush(self) -> None:
        """Add what is pending to the prometheus_client children."""
        with self._lock:
            count, total, buckets = self._count, self._sum, self._buckets
            if not count and not any(buckets):
                return
            self._count, self._sum, self._buckets = 0, 0.0, [0] * len(buckets)
        if count and self.counter is not None:
            self.counter.inc(count)
        if any(buckets):
            # What `Histogram.observe` does per value, once per bucket: its sum and its
            # (non-cumulative) bucket values; the exposition adds the buckets up.
            self.histogram._sum.inc(total)
            for index, hits in enumerate(buckets):
                if hits:
                    self.histogram._buckets[index].inc(hits)


class FlushOnCollect:
    """A collector that yields no metric and flushes tallies: register it first.

    The registry collects its collectors in the order they were registered, so the tallies
    are flushed before any metric is read.
    """

    def __init__(self) -> None:
        self._tallies: list[Tally] = []
        self._lock = threading.Lock()

    def track(self, tally: Tally) -> Tally:
        """Flush `tally` on every collection from now on; return it."""
        with self._lock:
            self._tallies.append(tally)
        return tally

    def forget(self, tally: Tally) -> None:
        """Flush `tally` one last time and stop tracking it."""
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
