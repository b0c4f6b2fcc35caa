"""The promotion controller: check a canary, then promote it, roll it back, or wait.

`check_canary` reads the model's labels from the model config and the server's figures
for its canary and stable versions, and decides (`shipyard.promotion.decision`). A
promotion or rollback is written to the model config (`shipyard.serving.labels`: locked,
atomic; the server reloads it) and recorded in the store; waiting changes nothing.
`watch_canary` checks again every `interval_s` until the canary is decided.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shipyard.errors import ConfigError
from shipyard.promotion.decision import PromotionPolicy, decide
from shipyard.promotion.figures import VersionFigures, read_metrics, version_figures
from shipyard.promotion.records import PromotionRecord, record_decision
from shipyard.serving.labels import Release, end_canary, find_model

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from shipyard.store import MetadataStore


@dataclass(frozen=True)
class PromotionTarget:
    """Which canary to judge.

    Attributes:
        model: The model's name.
        server: The server's URL (`http://127.0.0.1:8501`).
        model_config: The model config file holding its labels.
    """

    model: str
    server: str
    model_config: Path


def check_canary(target: PromotionTarget, policy: PromotionPolicy) -> PromotionRecord:
    """Decide about the model's canary from the server's figures; change nothing.

    Raises:
        ConfigError: The config does not list the model, or the model has no canary.
        ServingError: The server cannot be reached.
    """
    model = find_model(target.model_config, target.model)
    if model is None:
        raise ConfigError(
            f"The model config {target.model_config} lists no model {target.model!r}.",
            hint="Push with a canary share first (push(..., canary_percent=10), or "
            "shipyard train ... --canary 10), or pass the config with --model-config.",
        )
    release = Release.of(model)
    if release.canary is None:
        raise ConfigError(
            f"The model {target.model!r} has no canary in {target.model_config} (labels: "
            f"{dict(model.labels) or 'none'}); there is nothing to promote."
        )
    figures = version_figures(read_metrics(target.server), target.model)
    canary = figures.get(release.canary, VersionFigures())
    stable = VersionFigures() if release.stable is None else figures.get(release.stable)
    stable = stable or VersionFigures()
    decision = decide(canary, stable, policy, canary_version=release.canary)
    return PromotionRecord(
        model=target.model,
        action=decision.action,
        reason=decision.reason,
        stable=release.stable,
        canary=release.canary,
        canary_percent=release.percent,
        figures={"stable": stable.to_json(), "canary": canary.to_json()},
        policy=policy.to_json(),
        server=target.server,
        model_config=str(target.model_config),
    )


def apply_decision(
    target: PromotionTarget, record: PromotionRecord, store: MetadataStore
) -> PromotionRecord:
    """Write a promotion or rollback to the model config and record it in the store.

    Raises:
        ConfigError: The canary changed since the decision (decide again).
    """
    end_canary(
        target.model_config,
        name=target.model,
        promote=record.action == "promote",
        canary=record.canary,
    )
    return record_decision(store, record)


def watch_canary(
    target: PromotionTarget,
    policy: PromotionPolicy,
    store: MetadataStore,
    *,
    watch: bool = False,
    interval_s: float = 10.0,
    timeout_s: float | None = None,
    on_wait: Callable[[PromotionRecord], None] | None = None,
) -> PromotionRecord:
    """Check the canary, and apply the decision; with `watch`, check until decided.

    Args:
        target: The canary.
        policy: When it is good enough.
        store: Where decisions are recorded.
        watch: Check again every `interval_s` while the decision is to wait.
        interval_s: Seconds between checks.
        timeout_s: Stop watching after this long (None: never), returning the last wait.
        on_wait: Called with each decision to wait, before sleeping.

    Returns:
        The decision: recorded (with its run id) when it promoted or rolled back.
    """
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while True:
        record = check_canary(target, policy)
        if record.decided:
            return apply_decision(target, record, store)
        if not watch or (deadline is not None and time.monotonic() + interval_s > deadline):
            return record
        if on_wait is not None:
            on_wait(record)
        time.sleep(interval_s)
