"""`shipyard gc`: delete artifacts of old runs that nothing recent references, and leftovers."""

from __future__ import annotations

from typing import Annotated

import typer

from shipyard.cli.options import ArtifactRootOption, JsonOption, StoreOption


def gc_command(
    keep_runs: Annotated[
        int,
        typer.Option(
            "--keep-runs",
            min=1,
            help="Finished runs to keep per pipeline, newest first; running runs are always kept.",
        ),
    ] = 10,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what would go.")] = False,
    store: StoreOption = None,
    artifact_root: ArtifactRootOption = None,
    json_output: JsonOption = False,
) -> None:
    """Delete artifacts that none of the newest runs read or wrote; records stay for lineage.

    Never deleted: what a running run uses, each pipeline's latest blessed model (the next
    baseline), and directories under the artifact root written by another store. Also
    removed: checkpoints of finished trainings and copies left by interrupted pushes
    (`BASE/NAME/.push-*`); `--dry-run` lists them all.
    """
    from shipyard.cli.output import console, print_json
    from shipyard.runners import Project
    from shipyard.runners.gc import collect_garbage

    with Project.open(store=store, artifact_root=artifact_root, create=False) as project:
        report = collect_garbage(project, keep_runs=keep_runs, dry_run=dry_run)
    if json_output:
        print_json(report)
        return
    verb = "Would delete" if dry_run else "Deleted"
    out = console()
    for artifact in report["deleted_artifacts"]:
        out.print(f"{verb} #{artifact['id']} {artifact['type']} {artifact['name']}")
    for key, what in _PATHS.items():
        for path in report[key]:
            out.print(f"{verb} {what} {path}", markup=False, highlight=False)
    out.print(
        f"{verb} {len(report['deleted_artifacts'])} artifacts, "
        f"{len(report['removed_orphans'])} unregistered directories, "
        f"{len(report['removed_staging'])} staging directories, "
        f"{len(report['removed_checkpoints'])} finished checkpoints and "
        f"{len(report['removed_push_copies'])} interrupted push copies; kept everything of "
        f"{report['kept_runs']} runs and {len(report['kept_baselines'])} baseline models."
    )
    if report["not_owned"]:
        out.print(
            f"Left {len(report['not_owned'])} directories under the artifact root alone: "
            "their runs are not in this store (another store wrote them)."
        )


_PATHS = {
    "removed_orphans": "unregistered directory",
    "removed_staging": "staging of run",
    "removed_checkpoints": "finished checkpoint",
    "removed_push_copies": "interrupted push copy",
}
