"""The evaluation of a served model version, found through lineage: decay's baseline.

`shipyard monitor` compares a served version's live metrics (its logged predictions joined
to the labels that arrived later) with the metrics its evaluation measured before it was
pushed. The push that wrote `BASE/NAME/VERSION` read a blessing; the `evaluate` execution
that wrote that blessing also wrote the `ModelEvaluation`. A push without a blessing falls
back to the newest evaluation of the model it pushed (its `model` input).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipyard.errors import NotFoundError
from shipyard.runners.served_statistics import find_push

if TYPE_CHECKING:
    from shipyard.artifacts import EvaluationResult
    from shipyard.runners.project import Project
    from shipyard.store.records import ArtifactRecord


def served_evaluation(project: Project, model: str, version: int) -> tuple[EvaluationResult, str]:
    """Return the evaluation of the served `model` version, and what it is.

    Raises:
        NotFoundError: No push of that version is recorded, or no evaluation of it.
    """
    from shipyard.artifacts import ModelEvaluation
    from shipyard.runners.execution import artifact_from_record

    push = find_push(project, model, version, "its evaluation", "labels a pushed version")
    found = _evaluation_of(project, push)
    if found is None:
        raise NotFoundError(
            f"No evaluation of {model!r} version {version} is upstream of its push (artifact "
            f"#{push.id}), so its live metrics are not compared with evaluation-time ones."
        )
    project.storage.localize(found.uri)
    artifact = artifact_from_record(found, project.storage)
    assert isinstance(artifact, ModelEvaluation)
    source = f"evaluation #{found.id} ({found.name}) of {model} v{version}"
    return artifact.load(), source


def _evaluation_of(project: Project, push: ArtifactRecord) -> ArtifactRecord | None:
    """The evaluation written with the push's blessing, else the newest of its model."""
    store = project.store
    inputs: dict[str, ArtifactRecord] = {}
    for event in store.events_of_artifact(push.id):
        if event.kind == "output":
            for source in store.events_of_execution(event.execution_id):
                if source.kind == "input":
                    inputs[source.name] = store.get_artifact(source.artifact_id)
    found: list[ArtifactRecord] = []
    for port, kind in (("blessing", "output"), ("model", "input")):
        record = inputs.get(port)
        if record is None:
            continue
        for event in store.events_of_artifact(record.id):
            if event.kind == kind and (kind == "output" or event.name == "model"):
                for written in store.events_of_execution(event.execution_id):
                    candidate = store.get_artifact(written.artifact_id)
                    if (
                        written.kind == "output"
                        and candidate.type_name == "ModelEvaluation"
                        and candidate.state == "live"
                    ):
                        found.append(candidate)
        if found:
            return max(found, key=lambda record: record.id)
    return None
