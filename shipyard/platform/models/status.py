"""What an endpoint serves now: its server's own answers, and its figures from `/metrics`.

Each version's state comes from the server's `GET /v1/models/NAME`; its requests and errors
from `/metrics` (`shipyard.promotion.figures`). Rates are counted between two readings: the
first reading of an endpoint has none (`None`), each later one the requests and errors per
second since the one before.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from shipyard.errors import ServingError
from shipyard.platform.models.serve_process import serving_versions
from shipyard.promotion.figures import VersionFigures, read_metrics, version_figures

if TYPE_CHECKING:
    from shipyard.platform.models.records import Endpoint

__all__ = ["EndpointStatus", "ServedVersion", "StatusReader"]


@dataclass(frozen=True)
class ServedVersion:
    """One version the endpoint's server knows.

    Attributes:
        version: The registered version.
        state: Its state on the server (`AVAILABLE`, `LOADING`, `END`...).
        labels: The labels naming it (`stable`, `canary`).
        figures: What it answered since it loaded.
        requests_per_s: Requests a second since the previous reading (None: first one).
        errors_per_s: Failed requests a second since the previous reading.
    """

    version: int
    state: str
    labels: tuple[str, ...]
    figures: VersionFigures
    requests_per_s: float | None = None
    errors_per_s: float | None = None


@dataclass(frozen=True)
class EndpointStatus:
    """An endpoint and what its server says.

    Attributes:
        endpoint: Its row: what it should serve, and its process.
        versions: What the server serves, newest first (empty when it cannot be reached).
        error: Why the server could not say, if it could not.
    """

    endpoint: Endpoint
    versions: tuple[ServedVersion, ...] = ()
    error: str | None = None


@dataclass
class StatusReader:
    """Reads endpoints' servers, keeping each one's previous counts to tell rates."""

    _previous: dict[tuple[str, str], tuple[float, dict[int, VersionFigures]]] = field(
        default_factory=dict
    )
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def read(self, endpoint: Endpoint) -> EndpointStatus:
        """Ask the endpoint's server what it serves (never raises: `error` says why not)."""
        if endpoint.url is None or endpoint.state == "stopped":
            return EndpointStatus(endpoint, error=f"not running: {endpoint.message}")
        try:
            states = serving_versions(endpoint.url, endpoint.model)
            figures = version_figures(read_metrics(endpoint.url, timeout_s=5.0), endpoint.model)
        except ServingError as error:
            return EndpointStatus(endpoint, error=error.message)
        now = time.monotonic()
        key = (endpoint.project, endpoint.name)
        with self._lock:
            before = self._previous.get(key)
            self._previous[key] = (now, figures)
        labels = {"stable": endpoint.stable, "canary": endpoint.canary}
        versions = []
        for version in sorted(states, reverse=True):
            current = figures.get(version, VersionFigures())
            rates: tuple[float | None, float | None] = (None, None)
            if before is not None and now > before[0]:
                old = before[1].get(version, VersionFigures())
                elapsed_s = now - before[0]
                rates = (
                    max(0, current.requests - old.requests) / elapsed_s,
                    max(0, current.errors - old.errors) / elapsed_s,
                )
            versions.append(
                ServedVersion(
                    version=version,
                    state=states[version],
                    labels=tuple(name for name, v in labels.items() if v == version),
                    figures=current,
                    requests_per_s=rates[0],
                    errors_per_s=rates[1],
                )
            )
        return EndpointStatus(endpoint, tuple(versions))
