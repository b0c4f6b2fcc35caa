"""`shipyard gc`: delete the files of artifacts that no recent run references."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shipyard.errors import InvalidParameterError
from shipyard.runners.local import abandon_dead_runs
from shipyard.runners.queries import artifact_summary

if TYPE_CHECKING:
    from shipyard.runners.project import Project

DEFAULT_KEEP_RUNS = 10


def collect_garbage(
    project: Project, *, keep_runs: int = DEFAULT_KEEP_RUNS, dry_run: bool = False
) -> dict[str, Any]:
    """Delete artifacts that none of the newest `keep_runs` runs of each pipeline read or wrote.

    Deleted artifacts keep their records (state "deleted"), so lineage stays complete. Files
    that no live artifact names (left by a crash before registration) and staging
    directories of runs that are no longer running are removed too.

    Returns:
        What was (or, with `dry_run`, would be) deleted.

    Raises:
        InvalidParameterError: `keep_runs` is below 1.
    """
    if keep_runs < 1:
        raise InvalidParameterError(
            f"The 'keep_runs' parameter of gc must be an int >= 1. Got {keep_runs} instead."
        )
    store, storage = project.store, project.storage
    if not dry_run:
        abandon_dead_runs(store, storage, pipeline=None)
    runs = store.list_runs()
    running = {run.id for run in runs if run.state == "running"}
    kept: set[str] = set(running)
    per_pipeline: dict[str, int] = {}
    for run in runs:  # newest first
        per_pipeline[run.pipeline] = per_pipeline.get(run.pipeline, 0) + 1
        if per_pipeline[run.pipeline] <= keep_runs:
            kept.add(run.id)
    referenced = store.artifacts_used_by_runs(kept)
    live = store.list_artifacts(state="live")
    doomed = [artifact for artifact in live if artifact.id not in referenced]
    live_uris = {artifact.uri for artifact in live if artifact.id in referenced}
    orphans = [
        uri
        for uri in storage.published_uris()
        if uri not in live_uris
        and uri not in {a.uri for a in doomed}
        and uri.rstrip("/").split("/")[-3] not in running
    ]
    stale_staging = [run_id for run_id in storage.staging_runs() if run_id not in running]
    if not dry_run:
        for artifact in doomed:
            storage.remove(artifact.uri)
        store.mark_artifacts_deleted(artifact.id for artifact in doomed)
        for uri in orphans:
            storage.remove(uri)
        for run_id in stale_staging:
            storage.discard_run_staging(run_id)
    return {
        "dry_run": dry_run,
        "kept_runs": len(kept),
        "deleted_artifacts": [artifact_summary(artifact) for artifact in doomed],
        "removed_orphans": orphans,
        "removed_staging": stale_staging,
    }
