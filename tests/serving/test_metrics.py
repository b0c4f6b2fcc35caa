"""Prometheus metrics at `/metrics`: requests, latencies, batch sizes, loaded versions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from shipyard.serving.config import ModelConfig
from shipyard.serving.metrics import Metrics
from tests.serving.conftest import add_version
from tests.serving.server import RunningServer


def _scrape(server: RunningServer) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    status, content_type, text = server.fetch("GET", "/metrics")
    assert status == 200 and content_type.startswith("text/plain"), text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text.decode())
        for sample in family.samples
    }


def _get(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_requests_latencies_and_batch_sizes_are_counted(
    api_server: RunningServer, penguin_row: dict[str, Any]
) -> None:
    before = _scrape(api_server)
    predict = "/v1/models/{name}:predict"
    for _ in range(3):
        assert api_server.post("/v1/models/penguins:predict", {"instances": [penguin_row] * 4})[0]
    assert api_server.post("/v1/models/penguins:predict", {"instances": []})[0] == 400
    assert api_server.get("/v1/models/no-such-model")[0] == 404
    assert api_server.get("/v2/models/penguins/versions/3/ready")[0] == 200
    after = _scrape(api_server)

    def grew(name: str, **labels: str) -> float:
        return _get(after, name, **labels) - _get(before, name, **labels)

    ok = {"endpoint": predict, "model": "penguins", "code": "200"}
    assert grew("shipyard_requests_total", **ok) == 3
    assert grew("shipyard_requests_total", **ok | {"code": "400"}) == 1
    # A name that is not served is not a label value: clients cannot grow the series.
    assert grew("shipyard_requests_total", endpoint="/v1/models/{name}", model="", code="404")
    ready = {"endpoint": "/v2/models/{name}/versions/{version}/ready", "model": "penguins"}
    assert grew("shipyard_requests_total", **ready, code="200") == 1
    latency = {"endpoint": predict, "model": "penguins"}
    assert grew("shipyard_request_duration_seconds_count", **latency) == 4
    assert grew("shipyard_request_duration_seconds_bucket", **latency, le="+Inf") == 4
    assert grew("shipyard_request_duration_seconds_sum", **latency) > 0
    version = {"model": "penguins", "version": "3"}
    assert grew("shipyard_model_version_requests_total", **version) == 3
    assert grew("shipyard_batch_size_count", **version) == 3
    assert grew("shipyard_batch_size_sum", **version) == 12
    assert grew("shipyard_batch_size_bucket", **version, le="2.0") == 0
    assert grew("shipyard_batch_size_bucket", **version, le="4.0") == 3
    for model, served in (("penguins", "3"), ("mixed", "1"), ("mixed", "2")):
        assert _get(after, "shipyard_model_version_loaded", model=model, version=served) == 1


def test_loaded_versions_follow_reloads(trained: dict[str, Path], tmp_path: Path) -> None:
    add_version(tmp_path, 1, trained["penguins"])
    with RunningServer([ModelConfig("penguins", tmp_path)]) as server:
        assert _get(_scrape(server), "shipyard_model_version_loaded", model="penguins", version="1")
        add_version(tmp_path, 2, trained["penguins"])
        server.registry.sync()
        samples = _scrape(server)
    assert _get(samples, "shipyard_model_version_loaded", model="penguins", version="1") == 0
    assert _get(samples, "shipyard_model_version_loaded", model="penguins", version="2") == 1


def test_metrics_are_per_app() -> None:
    first, second = Metrics(["a"]), Metrics(["a"])  # no clash in one process
    first.observe_batch("a", 1, 5)
    labels = {"model": "a", "version": "1"}
    assert first.registry.get_sample_value("shipyard_batch_size_sum", labels) == 5
    assert second.registry.get_sample_value("shipyard_batch_size_sum", labels) is None


def test_version_series_are_looked_up_once_and_dropped_with_their_version() -> None:
    metrics = Metrics(["penguins"])
    metrics.set_versions("penguins", [1, 2])
    first = metrics.version_series("penguins", 1)
    assert metrics.version_series("penguins", 1) is first
    first.request(0.001, 0)  # its rows ran in a batch: observe_batch counts them
    metrics.observe_batch("penguins", 1, 3)
    assert (
        metrics.registry.get_sample_value(
            "shipyard_model_version_requests_total", {"model": "penguins", "version": "1"}
        )
        == 1
    )
    assert (
        metrics.registry.get_sample_value(
            "shipyard_batch_size_sum", {"model": "penguins", "version": "1"}
        )
        == 3
    )
    metrics.set_versions("penguins", [2])
    assert metrics.version_series("penguins", 1) is not first


def test_each_versions_errors_and_latency_are_counted_until_it_unloads() -> None:
    metrics = Metrics(["penguins"])
    metrics.set_versions("penguins", [1, 2])
    held = metrics.version_series("penguins", 2)  # by a request in flight
    held.request(0.004, 0, failed=True)
    held.request(0.002, 3)
    metrics.version_series("penguins", 1).request(0.001, 1)
    value = metrics.registry.get_sample_value
    two = {"model": "penguins", "version": "2"}
    assert value("shipyard_model_version_errors_total", two) == 1
    assert value("shipyard_model_version_requests_total", two) == 1
    assert value("shipyard_model_version_request_duration_seconds_count", two) == 2
    assert value("shipyard_model_version_request_duration_seconds_sum", two) == 0.006
    assert value("shipyard_batch_size_sum", two) == 3
    one = {"model": "penguins", "version": "1"}
    assert value("shipyard_model_version_errors_total", one) == 0
    metrics.set_versions("penguins", [1])
    held.request(0.5, 0, failed=True)  # the request in flight at unload ends
    metrics.version_series("penguins", 2).request(0.5, 0, failed=True)  # one looked up after
    assert value("shipyard_model_version_errors_total", two) == 3
