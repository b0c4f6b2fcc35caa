"""Every artifact type Shipyard ships passes check_artifact_type; broken types fail it."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
import pytest

import shipyard.artifacts as artifacts
from shipyard.artifacts import (
    Anomalies,
    Anomaly,
    AnomalyReport,
    Artifact,
    BlessingCheck,
    BlessingDecision,
    DataSchema,
    DatasetStatistics,
    EvaluationResult,
    Examples,
    FeatureSchema,
    FeatureStatistics,
    InfraBlessing,
    InfraValidation,
    Metrics,
    Model,
    ModelBlessing,
    ModelEvaluation,
    ModelRun,
    MonitoringReport,
    PushDecision,
    PushedModel,
    Schema,
    Statistics,
    TransformGraph,
)
from shipyard.artifacts.model import ExportedModel
from shipyard.testing import check_artifact_type

SAMPLES: dict[type[Artifact], Any] = {
    Examples: {
        "train": pa.table({"x": [1.0, 2.0], "color": ["red", None]}),
        "eval": pa.table({"x": [3.0], "color": ["blue"]}),
    },
    Metrics: {"accuracy": 0.75, "loss": 0.5},
    Statistics: {
        "train": DatasetStatistics(
            num_rows=2,
            features={"x": FeatureStatistics(name="x", type="float", count=2, missing=0)},
        )
    },
    Schema: DataSchema(features={"x": FeatureSchema(name="x", type="float")}),
    Anomalies: AnomalyReport(
        anomalies=(Anomaly("x", "missing_column", "error", "x is missing"),), splits=("eval",)
    ),
    ModelEvaluation: EvaluationResult(overall={"accuracy": 0.75, "examples": 4}, split="eval"),
    ModelBlessing: BlessingDecision(
        blessed=False,
        checks=(BlessingCheck("accuracy", "min", 0.5, 0.6, False, "accuracy 0.5 < 0.6"),),
    ),
    PushedModel: PushDecision(pushed=True, name="taxi", version=3, path="/models/taxi/3"),
    InfraBlessing: InfraValidation(
        blessed=False,
        requests=20,
        rows=20,
        source="eval split",
        max_latency_ms=1000.0,
        latencies_ms={"median": 0.7, "p95": 1.2, "max": 1.5},
        startup_s=0.8,
        problems=("request 3: answered 400: instances[0]['sex'] is required",),
    ),
    TransformGraph: ({"nodes": [], "outputs": {}, "label": None}, b"onnx bytes"),
    Model: ExportedModel(
        onnx=b"onnx bytes",
        weights=b"weights",
        signature={
            "task": "regression",
            "inputs": [{"name": "x", "dtype": "float", "shape": [None, 1]}],
            "outputs": [{"name": "predictions", "dtype": "float", "shape": [None, 1]}],
        },
        card={"name": "taxi", "metrics": {"rmse": 1.5}},
        schema_yaml="features: {}\n",
    ),
    ModelRun: [{"epoch": 1, "train_loss": 0.9}, {"epoch": 2, "train_loss": 0.7}],
    MonitoringReport: {
        "summary": {"monitor": "taxi", "windows": [], "alerts": {"firing": []}},
        "figures": [
            (0, 3_600_000_000, True, "x", "drift", 0.25),
            (0, 3_600_000_000, True, "*", "rows", None),
        ],
        "state": {"version": 2, "files": {"a.parquet": 10}},
    },
}


def shipped_types() -> list[type[Artifact]]:
    return [
        value
        for value in vars(artifacts).values()
        if isinstance(value, type) and issubclass(value, Artifact) and value is not Artifact
    ]


def test_every_shipped_type_has_a_sample() -> None:
    assert set(shipped_types()) == set(SAMPLES)


@pytest.mark.parametrize("cls", SAMPLES, ids=lambda cls: cls.type_name)
def test_shipped_type_conforms(cls: type[Artifact]) -> None:
    check_artifact_type(cls, SAMPLES[cls])


def test_a_type_without_load_fails() -> None:
    class Notes(Artifact):
        type_name = "test.NotesWithoutLoad"

        def save(self, value: str) -> None:
            self.path.mkdir(parents=True)
            (self.path / "notes.txt").write_text(value)

    with pytest.raises(AssertionError, match="is a plain directory and has no codec"):
        check_artifact_type(Notes, "hello")


def test_a_lossy_codec_fails() -> None:
    class Rounded(Artifact):
        type_name = "test.Rounded"

        def save(self, value: float) -> None:
            self.path.mkdir(parents=True)
            (self.path / "v.json").write_text(json.dumps(round(value)))

        def load(self) -> float:
            return float(json.loads(self.required_file("v.json").read_text()))

    check_artifact_type(Rounded, 2.0)
    with pytest.raises(AssertionError, match=r"load\(\) after save\(\) returned 3.0"):
        check_artifact_type(Rounded, 2.7)


def test_an_empty_artifact_must_fail_clearly() -> None:
    class Bare(Artifact):
        type_name = "test.Bare"

        def save(self, value: str) -> None:
            self.path.mkdir(parents=True)
            (self.path / "v.txt").write_text(value)

        def load(self) -> str:
            return (self.path / "v.txt").read_text()

    with pytest.raises(AssertionError, match="raised FileNotFoundError"):
        check_artifact_type(Bare, "x")


def test_a_type_name_clash_fails() -> None:
    class First(Artifact):
        type_name = "test.Clash"

    class Second(Artifact):
        type_name = "test.Clash"

    for cls in (First, Second):
        with pytest.raises(AssertionError, match=r"'test.Clash' is declared by 2 classes"):
            check_artifact_type(cls, None)
