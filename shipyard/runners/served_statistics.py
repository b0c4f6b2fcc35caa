"""The training statistics of a served model version, found through lineage.

`shipyard monitor` compares served requests with the data the served version was trained
on. The push that wrote `BASE/NAME/VERSION` is a `PushedModel` artifact whose properties
name the model and version. Its lineage is walked upstream, breadth first (pushed model <-
push <- model <- train <- examples <- ingest ...), and the nearest `Statistics` artifact
is the reference: one upstream itself, or one computed from an upstream artifact (the
statistics of the raw examples, which only validation reads). Its `train` split is used.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from shipyard.errors import NotFoundError
from shipyard.monitoring.versions import FoundReference

if TYPE_CHECKING:
    from shipyard.runners.project import Project
    from shipyard.store.records import ArtifactRecord

MAX_ARTIFACTS = 200
"""How many artifacts upstream of the push are searched."""


def served_statistics(project: Project, model: str, version: int) -> FoundReference:
    """Return the statistics the served `model` version was trained from, what they are, and
    their artifact id as the key that versions trained from the same statistics share.

    Raises:
        NotFoundError: No push of that version is recorded, or nothing upstream of it is
            statistics.
    """
    from shipyard.artifacts import Statistics
    from shipyard.runners.execution import artifact_from_record

    push = find_push(
        project,
        model,
        version,
        "its training statistics",
        "the training data with --reference DATA",
    )
    found = _nearest_statistics(project, push)
    if found is None:
        raise NotFoundError(
            f"Nothing upstream of the push of {model!r} version {version} (artifact "
            f"#{push.id}) is statistics. Give the training data with --reference DATA."
        )
    project.storage.localize(found.uri)
    artifact = artifact_from_record(found, project.storage)
    assert isinstance(artifact, Statistics)
    split = "train" if "train" in artifact.splits else artifact.splits[0]
    source = f"statistics #{found.id} ({found.name}, split {split!r}) of {model} v{version}"
    return FoundReference(artifact.read(split), source, key=str(found.id))


def find_push(project: Project, model: str, version: int, wanted: str, fix: str) -> ArtifactRecord:
    """Return the newest live push of `model` version `version`.

    Raises:
        NotFoundError: None is recorded; the message says that `wanted` cannot be found
            through lineage, and to give `fix` instead.
    """
    store = project.store
    pushes = [
        record
        for record in store.list_artifacts(type_name="PushedModel", state="live")
        if record.properties.get("pushed")
        and record.properties.get("name") == model
        and record.properties.get("version") == version
    ]
    if not pushes:
        raise NotFoundError(
            f"No push of model {model!r} version {version} is recorded in the store at "
            f"{store.url}, so {wanted} cannot be found through lineage. Give {fix}."
        )
    return pushes[-1]


def _nearest_statistics(project: Project, start: ArtifactRecord) -> ArtifactRecord | None:
    """Walk upstream from an artifact, breadth first; return the nearest live Statistics:
    one upstream itself, or one computed from an upstream artifact (the raw examples)."""
    store = project.store
    queue = deque([start.id])
    seen = {start.id}
    while queue and len(seen) < MAX_ARTIFACTS:
        events = store.events_of_artifact(queue.popleft())
        for event in events:  # statistics computed from this artifact
            if event.kind == "input":
                for output in store.events_of_execution(event.execution_id):
                    found = _statistics(store.get_artifact(output.artifact_id))
                    if output.kind == "output" and found is not None:
                        return found
        for event in events:  # then what its producer read
            if event.kind != "output":
                continue
            for source in store.events_of_execution(event.execution_id):
                if source.kind == "input" and source.artifact_id not in seen:
                    record = store.get_artifact(source.artifact_id)
                    if _statistics(record) is not None:
                        return record
                    seen.add(record.id)
                    queue.append(record.id)
    return None


def _statistics(record: ArtifactRecord) -> ArtifactRecord | None:
    return record if record.type_name == "Statistics" and record.state == "live" else None
