"""The pushed model a registration names: an artifact of the project's store, or a run's push.

A registration names either a `PushedModel` artifact by id or a pipeline run, whose newest
push is taken. Only a push that copied the model counts (an unblessed model is not pushed);
its run and blessings come through lineage, as `shipyard models` reads them
(`shipyard.promotion.listing.push_facts`).

A job pushes into a directory of the worker that ran it (gone once the job ends, or on
another machine): a push whose directory the server cannot read is taken from the model
the push copied, on the project's artifact root (an object store, or a shared directory),
and downloaded when an endpoint deploys it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Final

from shipyard.errors import InvalidParameterError, NotFoundError
from shipyard.platform.models.records import Push
from shipyard.promotion.listing import push_facts

if TYPE_CHECKING:
    from shipyard.store import ArtifactRecord, MetadataStore

__all__ = ["find_push"]

_PUSHED_MODEL: Final = "PushedModel"


def find_push(
    store: MetadataStore, *, artifact_id: int | None = None, run_id: str | None = None
) -> Push:
    """Return the pushed model `artifact_id` names, or the newest push of the run `run_id`.

    Raises:
        InvalidParameterError: Neither or both are given, or the artifact is not a push that
            copied a model.
        NotFoundError: The artifact or run does not exist, the run pushed nothing, or the
            pushed version's directory is gone.
    """
    if (artifact_id is None) == (run_id is None):
        raise InvalidParameterError(
            "Name the pushed model by 'artifact_id' or by 'run_id' (its newest push), "
            "not both and not neither."
        )
    if run_id is not None:
        artifact = _newest_push_of(store, run_id)
    else:
        assert artifact_id is not None
        artifact = store.get_artifact(artifact_id)
        if artifact.type_name != _PUSHED_MODEL:
            raise InvalidParameterError(
                f"Artifact {artifact_id} ({artifact.name}) is a {artifact.type_name}, not a "
                f"PushedModel: register the output 'pushed' of a push node."
            )
    path = artifact.properties.get("path")
    if not artifact.properties.get("pushed") or not isinstance(path, str):
        reason = artifact.properties.get("reason") or "it was not pushed"
        raise InvalidParameterError(
            f"Artifact {artifact.id} ({artifact.name}) holds no pushed model: {reason}."
        )
    facts = push_facts(store, artifact.id)
    if not Path(path).is_dir():
        path = _copied_model(facts.get("model_uri"), path, artifact)
    return Push(
        artifact_id=artifact.id,
        uri=artifact.uri,
        path=path,
        run_id=facts.get("run_id"),
        blessed=facts.get("blessed"),
        infra_blessed=facts.get("infra_blessed"),
    )


def _copied_model(model_uri: str | None, path: str, artifact: ArtifactRecord) -> str:
    """The URI of the exported model a push copied, when its own directory is out of reach.

    Raises:
        NotFoundError: That model is gone too.
    """
    if model_uri is not None and _exists(model_uri):
        return model_uri
    raise NotFoundError(
        f"The version directory {path} of artifact {artifact.id} ({artifact.name}) is gone, "
        f"and so is the model it copied ({model_uri or 'not recorded'}); push the model again."
    )


def _exists(uri: str) -> bool:
    if "://" not in uri:
        return Path(uri).is_dir()
    from shipyard.io.remote import remote_files

    with remote_files(uri, f"looking for {uri}") as fs:
        return bool(fs.isdir(uri))


def _newest_push_of(store: MetadataStore, run_id: str) -> ArtifactRecord:
    run = store.get_run(run_id)  # a unique prefix of the id is enough
    pushes = [
        store.get_artifact(event.artifact_id)
        for execution in store.list_executions(run.id)
        for event in store.events_of_execution(execution.id)
        if event.kind == "output"
    ]
    pushed = [a for a in pushes if a.type_name == _PUSHED_MODEL and a.properties.get("pushed")]
    if not pushed:
        raise NotFoundError(
            f"The run {run.id!r} pushed no model (no PushedModel output that was pushed); "
            f"register a run whose push node copied its model."
        )
    return max(pushed, key=lambda artifact: artifact.id)
