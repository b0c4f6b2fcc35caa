"""Per-window measures beyond the columns' drift: request latency, and the place for more.

A `Measure` reads some of the log's own columns, keeps counts per pane (a flat JSON object of
numbers that add up key by key, kept in the monitor's state like the columns' counts), and
turns a window's merged counts into figures and findings. `run_monitor` takes a list of them
(`MonitorOptions.measures`), so a new per-window measure (live metrics from labels joined
later, say) is one more class, not a change to the windows, the state or the report.

`LatencyMeasure` counts each request's `latency_ms` (logged by the server) into log-spaced
bins 2% wide, so its p50, p95 and p99 are within 1% of the exact quantiles and panes merge by
adding counts; with a threshold, a p99 above it is a `latency` finding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Protocol

from shipyard.artifacts.arrays import from_numpy, to_numpy
from shipyard.monitoring.findings import Finding

if TYPE_CHECKING:
    import pyarrow as pa

Counts = dict[str, float]
"""A measure's counts of some rows: numbers by key, added key by key (`merge_counts`)."""
Figures = dict[str, float | None]
"""A measure's figures of one window, by name (`p99_ms`...)."""


class Measure(Protocol):
    """One per-window measure: counted per pane, merged per window, then measured."""

    name: ClassVar[str]
    """The key of its counts and figures (`latency`)."""
    columns: ClassVar[tuple[str, ...]]
    """The log columns it reads (read when a file has them)."""

    def count(self, rows: pa.RecordBatch) -> Counts | None:
        """Count some rows of one pane; None when they hold nothing to count."""
        ...

    def measure(self, counts: Counts | None) -> tuple[Figures, list[Finding]]:
        """Return a window's figures and findings from its merged counts."""
        ...


LATENCY_RATIO = 1.02
"""The ratio of a latency bin's upper to its lower edge: quantiles within 1%."""
LATENCY_FLOOR_MS = 0.001
"""The lower edge of the first latency bin; shorter latencies fall in it."""
LATENCY_MIN_REQUESTS = 100
"""The fewest latencies a window needs for its p99 to be compared with the threshold."""


@dataclass(frozen=True)
class LatencyMeasure:
    """Each window's request latency: p50, p95 and p99 in milliseconds, and its alert.

    Args:
        p99_threshold_ms: The largest p99 that is not a `latency` finding; None: no alert.
    """

    p99_threshold_ms: float | None = None
    name: ClassVar[str] = "latency"
    columns: ClassVar[tuple[str, ...]] = ("latency_ms", "request_id")
    quantiles: ClassVar[tuple[tuple[str, float], ...]] = (
        ("p50_ms", 0.5),
        ("p95_ms", 0.95),
        ("p99_ms", 0.99),
    )

    def count(self, rows: pa.RecordBatch) -> Counts | None:
        """Count each request's latency once (its rows share it) into log-spaced bins."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        if "latency_ms" not in rows.schema.names:
            return None  # a log written before latency was logged
        latency = rows.column("latency_ms").cast(pa.float64())
        if "request_id" in rows.schema.names and len(latency) > 1:
            ids = rows.column("request_id")
            changed = pc.not_equal(ids.slice(1), ids.slice(0, len(ids) - 1))
            yes = from_numpy(np.ones(1, dtype=bool))
            first = pa.concat_arrays([yes, pc.fill_null(changed, yes[0])])
            latency = pc.filter(latency, first)  # a request's rows are logged together
        values = to_numpy(latency, "float64", null=np.nan)
        values = values[np.isfinite(values) & (values >= 0)]
        if not len(values):
            return None
        scaled = np.maximum(values, LATENCY_FLOOR_MS) / LATENCY_FLOOR_MS
        bins = np.floor(np.log(scaled) / math.log(LATENCY_RATIO)).astype(np.int64)
        found, counts = np.unique(bins, return_counts=True)
        return {str(int(b)): int(n) for b, n in zip(found, counts, strict=True)}

    def measure(self, counts: Counts | None) -> tuple[Figures, list[Finding]]:
        """Return the window's latency quantiles and, over the threshold, its finding."""
        if not counts:
            return {"requests": 0, **dict.fromkeys(k for k, _ in self.quantiles)}, []
        bins = sorted((int(key), int(count)) for key, count in counts.items())
        total = sum(count for _, count in bins)
        figures: Figures = {"requests": total}
        for key, quantile in self.quantiles:
            figures[key] = _quantile(bins, total, quantile)
        p99 = figures["p99_ms"]
        threshold = self.p99_threshold_ms
        if threshold is None or p99 is None or total < LATENCY_MIN_REQUESTS or p99 <= threshold:
            return figures, []
        message = (
            f"The requests' p99 latency {p99:.1f} ms exceeds {threshold:g} ms "
            f"(p50 {figures['p50_ms']:.1f} ms, {total} requests)."
        )
        return figures, [Finding("latency_ms", "latency", p99, threshold, message)]


def merge_counts(counts: Counts, other: Counts) -> Counts:
    """Return the sum of two measure counts, key by key."""
    merged = dict(counts)
    for key, count in other.items():
        merged[key] = merged.get(key, 0) + count
    return merged


def _quantile(bins: list[tuple[int, int]], total: int, quantile: float) -> float:
    """The middle (geometric) of the bin holding the `quantile` of `total` values."""
    rank = quantile * total
    seen = 0
    for index, count in bins:
        seen += count
        if seen >= rank:
            return float(LATENCY_FLOOR_MS * LATENCY_RATIO ** (index + 0.5))
    return float(LATENCY_FLOOR_MS * LATENCY_RATIO ** (bins[-1][0] + 0.5))
