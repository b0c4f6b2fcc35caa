"""`shipyard gc`: delete the files of artifacts that no recent run references.

What is kept, whatever `--keep-runs` says:

- everything a running run reads or writes, and everything a run that starts while gc works
  comes to use: the deletion is committed in one store transaction under the store's lock
  (`MetadataStore.mark_unused_artifacts_deleted`), which spares every artifact used by a run
  gc did not choose to drop, and after which no run can record a use of a deleted artifact;
  files are removed only after that commit;
- the baseline each pipeline would resolve next: its latest blessed model;
- directories the store does not own. A published directory is `ROOT/PIPELINE/RUN/NODE/PORT`;
  the run id in the path is the owner's: gc touches a directory only if its own store holds
  run RUN of pipeline PIPELINE, so several stores may share one artifact root (or one
  project directory's staging area) and never delete each other's files.

File listings are taken before the store is read, so a directory that appears meanwhile
belongs to a run gc does not know, and is left alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shipyard.dsl.resolvers import latest_blessed_model
from shipyard.errors import InvalidParameterError
from shipyard.runners.leftovers import find_leftovers
from shipyard.runners.liveness import abandon_dead_runs
from shipyard.runners.queries import artifact_summary
from shipyard.runners.resolve import resolve_latest

if TYPE_CHECKING:
    from shipyard.io import ArtifactStorage
    from shipyard.runners.project import Project
    from shipyard.store import MetadataStore, RunRecord

DEFAULT_KEEP_RUNS = 10


def collect_garbage(
    project: Project, *, keep_runs: int = DEFAULT_KEEP_RUNS, dry_run: bool = False
) -> dict[str, Any]:
    """Delete artifacts that none of the newest `keep_runs` finished runs of each pipeline,
    no running run and no pipeline's next baseline use; and the platform's leftovers.

    Deleted artifacts keep their records (state "deleted"), so lineage stays complete. Also
    removed: directories under the artifact root of the store's runs that no live artifact
    names (left by a crash before registration), staging directories of the store's finished
    runs, checkpoints of finished trainings and copies left by interrupted pushes
    (`BASE/NAME/.push-*`).

    Args:
        project: The store and artifact storage to clean.
        keep_runs: Finished runs to keep per pipeline, newest first; running runs are kept
            besides these.
        dry_run: Only report what would go.

    Returns:
        What was (or, with `dry_run`, would be) deleted, and what was kept and why.

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
    published = storage.published_uris()
    staging = storage.staging_runs()
    runs = store.list_runs()
    kept = _kept_runs(runs, keep_runs)
    baselines = _baselines(store, storage, {run.pipeline for run in runs})
    live = store.list_artifacts(state="live")
    referenced = store.artifacts_used_by_runs(kept) | baselines
    doomed = [artifact for artifact in live if artifact.id not in referenced]
    owner = {run.id: run.pipeline for run in runs}
    live_uris = {artifact.uri for artifact in live}
    owned: list[str] = []
    foreign: list[str] = []
    for uri in published:
        pipeline, run_id = uri.rstrip("/").split("/")[-4:-2]
        (owned if owner.get(run_id) == pipeline else foreign).append(uri)
    running = {run.id for run in runs if run.state == "running"}
    orphans = [
        uri
        for uri in owned
        if uri not in live_uris and uri.rstrip("/").split("/")[-3] not in running
    ]
    stale_staging = [run_id for run_id in staging if run_id in owner and run_id not in running]
    leftovers = find_leftovers(store, storage, runs)
    if not dry_run:
        old_runs = {run.id for run in runs if run.id not in kept}
        deleted = store.mark_unused_artifacts_deleted([a.id for a in doomed], old_runs=old_runs)
        doomed = [artifact for artifact in doomed if artifact.id in deleted]
        for artifact in doomed:
            storage.remove(artifact.uri)
        for uri in orphans:
            storage.remove(uri)
        for run_id in stale_staging:
            storage.discard_run_staging(run_id)
        leftovers.remove()
    return {
        "dry_run": dry_run,
        "kept_runs": len(kept),
        "kept_baselines": sorted(baselines),
        "deleted_artifacts": [artifact_summary(artifact) for artifact in doomed],
        "removed_orphans": orphans,
        "removed_staging": stale_staging,
        "removed_checkpoints": [str(path) for path in leftovers.checkpoints],
        "removed_push_copies": [str(path) for path in leftovers.push_copies],
        "not_owned": foreign,
    }


def _kept_runs(runs: list[RunRecord], keep_runs: int) -> set[str]:
    """Every running run, and the newest `keep_runs` finished runs of each pipeline."""
    kept = {run.id for run in runs if run.state == "running"}
    finished: dict[str, int] = {}
    for run in runs:  # newest first
        if run.state == "running":
            continue
        finished[run.pipeline] = finished.get(run.pipeline, 0) + 1
        if finished[run.pipeline] <= keep_runs:
            kept.add(run.id)
    return kept


def _baselines(store: MetadataStore, storage: ArtifactStorage, pipelines: set[str]) -> set[int]:
    """The ids of each pipeline's latest blessed model (what its next run compares with)."""
    spec = latest_blessed_model()
    found = (resolve_latest(store, storage, pipeline, spec) for pipeline in sorted(pipelines))
    return {record.id for record in found if record is not None}
