"""The served version's evaluation, found through lineage, as decay's baseline."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from shipyard.artifacts import EvaluationResult, ModelEvaluation
from shipyard.components.evaluate.metrics import compute_metrics
from shipyard.errors import NotFoundError
from shipyard.runners import Project
from shipyard.runners.served_evaluation import served_evaluation
from shipyard.store.records import NewArtifact

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from shipyard.store.records import ArtifactRecord


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    opened = Project.open(
        store=f"sqlite:///{tmp_path / 'store.db'}", artifact_root=str(tmp_path / "artifacts")
    )
    with opened:
        yield opened


def _execute(
    project: Project,
    run_id: str,
    node: str,
    inputs: dict[str, ArtifactRecord],
    outputs: dict[str, str],
    **properties: object,
) -> dict[str, ArtifactRecord]:
    store = project.store
    execution = store.start_execution(
        run_id,
        node=node,
        component=node,
        parameters={},
        cache_key=f"{node}-{run_id}",
        inputs={port: record.id for port, record in inputs.items()},
    )
    new = {
        port: NewArtifact(
            type_name,
            project.storage.uri_for("taxi", run_id, node, port),
            "fingerprint",
            f"taxi/{run_id}/{node}/{port}",
            dict(properties),
        )
        for port, type_name in outputs.items()
    }
    return store.complete_execution(execution.id, new)


def _train_evaluate_push(
    project: Project, version: int, accuracy_wrong: int, baseline: ArtifactRecord | None
) -> ArtifactRecord:
    """A run that trains a model, evaluates it (against `baseline`) and pushes `version`."""
    run = project.store.create_run("taxi").id
    model = _execute(project, run, "train", {}, {"model": "Model"})["model"]
    inputs = {"model": model} | ({} if baseline is None else {"baseline": baseline})
    evaluated = _execute(
        project,
        run,
        "evaluate",
        inputs,
        {"evaluation": "ModelEvaluation", "blessing": "ModelBlessing"},
    )
    labels = [0, 1, 1, 0]
    predictions = [1 - y if i < accuracy_wrong else y for i, y in enumerate(labels)]
    overall = compute_metrics(labels, predictions, task="binary", class_labels=["no", "yes"])
    ModelEvaluation(evaluated["evaluation"].uri).save(EvaluationResult(overall))
    pushed = {"model": model, "blessing": evaluated["blessing"]}
    _execute(project, run, "push", pushed, {"pushed": "PushedModel"}, pushed=True, name="taxi",
             version=version)  # fmt: skip
    return model


def test_the_evaluation_that_blessed_the_pushed_version_is_found(project: Project) -> None:
    first = _train_evaluate_push(project, 3, accuracy_wrong=1, baseline=None)
    _train_evaluate_push(project, 4, accuracy_wrong=2, baseline=first)  # reads v3 as baseline
    evaluation, source = served_evaluation(project, "taxi", 3)
    assert evaluation.metrics["accuracy"] == 0.75  # v3's own, not v4's that read v3
    assert source.startswith("evaluation #") and source.endswith("of taxi v3")
    assert served_evaluation(project, "taxi", 4)[0].metrics["accuracy"] == 0.5
    assert evaluation.overall["class_labels"] == ["no", "yes"]
    with pytest.raises(NotFoundError, match="No push of model 'taxi' version 5"):
        served_evaluation(project, "taxi", 5)
