"""`watch_canary`: checks again until the canary has traffic enough, then applies and records."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.promotion import controller
from shipyard.promotion.controller import PromotionTarget, watch_canary
from shipyard.promotion.decision import PromotionPolicy
from shipyard.promotion.records import PromotionRecord, list_decisions
from shipyard.serving.labels import Release, find_model, make_stable, start_canary
from shipyard.store import open_store


def _metrics(canary_requests: int) -> str:
    return "\n".join(
        [
            "# TYPE shipyard_model_version_requests_total counter",
            f'shipyard_model_version_requests_total{{model="m",version="1"}} {canary_requests * 9}',
            f'shipyard_model_version_requests_total{{model="m",version="2"}} {canary_requests}',
            "# TYPE shipyard_model_version_loaded gauge",
            'shipyard_model_version_loaded{model="m",version="1"} 1',
            'shipyard_model_version_loaded{model="m",version="2"} 1',
            "",
        ]
    )


def test_watching_waits_for_traffic_then_promotes_and_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = tmp_path / "models"
    for version in (1, 2):
        (base / "m" / str(version)).mkdir(parents=True)
    config = base / "models.yaml"
    make_stable(config, name="m", base_path=base / "m", version=1)
    start_canary(config, name="m", base_path=base / "m", version=2, percent=10)
    scrapes = iter([_metrics(5), _metrics(40), _metrics(120)])
    monkeypatch.setattr(controller, "read_metrics", lambda server: next(scrapes))
    waits: list[PromotionRecord] = []
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    target = PromotionTarget(model="m", server="http://x", model_config=config)
    record = watch_canary(
        target,
        PromotionPolicy(min_requests=100),
        store,
        watch=True,
        interval_s=0,
        on_wait=waits.append,
    )
    assert [w.reason for w in waits] == [
        "the canary has taken 5 of the 100 requests needed to decide.",
        "the canary has taken 40 of the 100 requests needed to decide.",
    ]
    assert record.action == "promote" and record.run_id is not None
    assert Release.of(find_model(config, "m")) == Release(stable=2)  # type: ignore[arg-type]
    assert list_decisions(store, "m") == [record]

    # Without --watch, one check; a timeout stops a watch with the last wait.
    start_canary(config, name="m", base_path=base / "m", version=1, percent=10)
    scrapes = iter([_metrics(5)] * 3)
    once = watch_canary(target, PromotionPolicy(min_requests=100), store)
    assert once.action == "wait" and once.run_id is None
    timed = watch_canary(
        target, PromotionPolicy(min_requests=100), store, watch=True, interval_s=5, timeout_s=1
    )
    assert timed.action == "wait"
    assert len(list_decisions(store, "m")) == 1  # waiting records nothing
    store.close()
