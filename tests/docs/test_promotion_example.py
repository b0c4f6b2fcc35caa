"""docs/promotion.md's retraining pipeline builds with its rolling window, check and canary."""

from __future__ import annotations

from pathlib import Path

from shipyard.dsl import load_pipeline

HERE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "promotion"


def test_the_retraining_snippet_validates_the_model_and_pushes_a_canary() -> None:
    pipeline = load_pipeline(HERE / "pipeline.py")
    assert pipeline["ingest"].parameters["last_n_spans"] == 3
    assert pipeline["ingest"].parameters["source"] == str(
        HERE / "data/span-{SPAN}/v{VERSION}/*.csv"
    )
    push = pipeline["push"]
    assert push.parameters["canary_percent"] == 10
    assert push.parameters["base"] == str(HERE / "models")
    assert push.inputs["infra_blessing"].node.name == "infra_validate"
    assert pipeline["infra_validate"].inputs["examples"].node.name == "ingest"
