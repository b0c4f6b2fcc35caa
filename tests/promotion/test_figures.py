"""Per-version figures parsed from a server's Prometheus text."""

from __future__ import annotations

import pytest

from shipyard.errors import ServingError
from shipyard.io.ports import free_port
from shipyard.promotion.figures import VersionFigures, read_metrics, version_figures

METRICS = """\
# TYPE shipyard_model_version_requests_total counter
shipyard_model_version_requests_total{model="penguins",version="1"} 90.0
shipyard_model_version_requests_total{model="penguins",version="2"} 8.0
shipyard_model_version_requests_total{model="mass",version="1"} 7.0
# TYPE shipyard_model_version_errors_total counter
shipyard_model_version_errors_total{model="penguins",version="2"} 2.0
# TYPE shipyard_model_version_request_duration_seconds histogram
shipyard_model_version_request_duration_seconds_bucket{le="+Inf",model="penguins",version="1"} 90.0
shipyard_model_version_request_duration_seconds_sum{model="penguins",version="1"} 0.18
shipyard_model_version_request_duration_seconds_count{model="penguins",version="1"} 90.0
shipyard_model_version_request_duration_seconds_sum{model="penguins",version="2"} 0.05
shipyard_model_version_request_duration_seconds_count{model="penguins",version="2"} 10.0
# TYPE shipyard_model_version_loaded gauge
shipyard_model_version_loaded{model="penguins",version="1"} 1.0
shipyard_model_version_loaded{model="penguins",version="2"} 1.0
shipyard_model_version_loaded{model="penguins",version="9"} 0.0
"""


def test_each_versions_figures_of_one_model() -> None:
    found = version_figures(METRICS, "penguins")
    assert found[1] == VersionFigures(90, 0, 0.18, 90, loaded=True)
    assert found[2] == VersionFigures(8, 2, 0.05, 10, loaded=True)
    assert found[9] == VersionFigures(loaded=False)
    assert found[2].requests == 10 and found[2].error_rate == pytest.approx(0.2)
    assert found[2].to_json()["mean_latency_ms"] == pytest.approx(5.0)
    assert set(version_figures(METRICS, "mass")) == {1}


def test_a_server_that_cannot_be_reached_names_its_url() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ServingError, match=f"Cannot read the metrics of the server at {url}"):
        read_metrics(url, timeout_s=5)
