"""A firing as the scheduler and `shipyard trigger` build it, and as JSON (`--json`).

```
{"id", "trigger", "kind", "key", "pipeline", "reason", "state", "fired_at", "ended_at",
 "run_id", "attempts", "error"}
```
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Any

from shipyard.store.firings import NewFiring

if TYPE_CHECKING:
    from datetime import datetime

    from shipyard.scheduling.triggers import Trigger, TriggersConfig
    from shipyard.store.firings import FiringKind, FiringRecord, TriggerLease

__all__ = ["FIRING_JSON_KEYS", "firing_json", "holder_alive", "new_firing"]

FIRING_JSON_KEYS = (
    "id", "trigger", "kind", "key", "pipeline", "reason", "state", "fired_at", "ended_at",
    "run_id", "attempts", "error",
)  # fmt: skip


def new_firing(
    config: TriggersConfig,
    trigger: Trigger,
    *,
    key: str,
    reason: str,
    artifact_root: str | None,
    kind: FiringKind | None = None,
) -> NewFiring:
    """A firing of `trigger` with the run it asks for (file, pipeline, params, directory).

    Args:
        config: The triggers file (runs start in its directory).
        trigger: The trigger firing.
        key: The firing's idempotency key.
        reason: Why it fires.
        artifact_root: Where the run publishes artifacts (None: the project's default).
        kind: The kind recorded, when not the condition's ("manual" for `shipyard trigger`).
    """
    target = trigger.target
    run = {
        "file": str(target.file),
        "pipeline": target.pipeline,
        "params": dict(target.params),
        "cwd": str(config.directory),
        "artifact_root": artifact_root,
    }
    return NewFiring(
        trigger=trigger.name,
        kind=kind or trigger.kind,
        key=key,
        pipeline=target.identity,
        reason=reason,
        properties={"run": run, "triggers_file": str(config.path)},
    )


def firing_json(firing: FiringRecord) -> dict[str, Any]:
    """Return a firing as plain JSON, times as ISO 8601."""
    values = {
        **{key: getattr(firing, key) for key in FIRING_JSON_KEYS},
        "fired_at": firing.fired_at.isoformat(),
        "ended_at": None if firing.ended_at is None else firing.ended_at.isoformat(),
    }
    return values


def holder_alive(lease: TriggerLease | None, now: datetime) -> bool:
    """Whether a scheduler holds the lease now: it has not lapsed, and its process is alive
    (when it runs on this host, which alone can tell)."""
    from shipyard.runners.liveness import process_alive

    if lease is None or lease.holder is None or lease.expires_at is None:
        return False
    if lease.expires_at <= now:
        return False
    pid, started = lease.properties.get("pid"), lease.properties.get("pid_started")
    if lease.properties.get("host") == socket.gethostname() and isinstance(pid, int):
        return process_alive(pid, started if isinstance(started, int) else None)
    return True
