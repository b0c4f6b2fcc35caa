"""`shipyard execute-node`: execute one node where this command runs.

Two modes. `--task FILE`: an engine's worker executes one task (TaskSpec JSON) and reports
its result; the runner that made the task records it. `--pipeline FILE --node NAME --run-id
ID`: a task of a compiled pipeline (Kubeflow) executes one node inside run ID itself, with no
runner around it: it creates or joins the run in the store, reuses the cache, executes and
registers the outputs (`shipyard.runners.run_node`). `--pipeline FILE --run-id ID
--finish-run`: the compiled pipeline's exit handler ends the run once its tasks ran.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from shipyard.cli.options import ArtifactRootOption, StoreOption

if TYPE_CHECKING:
    from shipyard.dsl import Pipeline
    from shipyard.dsl.context import Progress
    from shipyard.runners.hooks import RunHook
    from shipyard.runners.results import NodeRun


def execute_node_command(
    task: Annotated[
        str | None,
        typer.Option(
            "--task",
            help="The task: a JSON file written by TaskSpec.to_json, or - for standard input.",
        ),
    ] = None,
    result: Annotated[
        Path | None,
        typer.Option("--result", help="Write the result's JSON here (default: standard output)."),
    ] = None,
    pipeline_file: Annotated[
        Path | None,
        typer.Option("--pipeline", help="Compiled mode: the pipeline file that defines the node."),
    ] = None,
    node: Annotated[
        str | None, typer.Option("--node", help="Compiled mode: the node to execute.")
    ] = None,
    run_id: Annotated[
        str | None,
        typer.Option("--run-id", help="Compiled mode: the run (created by its first node)."),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="key=value argument of the pipeline function (repeat)."),
    ] = None,
    pipeline_name: Annotated[
        str | None,
        typer.Option("--pipeline-name", help="Which pipeline, if the file defines several."),
    ] = None,
    finish: Annotated[
        bool,
        typer.Option(
            "--finish-run",
            help="Compiled mode, instead of --node: end run --run-id after the job's tasks "
            "(never-started nodes skipped, nodes left running interrupted); the exit handler.",
        ),
    ] = False,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Compiled mode: execute, reusing nothing.")
    ] = False,
    pytorchjob: Annotated[
        str | None,
        typer.Option(
            "--pytorchjob",
            help="Compiled mode: launch the node's ranks as this Kubeflow PyTorchJob (its "
            "manifest's JSON, written by compile), wait for it and exit with its outcome.",
        ),
    ] = None,
    store: StoreOption = None,
    artifact_root: ArtifactRootOption = None,
) -> None:
    """Execute one node's task: read its inputs, run its component, publish its outputs.

    The entry point of engines that run nodes elsewhere (a container, a cluster node).
    With --task, the task names the component, its inputs and outputs by URI and its
    parameters; the result (TaskResult JSON) lists the published outputs or the error.
    With --pipeline, --node and --run-id (what a compiled Kubeflow task runs), the node
    executes inside that run: the store (--store) and the artifact root (--artifact-root)
    must be the ones every task of the run shares. Progress goes to standard error. Exit
    status 1 when the node failed.
    """
    from shipyard.errors import InvalidParameterError

    compiled = {"--pipeline": pipeline_file, "--node": node, "--run-id": run_id}
    if task is not None and any(value is not None for value in compiled.values()):
        raise InvalidParameterError(
            "execute-node takes either --task FILE or --pipeline FILE --node NAME --run-id ID, "
            "not both."
        )
    if task is not None:
        _execute_task(task, result)
        return
    if finish:
        if node is not None or pipeline_file is None or run_id is None:
            raise InvalidParameterError(
                "execute-node --finish-run takes --pipeline FILE and --run-id ID, and no "
                "--node: it ends the run after every node's task."
            )
        _finish_run(
            pipeline_file,
            run_id,
            params=param or [],
            pipeline_name=pipeline_name,
            store=store,
            artifact_root=artifact_root,
        )
        return
    missing = [flag for flag, value in compiled.items() if value is None]
    if missing:
        raise InvalidParameterError(
            f"execute-node needs --task FILE, or --pipeline, --node and --run-id together; "
            f"missing {', '.join(missing)}."
        )
    assert pipeline_file is not None and node is not None and run_id is not None
    if pytorchjob is not None:
        rank_args = ["--pipeline", str(pipeline_file), "--node", node, "--run-id", run_id]
        rank_args += [arg for item in param or [] for arg in ("--param", item)]
        rank_args += ["--pipeline-name", pipeline_name] if pipeline_name else []
        rank_args += ["--no-cache"] if no_cache else []
        rank_args += ["--store", store] if store else []
        rank_args += ["--artifact-root", artifact_root] if artifact_root else []
        _launch_pytorchjob(
            pytorchjob, rank_args, pipeline_file, node, run_id, param or [], pipeline_name
        )
        return
    outcome = _execute_in_run(
        pipeline_file,
        node,
        run_id,
        params=param or [],
        pipeline_name=pipeline_name,
        cache=not no_cache,
        store=store,
        artifact_root=artifact_root,
    )
    if outcome.state not in ("complete", "cached"):
        from shipyard.cli.output import EXIT_FAILED

        raise typer.Exit(EXIT_FAILED)


def _execute_task(task: str, result: Path | None) -> None:
    from shipyard.cli.output import EXIT_FAILED
    from shipyard.engines import TaskSpec
    from shipyard.engines.task import execute_task
    from shipyard.errors import NotFoundError

    if task != "-" and not Path(task).is_file():
        raise NotFoundError(f"--task {task}: no such file; it holds a task's JSON.")
    text = sys.stdin.read() if task == "-" else Path(task).read_text(encoding="utf-8")
    outcome = execute_task(
        TaskSpec.from_json(text),
        engine="execute-node",
        on_progress=lambda progress: print(progress.describe(), file=sys.stderr, flush=True),
    )
    if result is None:
        print(outcome.to_json())
    else:
        result.write_text(outcome.to_json(), encoding="utf-8")
    if not outcome.ok:
        print(f"{outcome.error.headline}: {outcome.error}", file=sys.stderr)  # type: ignore[union-attr]
        raise typer.Exit(EXIT_FAILED)


def _launch_pytorchjob(
    manifest: str,
    rank_args: list[str],
    pipeline_file: Path,
    node: str,
    run_id: str,
    params: list[str],
    pipeline_name: str | None,
) -> None:
    """The launcher task of a node with several workers: its ranks as a PyTorchJob."""
    from shipyard.cli.output import EXIT_FAILED
    from shipyard.compile.pytorchjob import WORKERS_PARAMETER
    from shipyard.compile.pytorchjob_launch import launch_node
    from shipyard.dsl import load_pipeline, parse_param
    from shipyard.errors import NotFoundError

    values = dict(parse_param(item) for item in params)
    loaded = load_pipeline(pipeline_file, name=pipeline_name, params=values)
    names = [each.name for each in loaded.nodes]
    if node not in names:
        raise NotFoundError(
            f"--node {node!r}: pipeline {loaded.name!r} has no such node; its nodes are "
            f"{', '.join(names)}."
        )
    workers = loaded[node].parameters.get(WORKERS_PARAMETER)
    found = launch_node(
        manifest,
        rank_args,
        node=node,
        run_id=run_id,
        workers=workers if isinstance(workers, int) else None,
        say=lambda line: print(line, file=sys.stderr, flush=True),
    )
    if not found.succeeded:
        raise typer.Exit(EXIT_FAILED)


def _execute_in_run(
    pipeline_file: Path,
    node: str,
    run_id: str,
    *,
    params: list[str],
    pipeline_name: str | None,
    cache: bool,
    store: str | None,
    artifact_root: str | None,
) -> NodeRun:
    """Load the pipeline with the run's parameters and execute `node` inside run `run_id`."""
    from shipyard.components.train.distributed import environment_group
    from shipyard.dsl import load_pipeline, parse_param
    from shipyard.runners import Project
    from shipyard.runners.run_node import run_node

    values = dict(parse_param(item) for item in params)
    loaded = load_pipeline(pipeline_file, name=pipeline_name, params=values)
    if environment_group() is not None:  # a rank of a PyTorchJob or torchrun
        return _execute_as_rank(loaded, node, run_id, cache=cache, store=store, root=artifact_root)
    with Project.open(store=store, artifact_root=artifact_root) as project:
        outcome = run_node(
            loaded,
            node,
            run_id=run_id,
            store=project.store,
            storage=project.storage,
            cache=cache,
            hooks=[cast("RunHook", _StderrLog(run_id))],  # the events it prints
        )
    if outcome.error is not None:
        print(f"{outcome.error.headline}: {outcome.error}", file=sys.stderr)
    return outcome


def _execute_as_rank(
    pipeline: Pipeline, node: str, run_id: str, *, cache: bool, store: str | None, root: str | None
) -> NodeRun:
    """One rank of a training group: rank 0 executes and records the node in the run, the
    others execute the task rank 0 hands them and record nothing (`runners.ranks`)."""
    from shipyard.runners import Project
    from shipyard.runners.ranks import RankZeroEngine, follow, start_group, stop_group
    from shipyard.runners.results import NodeRun
    from shipyard.runners.run_node import run_node

    rank = start_group()
    try:
        if rank > 0:
            result = follow()
            outcome = NodeRun(node, node)
            outcome.state = "complete" if result is None or result.ok else "failed"
            outcome.error = None if result is None else result.error
            print(
                f"node {node} of run {run_id}: rank {rank} "
                + ("had nothing to execute" if result is None else f"trained ({outcome.state})"),
                file=sys.stderr,
                flush=True,
            )
            return outcome
        engine = RankZeroEngine()
        try:
            with Project.open(store=store, artifact_root=root) as project:
                outcome = run_node(
                    pipeline,
                    node,
                    run_id=run_id,
                    store=project.store,
                    storage=project.storage,
                    cache=cache,
                    hooks=[cast("RunHook", _StderrLog(run_id))],
                    engine=engine,
                )
        finally:
            engine.release()  # the others exit at once when rank 0 executed nothing
    finally:
        stop_group()
    if outcome.error is not None:
        print(f"{outcome.error.headline}: {outcome.error}", file=sys.stderr)
    return outcome


def _finish_run(
    pipeline_file: Path,
    run_id: str,
    *,
    params: list[str],
    pipeline_name: str | None,
    store: str | None,
    artifact_root: str | None,
) -> None:
    """End run `run_id` of the pipeline; print its final state (exit status 0 regardless:
    the job's own status already says whether a task failed)."""
    from shipyard.dsl import load_pipeline, parse_param
    from shipyard.runners import Project
    from shipyard.runners.run_node import finish_run

    values = dict(parse_param(item) for item in params)
    loaded = load_pipeline(pipeline_file, name=pipeline_name, params=values)
    with Project.open(store=store, artifact_root=artifact_root) as project:
        state = finish_run(loaded, run_id=run_id, store=project.store)
    print(f"run {run_id} of pipeline {loaded.name}: {state}", file=sys.stderr, flush=True)


class _StderrLog:
    """Prints a node's states and progress on standard error (the container's log)."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id

    def on_node_state(self, *, node: NodeRun, **future: Any) -> None:
        where = ", ".join(f"{port}: {a.uri}" for port, a in node.outputs.items())
        print(
            f"node {node.name} of run {self.run_id}: {node.state}"
            + (f" ({where})" if where else ""),
            file=sys.stderr,
            flush=True,
        )

    def on_node_progress(self, *, node: NodeRun, progress: Progress, **future: Any) -> None:
        print(f"{node.name}: {progress.describe()}", file=sys.stderr, flush=True)
