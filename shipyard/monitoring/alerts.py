"""Alerts: one firing alert per column and kind until it resolves, and their notifications.

`AlertBook` walks the windows in time order. A finding whose (kind, column) is not firing
fires; a firing alert whose finding is gone from a newer window with at least `min_rows`
rows resolves. Windows older than the newest one already walked (a late record updated
them) change their figures, never the alerts, so an alert cannot flap backwards in time.

Notifications are posted to `--webhook` in the body Alertmanager posts to its webhook
receivers (version 4: `status`, `groupKey`, `alerts` with `labels`, `annotations`,
`startsAt`, `endsAt`, `fingerprint`), so the receivers written for Alertmanager (chat
bridges, pagers, `alertmanager-webhook-logger`) take them. A notification that could not be
posted stays pending in the monitor's state and is posted again by the next run.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shipyard.monitoring.findings import Finding, WindowFigures

NEVER = "0001-01-01T00:00:00Z"
"""Alertmanager's `endsAt` of an alert still firing."""
WEBHOOK_TIMEOUT_S = 10.0


@dataclass
class AlertBook:
    """The alerts firing, the newest window walked, and notifications not yet delivered."""

    monitor: str
    firing: dict[str, dict[str, Any]] = field(default_factory=dict)
    latest_us: int | None = None
    pending: list[dict[str, Any]] = field(default_factory=list)

    def walk(self, window: WindowFigures, *, min_rows: int) -> list[dict[str, Any]]:
        """Update the alerts with one window's findings; return the new notifications."""
        from shipyard.monitoring.report import iso_time

        if self.latest_us is not None and window.start_us < self.latest_us:
            return []
        self.latest_us = window.start_us
        found = {_key(f): f for f in window.findings}
        notes: list[dict[str, Any]] = []
        for key, finding in found.items():
            if key not in self.firing:
                alert = _alert(self.monitor, finding, window, iso_time(window.start_us))
                self.firing[key] = alert
                notes.append(alert)
        if window.rows >= min_rows:
            for key in [k for k in self.firing if k not in found]:
                alert = dict(self.firing.pop(key))
                alert.update(status="resolved", endsAt=iso_time(window.end_us))
                notes.append(alert)
        self.pending.extend(notes)
        return notes

    def to_json(self) -> dict[str, Any]:
        """Return the book as plain JSON (kept in the monitor's state)."""
        return {"firing": self.firing, "latest_us": self.latest_us, "pending": self.pending}

    @classmethod
    def from_json(cls, monitor: str, data: dict[str, Any] | None) -> AlertBook:
        """Read what `to_json` wrote (None: a new monitor)."""
        if not data:
            return cls(monitor)
        return cls(monitor, dict(data["firing"]), data.get("latest_us"), list(data["pending"]))


def _key(finding: Finding) -> str:
    return f"{finding.kind}:{finding.column}"


def _alert(monitor: str, finding: Finding, window: WindowFigures, starts: str) -> dict[str, Any]:
    labels = {
        "alertname": "ShipyardMonitor",
        "monitor": monitor,
        "kind": finding.kind,
        "column": finding.column,
        "severity": "critical" if finding.kind == "dataset_drift" else "warning",
    }
    if len(window.versions) == 1:
        labels["model"] = next(iter(window.versions))
    digest = hashlib.sha256(json.dumps(labels, sort_keys=True).encode("utf-8"))
    fingerprint = digest.hexdigest()[:16]
    return {
        "status": "firing",
        "labels": labels,
        "annotations": {
            "summary": finding.message,
            "value": f"{finding.value:.4g}",
            "threshold": f"{finding.threshold:.4g}",
        },
        "startsAt": starts,
        "endsAt": NEVER,
        "generatorURL": "",
        "fingerprint": fingerprint,
    }


def webhook_body(monitor: str, alerts: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the body of one webhook POST: Alertmanager's webhook payload, version 4."""
    firing = any(alert["status"] == "firing" for alert in alerts)
    common = {"alertname": "ShipyardMonitor", "monitor": monitor}
    return {
        "version": "4",
        "groupKey": f'{{}}:{{monitor="{monitor}"}}',
        "truncatedAlerts": 0,
        "status": "firing" if firing else "resolved",
        "receiver": "shipyard",
        "groupLabels": {"monitor": monitor},
        "commonLabels": common,
        "commonAnnotations": {},
        "externalURL": "",
        "alerts": alerts,
    }


def post_webhook(url: str, body: dict[str, Any]) -> str | None:
    """POST `body` as JSON to `url`; return None when delivered, else why not."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(  # noqa: S310 - the user's own URL, http(s) checked
        url,
        data=json.dumps(body).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_S) as answer:  # noqa: S310
            status = int(answer.status)
    except urllib.error.HTTPError as exc:
        return f"{url} answered HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"could not reach {url} ({reason})"
    return None if 200 <= status < 300 else f"{url} answered HTTP {status}"


def log_line(alert: dict[str, Any]) -> str:
    """Return the one line an alert's notification is logged as."""
    labels = alert["labels"]
    state = "FIRING" if alert["status"] == "firing" else "RESOLVED"
    return (
        f"{state} {labels['kind']} {labels['column']} since {alert['startsAt']}: "
        f"{alert['annotations']['summary']}"
    )
