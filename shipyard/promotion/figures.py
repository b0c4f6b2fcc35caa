"""A served model's live figures per version, read from a server's `/metrics`.

    shipyard_model_version_requests_total{model, version}            answered requests
    shipyard_model_version_errors_total{model, version}              failed requests
    shipyard_model_version_request_duration_seconds{model, version}  their latency
    shipyard_model_version_loaded{model, version}                    1 while loaded

The counters run from the moment the version loaded (a canary's from its push), and add up
every worker's values (see `shipyard.serving.metrics`).
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from shipyard.errors import ServingError

_PREFIX = "shipyard_model_version_"


@dataclass(frozen=True)
class VersionFigures:
    """What one version answered.

    Attributes:
        answered: Requests answered (status 200).
        errors: Requests the version refused or failed.
        latency_sum_s: Their total latency.
        latency_count: How many latencies that sums.
        loaded: Whether the server has the version loaded now.
    """

    answered: int = 0
    errors: int = 0
    latency_sum_s: float = 0.0
    latency_count: int = 0
    loaded: bool = False

    @property
    def requests(self) -> int:
        """Every request the version took, answered or not."""
        return self.answered + self.errors

    @property
    def error_rate(self) -> float | None:
        """The share of requests that failed; None before any request."""
        return self.errors / self.requests if self.requests else None

    @property
    def mean_latency_s(self) -> float | None:
        """The mean latency; None before any request."""
        return self.latency_sum_s / self.latency_count if self.latency_count else None

    def to_json(self) -> dict[str, Any]:
        """Return the figures as plain JSON, with the derived rates."""
        return {
            "requests": self.requests,
            "answered": self.answered,
            "errors": self.errors,
            "error_rate": self.error_rate,
            "mean_latency_ms": None
            if self.mean_latency_s is None
            else round(self.mean_latency_s * 1000, 3),
            "loaded": self.loaded,
        }


def read_metrics(server: str, *, timeout_s: float = 10.0) -> str:
    """Return the text of `SERVER/metrics`.

    Raises:
        ServingError: The server cannot be reached or does not answer 200.
    """
    url = server.rstrip("/") + "/metrics"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as answer:  # noqa: S310
            return str(answer.read().decode("utf-8"))
    except (urllib.error.URLError, OSError) as exc:
        status = exc.code if isinstance(exc, urllib.error.HTTPError) else None
        reason = getattr(exc, "reason", exc)
        raise ServingError(
            f"Cannot read the metrics of the server at {url}: {reason}.",
            url=url,
            status=status,
            hint="Check --server: the URL `shipyard serve` listens on, e.g. http://127.0.0.1:8501.",
        ) from exc


def version_figures(metrics_text: str, model: str) -> dict[int, VersionFigures]:
    """Parse Prometheus text into the figures of each version of `model`."""
    from prometheus_client.parser import text_string_to_metric_families

    found: dict[int, dict[str, Any]] = {}
    for family in text_string_to_metric_families(metrics_text):
        if not family.name.startswith(_PREFIX):
            continue
        for sample in family.samples:
            labels = sample.labels
            if labels.get("model") != model or not labels.get("version", "").isdigit():
                continue
            entry = found.setdefault(int(labels["version"]), {})
            name = sample.name
            if name == _PREFIX + "requests_total":
                entry["answered"] = entry.get("answered", 0) + int(sample.value)
            elif name == _PREFIX + "errors_total":
                entry["errors"] = entry.get("errors", 0) + int(sample.value)
            elif name == _PREFIX + "request_duration_seconds_sum":
                entry["latency_sum_s"] = entry.get("latency_sum_s", 0.0) + sample.value
            elif name == _PREFIX + "request_duration_seconds_count":
                entry["latency_count"] = entry.get("latency_count", 0) + int(sample.value)
            elif name == _PREFIX + "loaded":
                entry["loaded"] = entry.get("loaded", False) or sample.value > 0
    return {version: VersionFigures(**entry) for version, entry in found.items()}
