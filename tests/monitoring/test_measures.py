"""Per-window measures: request latency in mergeable bins, its quantiles and its alert."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from shipyard.monitoring.measures import LATENCY_MIN_REQUESTS, LatencyMeasure, merge_counts


def _rows(latencies: list[float] | np.ndarray, ids: list[str] | None = None) -> pa.RecordBatch:
    ids = ids or [f"r{i}" for i in range(len(latencies))]
    return pa.record_batch(
        {"latency_ms": pa.array(latencies, pa.float32()), "request_id": pa.array(ids)}
    )


def test_quantiles_of_merged_panes_are_within_one_percent_of_the_exact_ones() -> None:
    rng = np.random.default_rng(3)
    values = rng.lognormal(mean=2.0, sigma=0.8, size=20_000)
    measure = LatencyMeasure()
    halves = [measure.count(_rows(part)) for part in np.array_split(values, 2)]
    assert halves[0] is not None and halves[1] is not None
    figures, findings = measure.measure(merge_counts(halves[0], halves[1]))
    assert figures["requests"] == 20_000 and findings == []
    for key, quantile in (("p50_ms", 0.5), ("p95_ms", 0.95), ("p99_ms", 0.99)):
        exact = float(np.quantile(values.astype(np.float32), quantile))
        assert figures[key] == pytest.approx(exact, rel=0.011)


def test_a_request_s_rows_count_once_and_missing_latencies_not_at_all() -> None:
    measure = LatencyMeasure()
    counts = measure.count(_rows([5.0, 5.0, 5.0, 200.0, float("nan")], ["a", "a", "a", "b", "c"]))
    figures, _ = measure.measure(counts)
    assert figures["requests"] == 2  # a once, b once, c unmeasured
    old_log = pa.record_batch({"request_id": pa.array(["a"])})
    assert measure.count(old_log) is None
    empty, found = measure.measure(None)
    assert empty == {"requests": 0, "p50_ms": None, "p95_ms": None, "p99_ms": None}
    assert found == []


def test_a_p99_over_the_threshold_is_a_latency_finding_once_enough_requests() -> None:
    slow = [10.0] * 97 + [900.0] * 3  # p99: 900 ms
    measure = LatencyMeasure(p99_threshold_ms=500)
    figures, findings = measure.measure(measure.count(_rows(slow)))
    assert figures["p50_ms"] == pytest.approx(10, rel=0.011)
    assert len(slow) == LATENCY_MIN_REQUESTS
    (finding,) = findings
    assert finding.kind == "latency" and finding.column == "latency_ms"
    assert finding.value == pytest.approx(900, rel=0.011) and finding.threshold == 500
    assert "p99 latency" in finding.message and "exceeds 500 ms" in finding.message
    _, too_few = measure.measure(measure.count(_rows(slow[:-10])))
    assert too_few == []  # 90 requests: their p99 is their maximum
    _, fine = LatencyMeasure(p99_threshold_ms=1000).measure(measure.count(_rows(slow)))
    assert fine == []
