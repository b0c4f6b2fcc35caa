"""Canary splits: a share of the unlabeled requests goes to a second version."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from shipyard.serving.config import Canary, ModelConfig, VersionPolicy
from shipyard.serving.registry import ModelRegistry
from tests.serving.conftest import add_version
from tests.serving.server import SINGLE_THREADED, RunningServer

TWO = VersionPolicy(kind="latest", num_versions=2)


def _versions(registry: ModelRegistry, count: int, **spec: Any) -> list[int]:
    versions = []
    for _ in range(count):
        with registry.acquire("penguins", **spec) as model:
            versions.append(model.version)
    return versions


def test_the_canary_takes_its_percent_of_unlabeled_inference_requests(
    trained: dict[str, Path], tmp_path: Path
) -> None:
    for version in (1, 2):
        add_version(tmp_path, version, trained["penguins"])
    draws = itertools.cycle(i / 100 for i in range(100)).__next__
    config = ModelConfig("penguins", tmp_path, TWO, canary=Canary(version=2, percent=10))
    registry = ModelRegistry([config], SINGLE_THREADED, draw=draws)
    registry.sync()
    split = _versions(registry, 1000, split=True)
    assert split.count(2) == 100 and split.count(1) == 900
    # Requests outside the split (metadata, status) and explicit versions are not split.
    assert set(_versions(registry, 50)) == {1}
    assert set(_versions(registry, 50, version=2, split=True)) == {2}


def test_a_canary_older_than_the_newest_version_and_a_missing_canary(
    trained: dict[str, Path], tmp_path: Path
) -> None:
    for version in (1, 3):
        add_version(tmp_path, version, trained["penguins"])
    always = ModelConfig("penguins", tmp_path, TWO, canary=Canary(version=1, percent=100))
    registry = ModelRegistry([always], SINGLE_THREADED)
    registry.sync()
    assert set(_versions(registry, 20, split=True)) == {1}
    assert set(_versions(registry, 5)) == {3}
    absent = ModelConfig("penguins", tmp_path, TWO, canary=Canary(version=2, percent=100))
    registry = ModelRegistry([absent], SINGLE_THREADED)
    registry.sync()
    assert set(_versions(registry, 20, split=True)) == {3}  # not loaded: the newest serves


def test_the_split_shows_in_answers_and_metrics(trained: dict[str, Path], tmp_path: Path) -> None:
    for version in (1, 2):
        add_version(tmp_path, version, trained["penguins"])
    config = ModelConfig("penguins", tmp_path, TWO, canary=Canary(version=1, percent=50))
    row = {"island": "Dream", "sex": "male"}
    infer = {
        "inputs": [
            {"name": name, "shape": [1], "datatype": "BYTES", "data": [value]}
            for name, value in row.items()
        ]
    }
    with RunningServer([config]) as server:
        answers = [server.post("/v1/models/penguins:predict", {"instances": [row]})]
        answers += [server.post("/v2/models/penguins/infer", infer) for _ in range(59)]
        assert {status for status, _ in answers} == {200}, answers[0]
        assert server.get("/v2/models/penguins/ready")[1]["version"] == "2"
        metrics = server.fetch("GET", "/metrics")[2].decode()
    versions = [body["model_version"] for _, body in answers[1:]]
    assert {"1", "2"} == set(versions)  # 59 fair coin flips: both sides, but for 2**-58
    counts = [
        _sample(metrics, f'shipyard_model_version_requests_total{{model="penguins",version="{v}"}}')
        for v in ("1", "2")
    ]
    assert sum(counts) == 60 and min(counts) > 0


def _sample(text: str, name: str) -> float:
    (line,) = [line for line in text.splitlines() if line.startswith(name + " ")]
    return float(line.split()[-1])
