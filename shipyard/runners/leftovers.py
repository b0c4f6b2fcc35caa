"""Files the platform leaves behind that `shipyard gc` removes: finished training checkpoints
and interrupted push copies.

A training checkpoint (`HOME/checkpoints/KEY`) is kept while it may still be resumed from: it
is a leftover only once an execution with its cache key has completed, and while no
execution with that key is running (a failed or interrupted one keeps it for the resume). A
push copy (`BASE/NAME/.push-*`) is the hidden copy a push renames into `BASE/NAME/VERSION`; it
is left only when the push was interrupted, so it is a leftover once no push execution of the
store is running.

Paths are listed before the store is asked what is running: a checkpoint or push copy made
after that question belongs to an execution the answer already covers, or to one that
started later and whose files the listing does not hold.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.io.storage import CHECKPOINTS_DIRNAME

if TYPE_CHECKING:
    from collections.abc import Iterable

    from shipyard.io import ArtifactStorage
    from shipyard.store import ExecutionRecord, MetadataStore, RunRecord

PUSH_COMPONENT = "push"
PUSH_COPY_PREFIX = ".push-"
_KEY_LENGTH = 40  # the characters of a cache key that name its checkpoint directory


@dataclass(frozen=True)
class Leftovers:
    """What `find_leftovers` found.

    Attributes:
        checkpoints: Checkpoint directories of finished trainings.
        push_copies: Copies left by interrupted pushes, in the model directories of the
            store's pushes.
    """

    checkpoints: list[Path]
    push_copies: list[Path]

    def remove(self) -> None:
        """Delete every path; one already gone is skipped."""
        for path in [*self.checkpoints, *self.push_copies]:
            shutil.rmtree(path, ignore_errors=True)


def find_leftovers(
    store: MetadataStore, storage: ArtifactStorage, runs: Iterable[RunRecord]
) -> Leftovers:
    """Return the finished checkpoints and interrupted push copies of the store's runs.

    Args:
        store: The metadata store whose executions decide what is finished.
        storage: The storage whose scratch directory holds the checkpoints.
        runs: The store's runs (every one: their executions name the model directories).
    """
    executions = [e for run in runs for e in store.list_executions(run.id)]
    finished = {e.cache_key[:_KEY_LENGTH] for e in executions if e.state == "complete"}
    checkpoint_root = storage.scratch_dir / CHECKPOINTS_DIRNAME
    checkpoints = sorted(checkpoint_root.iterdir()) if checkpoint_root.is_dir() else []
    directories = {_model_directory(e) for e in executions}
    copies = [
        path
        for directory in sorted(d for d in directories if d is not None and d.is_dir())
        for path in sorted(directory.glob(f"{PUSH_COPY_PREFIX}*"))
    ]
    running = [
        e
        for run in store.list_runs()
        if run.state == "running"
        for e in store.list_executions(run.id)
        if e.state == "running"
    ]
    busy = {e.cache_key[:_KEY_LENGTH] for e in running}
    return Leftovers(
        checkpoints=[p for p in checkpoints if p.name in finished and p.name not in busy],
        push_copies=[] if any(e.component == PUSH_COMPONENT for e in running) else copies,
    )


def _model_directory(execution: ExecutionRecord) -> Path | None:
    """`BASE/NAME` of a push execution (a path parameter is recorded absolute)."""
    if execution.component != PUSH_COMPONENT:
        return None
    base, name = execution.parameters.get("base"), execution.parameters.get("name")
    if not isinstance(base, str) or not isinstance(name, str) or not Path(base).is_absolute():
        return None
    return Path(base) / name
