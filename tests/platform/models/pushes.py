"""Pipelines that push a model quickly, for the model registry's and endpoints' tests.

`pushing` copies a model directory (a real trained one, or fake bytes when `source` is
None) and pushes it blessed (or not) to `base/NAME`, as a pipeline run the store records.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import shipyard
from shipyard import Out, Pipeline, component
from shipyard.artifacts import BlessingDecision, Model, ModelBlessing
from shipyard.components import push
from shipyard.runners import Run


@component
def copied_model(model: Out[Model], *, source: str, tag: str) -> None:
    """The model at `source` (fake files when empty), made distinct by `tag`."""
    if source:
        shutil.copytree(source, model.path, dirs_exist_ok=True)
    else:
        model.path.mkdir(parents=True, exist_ok=True)
        (model.path / Model.ONNX_FILENAME).write_bytes(tag.encode())
        (model.path / Model.SIGNATURE_FILENAME).write_text("{}")
    (model.path / "tag.txt").write_text(tag)


@component
def blessing_of(model: Model, blessing: Out[ModelBlessing], *, blessed: bool) -> None:
    """Bless the model, or not."""
    blessing.save(BlessingDecision(blessed=blessed))


def pushing(
    base: Path, tag: str, *, source: Path | None = None, blessed: bool = True, name: str = "m"
) -> Pipeline:
    """A pipeline pushing the model `tag` to `base/name`."""
    made = copied_model(source="" if source is None else str(source), tag=tag)
    checks = blessing_of(model=made.outputs.model, blessed=blessed)
    pushed = push(
        model=made.outputs.model, blessing=checks.outputs.blessing, name=name, base=str(base)
    )
    return Pipeline("pusher", nodes=[pushed])


def push_run(
    store_url: str, base: Path, tag: str, *, source: Path | None = None, blessed: bool = True
) -> tuple[Run, int]:
    """Run `pushing` on the store; return the run and its PushedModel artifact's id."""
    pipeline = pushing(base, tag, source=source, blessed=blessed)
    run = shipyard.run(pipeline, store=store_url, progress=False)
    assert run.ok, run.failed
    return run, artifact_id(run)


def artifact_id(run: Run) -> int:
    """The id of the run's PushedModel artifact in its store."""
    identifier = run["push"].outputs["pushed"].id
    assert identifier is not None
    return int(identifier)
