"""`shipyard schedule TRIGGERS --status`: each trigger, who holds it, when it fires next, and
its last firing, as JSON (the one shape of `--status --json`).

```
[{"trigger", "kind", "pipeline", "held_by", "next_time", "last_firing"}]
```

`held_by` is the live scheduler holding the trigger ("pid 412 on host") or None;
`next_time` the schedule's next time (ISO 8601, in its time zone) or None for other kinds;
`last_firing` the trigger's newest firing as `firing.firing_json` gives it, or None.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shipyard.scheduling.cron import next_time
from shipyard.scheduling.firing import firing_json, holder_alive
from shipyard.scheduling.triggers import ScheduleCondition

if TYPE_CHECKING:
    from datetime import datetime

    from shipyard.scheduling.store import SchedulerStore
    from shipyard.scheduling.triggers import TriggersConfig

__all__ = ["STATUS_KEYS", "trigger_status"]

STATUS_KEYS = ("trigger", "kind", "pipeline", "held_by", "next_time", "last_firing")


def trigger_status(
    config: TriggersConfig, store: SchedulerStore, now: datetime
) -> list[dict[str, Any]]:
    """Return the status of each trigger of `config`, in the file's order."""
    statuses = []
    for name, trigger in config.triggers.items():
        lease = store.get_lease(name)
        held_by = None
        if lease is not None and holder_alive(lease, now):
            held_by = f"pid {lease.properties.get('pid')} on {lease.properties.get('host')}"
        last = store.list_firings(trigger=name, limit=1)
        values = {
            "trigger": name,
            "kind": trigger.kind,
            "pipeline": trigger.target.identity,
            "held_by": held_by,
            "next_time": _next_time(trigger.condition, now),
            "last_firing": firing_json(last[0]) if last else None,
        }
        statuses.append({key: values[key] for key in STATUS_KEYS})
    return statuses


def _next_time(condition: object, now: datetime) -> str | None:
    if not isinstance(condition, ScheduleCondition):
        return None
    return next_time(condition.cron, condition.timezone, now).isoformat()
