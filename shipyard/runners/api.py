"""`shipyard.run`: run a pipeline, a pipeline file, or nodes on their own (in a notebook)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.dsl import Node, Pipeline, load_pipeline
from shipyard.engines import Engine, open_engine
from shipyard.runners.local import LocalRunner
from shipyard.runners.preloads import preload_first_run
from shipyard.runners.project import Project

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from shipyard.runners.hooks import RunHook
    from shipyard.runners.results import Run

INTERACTIVE_PIPELINE = "interactive"


def run(
    target: Pipeline | Node | Sequence[Node] | str | Path,
    *,
    params: Mapping[str, Any] | None = None,
    pipeline: str | None = None,
    cache: bool = True,
    rerun: Sequence[str] = (),
    store: str | None = None,
    artifact_root: str | None = None,
    engine: str | Engine = "threads",
    max_workers: int | None = None,
    engine_options: Mapping[str, object] | None = None,
    progress: bool | None = None,
    hooks: Sequence[RunHook] = (),
    properties: Mapping[str, Any] | None = None,
) -> Run:
    """Run a pipeline and return its `Run`; a failed node does not raise, check `run.ok`.

    Ctrl-C (SIGINT, or SIGTERM) stops the run within seconds: running nodes are told to stop
    (training saves a checkpoint), recorded as interrupted, and `KeyboardInterrupt` is raised;
    running the same pipeline again resumes.

    Args:
        target: A `Pipeline`; a pipeline file; or nodes to run on their own (with the nodes
            they read from), as a notebook does. Their pipeline is named "interactive".
        params: Arguments of the pipeline function, when `target` is a file.
        pipeline: Which pipeline of the file, when it defines several.
        cache: Reuse outputs of nodes whose code, parameters and inputs are unchanged.
        rerun: Execute these nodes and everything downstream even if cached.
        store: Metadata store URL (default: SQLite in `.shipyard/`).
        artifact_root: Artifact directory or fsspec URL (default: `.shipyard/artifacts`).
        engine: An engine name (`threads`, the default; `processes`; `ray` with the
            extra) or instance.
        max_workers: Nodes that run at once.
        engine_options: More options of the engine named by `engine`, such as the Ray
            engine's `address` (`{"address": "ray://head:10001"}`).
        progress: Show the live display (default: when attached to a terminal or notebook).
        hooks: More receivers of run events.
        properties: More facts recorded on the run (the trigger that started it).

    Example:
        >>> result = shipyard.run("examples/penguins/pipeline.py")
        >>> result["statistics"].outputs["statistics"]
    """
    resolved = _as_pipeline(target, params=params, pipeline=pipeline)
    all_hooks = list(hooks)
    if progress if progress is not None else _interactive():
        from shipyard.runners.display import RichDisplay

        all_hooks.append(RichDisplay())
    runner_engine = (
        open_engine(engine, max_workers=max_workers, **(engine_options or {}))
        if isinstance(engine, str)
        else engine
    )
    owned = isinstance(engine, str)
    with Project.open(store=store, artifact_root=artifact_root) as project:
        if project.is_new:  # before the store opens: its import overlaps the slow ones
            preload_first_run(resolved, runner_engine)
        try:
            runner = LocalRunner(
                store=project.store, storage=project.storage, engine=runner_engine, hooks=all_hooks
            )
            return runner.run(resolved, cache=cache, rerun=rerun, properties=properties)
        except KeyboardInterrupt:
            # closing waits for a node left running on a thread, which ends on its own; other
            # engines stopped theirs
            owned = owned and not runner_engine.in_process
            raise
        finally:
            if owned:
                runner_engine.close()


def _as_pipeline(
    target: Pipeline | Node | Sequence[Node] | str | Path,
    *,
    params: Mapping[str, Any] | None,
    pipeline: str | None,
) -> Pipeline:
    if isinstance(target, Pipeline):
        return target
    if isinstance(target, str | Path):
        return load_pipeline(target, name=pipeline, params=params)
    nodes = [target] if isinstance(target, Node) else list(target)
    built = Pipeline(INTERACTIVE_PIPELINE, nodes=nodes)
    built.location = nodes[0].location if nodes else built.location
    return built


def _interactive() -> bool:
    return sys.stderr.isatty() or "ipykernel" in sys.modules
