"""The promotion rules: wait for traffic, roll back on errors or latency, else promote."""

from __future__ import annotations

import pytest

from shipyard.errors import InvalidParameterError
from shipyard.promotion.decision import PromotionPolicy, decide
from shipyard.promotion.figures import VersionFigures

POLICY = PromotionPolicy(min_requests=100, max_error_rate=0.01, max_latency_ratio=1.5)


def figures(answered: int, errors: int = 0, mean_ms: float = 1.0) -> VersionFigures:
    requests = answered + errors
    return VersionFigures(answered, errors, requests * mean_ms / 1000, requests, loaded=True)


def test_a_canary_not_loaded_or_with_too_few_requests_waits() -> None:
    missing = decide(VersionFigures(), figures(500), POLICY, canary_version=2)
    assert missing.action == "wait" and "version 2 is not loaded" in missing.reason
    few = decide(figures(60, 39), figures(500), POLICY, canary_version=2)
    assert few.action == "wait"
    assert few.reason == "the canary has taken 99 of the 100 requests needed to decide."


def test_errors_beyond_stables_roll_back() -> None:
    rolled = decide(figures(90, 10), figures(1000), POLICY, canary_version=2)
    assert rolled.action == "roll_back"
    assert rolled.reason.startswith("the canary's error rate 10.00% (10 of 100) exceeds stable's")
    # Clients' bad requests that both versions refuse alike do not count against the canary.
    same = decide(figures(90, 10), figures(900, 100), POLICY, canary_version=2)
    assert same.action == "promote"


def test_a_slower_canary_rolls_back_a_comparable_one_is_promoted() -> None:
    slow = decide(figures(200, mean_ms=4.0), figures(800, mean_ms=2.0), POLICY, canary_version=2)
    assert slow.action == "roll_back" and "2.00 times stable's 2.00 ms" in slow.reason
    fine = decide(figures(200, mean_ms=2.5), figures(800, mean_ms=2.0), POLICY, canary_version=2)
    assert fine.action == "promote"
    assert "mean latency 1.25 times stable's" in fine.reason


def test_without_stable_traffic_only_errors_are_compared() -> None:
    alone = decide(figures(200, mean_ms=50.0), VersionFigures(), POLICY, canary_version=2)
    assert alone.action == "promote" and "latency not compared" in alone.reason


@pytest.mark.parametrize(
    ("fields", "flag"),
    [
        ({"min_requests": 0}, "--min-requests"),
        ({"max_error_rate": 1.5}, "--max-error-rate"),
        ({"max_latency_ratio": 0.0}, "--max-latency-ratio"),
    ],
)
def test_policies_out_of_range_are_refused(fields: dict[str, float], flag: str) -> None:
    with pytest.raises(InvalidParameterError, match=flag):
        PromotionPolicy(**fields)  # type: ignore[arg-type]
