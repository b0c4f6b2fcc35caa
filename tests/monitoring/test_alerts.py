"""Alerts: firing and resolved, one per column until it resolves, posted to a real server."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, ClassVar

import pytest

from shipyard.monitoring.monitor import MonitorOptions
from tests.monitoring.logs import write_log
from tests.monitoring.runs import monitored

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from shipyard.monitoring.report import MonitorResult
    from shipyard.runners import Project


class _Receiver(BaseHTTPRequestHandler):
    bodies: ClassVar[list[dict[str, Any]]] = []
    status: ClassVar[int] = 200

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        assert self.headers["Content-Type"] == "application/json"
        type(self).bodies.append(json.loads(self.rfile.read(length)))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[_Receiver]]]:
    handler = type("Receiver", (_Receiver,), {"bodies": [], "status": 200})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/alerts", handler
    server.shutdown()
    server.server_close()


def _options(logs: Path, reference: Path | None, webhook: str) -> MonitorOptions:
    return MonitorOptions(
        logs=str(logs),
        name="taxi",
        reference=None if reference is None else str(reference),
        webhook=webhook,
    )


class _Monitor:
    """A monitor of `logs` posting to the receiver; its first run gives the reference."""

    def __init__(self, logs: Path, reference: Path, project: Project, url: str) -> None:
        self.logs, self.reference, self.project, self.url = logs, reference, project, url
        self.runs = 0

    def run(self) -> MonitorResult:
        reference = self.reference if self.runs == 0 else None
        self.runs += 1
        return monitored(_options(self.logs, reference, self.url), self.project)


@pytest.fixture
def monitor(
    logs: Path, reference: Path, project: Project, receiver: tuple[str, type[_Receiver]]
) -> _Monitor:
    return _Monitor(logs, reference, project, receiver[0])


def _alerts(body: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(a["status"], a["labels"]["kind"], a["labels"]["column"]) for a in body["alerts"]]


def test_an_alert_fires_once_until_it_resolves_then_resolves_once(
    logs: Path, monitor: _Monitor, receiver: tuple[str, type[_Receiver]]
) -> None:
    handler = receiver[1]
    write_log(logs, 0, seed=1, shift=0.5)
    first = monitor.run()
    assert first.alerting and first.webhook_error is None
    (body,) = handler.bodies
    assert body["version"] == "4" and body["status"] == "firing"
    assert body["groupLabels"] == {"monitor": "taxi"}
    assert _alerts(body) == [("firing", "drift", "x")]
    alert = body["alerts"][0]
    assert alert["startsAt"] == "2026-01-01T00:00:00Z"
    assert alert["endsAt"] == "0001-01-01T00:00:00Z"
    assert alert["labels"]["model"] == "taxi/3" and alert["labels"]["severity"] == "warning"
    assert "Wasserstein distance (in standard deviations)" in alert["annotations"]["summary"]

    write_log(logs, 1, seed=2, shift=0.5)  # still drifted: no second firing alert
    second = monitor.run()
    assert second.alerting and second.notifications == [] and len(handler.bodies) == 1

    write_log(logs, 2, seed=3)  # back to normal: resolved, once
    third = monitor.run()
    assert not third.alerting
    assert _alerts(handler.bodies[-1]) == [("resolved", "drift", "x")]
    assert handler.bodies[-1]["status"] == "resolved"
    assert handler.bodies[-1]["alerts"][0]["endsAt"] == "2026-01-01T03:00:00Z"
    assert handler.bodies[-1]["alerts"][0]["fingerprint"] == alert["fingerprint"]
    monitor.run()
    assert len(handler.bodies) == 2


def test_a_notification_the_receiver_refused_is_posted_by_the_next_run(
    logs: Path, monitor: _Monitor, receiver: tuple[str, type[_Receiver]]
) -> None:
    url, handler = receiver
    handler.status = 503
    write_log(logs, 0, seed=1, shift=0.5)
    assert monitor.run().webhook_error == f"{url} answered HTTP 503"
    handler.status = 200
    assert monitor.run().webhook_error is None  # no new file, the pending notification
    assert [_alerts(body) for body in handler.bodies] == [[("firing", "drift", "x")]] * 2
    monitor.run()
    assert len(handler.bodies) == 2


def test_an_unreachable_webhook_is_reported_not_fatal(
    logs: Path, reference: Path, project: Project
) -> None:
    write_log(logs, 0, seed=1, shift=0.5)
    report = monitored(_options(logs, reference, "http://127.0.0.1:9/alerts"), project)
    assert report.alerting
    assert report.webhook_error is not None and "could not reach" in report.webhook_error
