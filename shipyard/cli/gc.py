"""`shipyard gc`: delete artifacts of old runs that nothing recent references."""

from __future__ import annotations

from typing import Annotated

import typer

from shipyard.cli.options import ArtifactRootOption, JsonOption, StoreOption


def gc_command(
    keep_runs: Annotated[
        int, typer.Option("--keep-runs", min=1, help="Runs to keep per pipeline, newest first.")
    ] = 10,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what would go.")] = False,
    store: StoreOption = None,
    artifact_root: ArtifactRootOption = None,
    json_output: JsonOption = False,
) -> None:
    """Delete artifacts that none of the newest runs read or wrote; records stay for lineage."""
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
    out.print(
        f"{verb} {len(report['deleted_artifacts'])} artifacts, "
        f"{len(report['removed_orphans'])} unregistered directories and "
        f"{len(report['removed_staging'])} staging directories; "
        f"kept everything of {report['kept_runs']} runs."
    )
