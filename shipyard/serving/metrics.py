"""Prometheus metrics at `GET /metrics`: requests, latencies, batch sizes, loaded versions.

    shipyard_requests_total{endpoint, model, code}          HTTP requests answered
    shipyard_request_duration_seconds{endpoint, model}      their latency (histogram)
    shipyard_model_version_requests_total{model, version}   inference requests per version
    shipyard_model_version_errors_total{model, version}     of those, the ones that failed
    shipyard_model_version_request_duration_seconds{model, version}  their latency
    shipyard_batch_size{model, version}                     rows per model run (histogram)
    shipyard_model_version_loaded{model, version}           1 while served, 0 once unloaded
    shipyard_request_log_rows_total{outcome}                request-log rows written/dropped

`endpoint` is the route (`/v1/models/{name}:predict`); `model` is empty for a name that is
not served, so clients cannot grow the label sets. With several workers (`--workers`) each
process writes its values under `PROMETHEUS_MULTIPROC_DIR` and `/metrics` adds them up
(prometheus_client's multiprocess mode), so a scrape sees the whole server whichever worker
answers; `shipyard_model_version_loaded` then has a `pid` label, one series per worker.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from starlette.responses import Response

from shipyard.serving.tally import FlushOnCollect, Tally, VersionTally

if TYPE_CHECKING:
    from collections.abc import Collection

    from starlette.requests import Request
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
"""The environment variable that turns prometheus_client's multiprocess mode on."""
_LATENCY_BUCKETS_S = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)
_ROW_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384)
_METHODS = ("predict", "classify", "regress")


class Metrics:
    """The server's metrics, in a registry of their own (one per app).

    Example:
        >>> metrics = Metrics(["penguins"])
        >>> app = Starlette(routes=[Route("/metrics", metrics.endpoint)], middleware=[
        ...     Middleware(RequestMetrics, metrics=metrics)])
    """

    def __init__(self, model_names: Collection[str]) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.model_names = frozenset(model_names)
        self.registry = CollectorRegistry()
        registry = self.registry
        self._flusher = FlushOnCollect()  # first: tallies are flushed before any metric is read
        registry.register(self._flusher)
        self._immediate = MULTIPROCESS_DIR in os.environ
        self.requests = Counter(
            "shipyard_requests",
            "HTTP requests answered, by endpoint, served model and status code.",
            ["endpoint", "model", "code"],
            registry=registry,
        )
        self.latency = Histogram(
            "shipyard_request_duration_seconds",
            "Time from receiving a request to sending its answer.",
            ["endpoint", "model"],
            buckets=_LATENCY_BUCKETS_S,
            registry=registry,
        )
        self.version_requests = Counter(
            "shipyard_model_version_requests",
            "Inference requests answered by each version (shows a canary split).",
            ["model", "version"],
            registry=registry,
        )
        self.version_errors = Counter(
            "shipyard_model_version_errors",
            "Inference requests a version refused or failed (4xx, 5xx), for canary checks.",
            ["model", "version"],
            registry=registry,
        )
        self.version_latency = Histogram(
            "shipyard_model_version_request_duration_seconds",
            "Time a version took to answer an inference request, from choosing the version.",
            ["model", "version"],
            buckets=_LATENCY_BUCKETS_S,
            registry=registry,
        )
        self.batch_size = Histogram(
            "shipyard_batch_size",
            "Rows per model run: a request's rows, or a batch's with batching on.",
            ["model", "version"],
            buckets=_ROW_BUCKETS,
            registry=registry,
        )
        self.loaded = Gauge(
            "shipyard_model_version_loaded",
            "1 for each version served, 0 once unloaded.",
            ["model", "version"],
            multiprocess_mode="liveall",
            registry=registry,
        )
        self.log_rows = Counter(
            "shipyard_request_log_rows",
            "Request-log rows written to Parquet, or dropped (buffer full, write failed).",
            ["outcome"],
            registry=registry,
        )
        self._versions: dict[str, set[int]] = {}
        self._version_tallies: dict[tuple[str, int], VersionTally] = {}
        self._requests: dict[tuple[str, str, int], Tally] = {}

    def version_series(self, model: str, version: int) -> VersionTally:
        """The tally of one version's four series, made once (until the version unloads).

        `request` counts a request it answered, refused or failed, and `ran` a model run
        (a batch).
        """
        tally = self._version_tallies.get((model, version))
        if tally is None:
            label = str(version)
            tally = self._flusher.track(
                VersionTally(
                    self.version_requests.labels(model, label),
                    self.version_errors.labels(model, label),
                    self.version_latency.labels(model, label),
                    self.batch_size.labels(model, label),
                    immediate=self._immediate,
                )
            )
            self._version_tallies[(model, version)] = tally
        return tally

    def request_series(self, endpoint: str, model: str, code: int) -> Tally:
        """The tally of the request counter and latency histogram of these labels, made once.

        Callers pass label values from a bounded set: route templates, served model names
        (or ""), and the status codes the server writes.
        """
        key = (endpoint, model, code)
        tally = self._requests.get(key)
        if tally is None:
            tally = self._flusher.track(
                Tally(
                    self.requests.labels(endpoint, model, str(code)),
                    self.latency.labels(endpoint, model),
                    immediate=self._immediate,
                )
            )
            self._requests[key] = tally
        return tally

    def observe_batch(self, model: str, version: int, rows: int) -> None:
        """Count one model run of `rows` rows (safe from any thread)."""
        self.version_series(model, version).ran(rows)

    def set_versions(self, model: str, versions: Collection[int]) -> None:
        """Record the versions of `model` loaded now (the registry calls this)."""
        known = self._versions.setdefault(model, set())
        for version in known - set(versions):
            self.loaded.labels(model, str(version)).set(0)
            tally = self._version_tallies.pop((model, version), None)
            if tally is not None:
                self._flusher.forget(tally)
        for version in versions:
            self.loaded.labels(model, str(version)).set(1)
        known |= set(versions)

    async def endpoint(self, request: Request) -> Response:
        """`GET /metrics`: Prometheus' text format, every worker's values added up."""
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

        registry = self.registry
        if MULTIPROCESS_DIR in os.environ:
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    def close(self) -> None:
        """Drop this worker's per-process series (multiprocess mode); call at shutdown."""
        if MULTIPROCESS_DIR in os.environ:
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


class RequestMetrics:
    """ASGI middleware counting every HTTP request and timing it, by route and model."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self._series: dict[tuple[str, str, str, int], Tally] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; record its status code and latency when it is answered."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        code = 500  # unless a response starts: an exception escaped

        async def send_counting(message: Message) -> None:
            nonlocal code
            if message["type"] == "http.response.start":
                code = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_counting)
        finally:
            self._tally(scope, code).add(time.perf_counter() - start)

    def _tally(self, scope: Scope, code: int) -> Tally:
        """The tally of this request's labels (cached)."""
        params = scope.get("path_params", {})
        name, method = params.get("name", ""), params.get("method", "")
        key = (getattr(scope.get("route"), "path", ""), name, method, code)
        tally = self._series.get(key)
        if tally is None:
            endpoint, model = self._labels(scope)
            tally = self.metrics.request_series(endpoint, model, code)
            if (not name or name in self.metrics.model_names) and method in ("", *_METHODS):
                self._series[key] = tally  # bounded: routes x models x methods x codes
        return tally

    def _labels(self, scope: Scope) -> tuple[str, str]:
        route = scope.get("route")
        endpoint = (getattr(route, "path", "") or "unrouted").replace(":int}", "}")
        params = scope.get("path_params", {})
        method = params.get("method")
        if method in _METHODS:
            endpoint = endpoint.replace("{method}", method)
        name = params.get("name")
        return endpoint, name if name in self.metrics.model_names else ""
