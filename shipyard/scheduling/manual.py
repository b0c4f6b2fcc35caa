"""`shipyard trigger NAME`: fire a trigger by hand, through the running scheduler if any.

When a live scheduler holds the trigger's lease, the firing is recorded as requested and that
scheduler admits it (checking the pipeline's limits) and runs it at its next step; the caller
waits to see it start. Otherwise the firing is recorded here, under the same limits, and the
caller runs it itself (`launch.run_firing`).
"""

from __future__ import annotations

import getpass
import secrets
import socket
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

from shipyard.errors import NotFoundError
from shipyard.scheduling.firing import holder_alive, new_firing

if TYPE_CHECKING:
    from datetime import datetime

    from shipyard.scheduling.store import SchedulerStore
    from shipyard.scheduling.triggers import TriggersConfig
    from shipyard.store.firings import FiringRecord

__all__ = ["ManualFiring", "fire_by_hand", "wait_for_start"]

WAIT_POLL_S: Final = 0.2


@dataclass(frozen=True)
class ManualFiring:
    """What `fire_by_hand` did.

    Attributes:
        route: "scheduler": requested from the live scheduler `scheduler` names; "direct":
            recorded here, pending (run it) or skipped (`reason` says why).
        firing: The recorded firing.
        scheduler: The scheduler's host and pid, for "scheduler".
        reason: Why a direct firing was skipped.
    """

    route: Literal["scheduler", "direct"]
    firing: FiringRecord
    scheduler: str | None = None
    reason: str | None = None


def fire_by_hand(
    config: TriggersConfig,
    name: str,
    store: SchedulerStore,
    *,
    now: datetime,
    artifact_root: str | None,
) -> ManualFiring:
    """Record a manual firing of trigger `name`, for the live scheduler or to run here.

    Raises:
        NotFoundError: The triggers file has no trigger `name`.
    """
    trigger = config.triggers.get(name)
    if trigger is None:
        known = ", ".join(sorted(config.triggers)) or "none"
        raise NotFoundError(
            f"No trigger {name!r} in the triggers file {config.path}; its triggers are {known}."
        )
    reason = f"fired by hand (shipyard trigger, by {_user()} on {socket.gethostname()})"
    key = f"manual:{now.isoformat(timespec='seconds')}:{secrets.token_hex(4)}"
    new = new_firing(
        config, trigger, key=key, reason=reason, artifact_root=artifact_root, kind="manual"
    )
    lease = store.get_lease(name)
    if lease is not None and holder_alive(lease, now):
        where = f"pid {lease.properties.get('pid')} on {lease.properties.get('host')}"
        return ManualFiring("scheduler", store.request_firing(new, now=now), scheduler=where)
    result = store.fire(new, limits=config.limits_of(trigger.target), now=now, record_blocked=True)
    assert result.firing is not None  # a fresh key: fired, or blocked and recorded
    return ManualFiring("direct", result.firing, reason=result.reason)


def wait_for_start(store: SchedulerStore, firing_id: int, *, timeout_s: float) -> FiringRecord:
    """Wait until a requested firing is admitted and its run registered, or skipped, or
    `timeout_s` passes; return the firing as it then is."""
    deadline = time.monotonic() + timeout_s
    while True:
        firing = store.get_firing(firing_id)
        started = firing.run_id is not None or firing.state not in (
            "requested",
            "pending",
            "running",
        )
        if started or time.monotonic() >= deadline:
            return firing
        time.sleep(WAIT_POLL_S)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
