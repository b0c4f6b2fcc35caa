"""The threads engine's warm worker: slow imports overlap the upstream nodes, in another process."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from shipyard import Pipeline
from shipyard.engines.threads import ThreadEngine
from shipyard.errors import ComponentFailed
from tests.conftest import Workspace
from tests.runners.components import SLOW_MODULE, add, double, source, where


class Recording(ThreadEngine):
    """The threads engine, remembering what the runner asked it to preload, and whether the
    store existed then."""

    def __init__(self, store: Path | None = None) -> None:
        super().__init__(max_workers=2)
        self.store = store
        self.preloads: list[list[str]] = []
        self.store_existed: list[bool] = []

    def preload(self, modules: Sequence[str]) -> None:
        self.preloads.append(list(modules))
        self.store_existed.append(self.store is not None and self.store.exists())
        super().preload(modules)


def slow_pipeline(*, fail: bool = False) -> Pipeline:
    return Pipeline("slow", nodes=[where(inp=source(value=2.0).outputs.out, fail=fail)])


def run_on(
    workspace: Workspace, pipeline: Pipeline, **options: object
) -> tuple[Recording, dict[str, object]]:
    """Run `pipeline` on a fresh recording engine; return it and the `where` node's properties."""
    engine = Recording()
    try:
        result = workspace.run(pipeline, engine=engine, **options)
    finally:
        engine.close()
    assert result.ok, result.failed
    return engine, dict(result["where"].outputs["out"].properties)


def test_a_node_declaring_preload_runs_in_the_worker_started_by_its_upstream(
    workspace: Workspace,
) -> None:
    engine, ran = run_on(workspace, slow_pipeline())
    assert engine.preloads[0] == [SLOW_MODULE, "tests.runners.components"]
    assert ran["pid"] != os.getpid() and ran["preloaded"] is True
    assert ran["engine"] == "threads"
    assert SLOW_MODULE not in sys.modules  # imported there, never here


def test_a_first_run_starts_the_worker_before_it_opens_the_store(workspace: Workspace) -> None:
    store = workspace.root / ".shipyard" / "store.db"
    engine = Recording(store)
    try:
        assert workspace.run(slow_pipeline(), engine=engine).ok
    finally:
        engine.close()
    assert engine.store_existed[0] is False and store.exists()
    again = Recording(store)  # the store exists: only an upstream node's execution asks
    try:
        assert workspace.run(slow_pipeline(), engine=again, cache=False).ok
    finally:
        again.close()
    assert again.store_existed == [True]


def test_a_cached_rerun_starts_no_worker(workspace: Workspace) -> None:
    run_on(workspace, slow_pipeline())
    engine, _ = run_on(workspace, slow_pipeline())
    assert engine.preloads == []


def test_a_slow_node_whose_upstream_is_cached_runs_on_a_thread(workspace: Workspace) -> None:
    run_on(workspace, slow_pipeline())
    engine, ran = run_on(workspace, slow_pipeline(), rerun=["where"])
    assert engine.preloads == []  # nothing to overlap: a process would only cost
    assert ran["pid"] == os.getpid() and ran["preloaded"] is False


def test_a_pipeline_without_slow_nodes_starts_no_worker(workspace: Workspace) -> None:
    start = source(value=1.0)
    pipeline = Pipeline(
        "plain",
        nodes=[
            add(
                left=double(inp=start.outputs.out).with_options(name="left").outputs.out,
                right=double(inp=start.outputs.out).with_options(name="right").outputs.out,
            )
        ],
    )
    engine = Recording()
    try:
        assert workspace.run(pipeline, engine=engine).ok
    finally:
        engine.close()
    assert engine.preloads == []


def test_an_error_in_the_worker_comes_back_with_the_users_traceback(workspace: Workspace) -> None:
    engine = Recording()
    try:
        result = workspace.run(slow_pipeline(fail=True), engine=engine)
    finally:
        engine.close()
    assert engine.preloads  # it ran in the worker
    error = result["where"].error
    assert isinstance(error, ComponentFailed) and error.exception_type == "ValueError"
    assert 'raise ValueError("failed where it ran")' in error.user_traceback
    with workspace.project() as project:
        assert [a.name.split("/")[2] for a in project.store.list_artifacts()] == ["source"]


def test_without_processes_the_nodes_run_on_threads(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    with caplog.at_level(logging.WARNING, logger="shipyard.engines"):
        engine, ran = run_on(workspace, slow_pipeline())
    assert engine.preloads  # asked for, but no process could start
    assert ran["pid"] == os.getpid()
    assert "cannot start a worker process to import tests.runners.slow_import" in caplog.text
    assert "Resource temporarily unavailable" in caplog.text


@pytest.fixture
def importing(monkeypatch: pytest.MonkeyPatch) -> tuple[ThreadEngine, subprocess.Popen[bytes]]:
    """A threads engine whose warm worker is in the middle of a 60-s import."""
    monkeypatch.setenv("SHIPYARD_TEST_IMPORT_S", "60")
    engine = ThreadEngine()
    engine.preload([SLOW_MODULE])
    assert engine._warm is not None
    [worker] = engine._warm._workers
    time.sleep(0.5)
    return engine, worker.process


@pytest.mark.parametrize("end", ["close", "terminate"])
def test_the_worker_ends_at_once_even_in_the_middle_of_its_imports(
    importing: tuple[ThreadEngine, subprocess.Popen[bytes]], end: str
) -> None:
    """close: the run is over and the worker was never used; terminate: a second Ctrl-C, after
    which nothing of the run may linger (in a notebook, the process lives on)."""
    engine, process = importing
    started = time.monotonic()
    getattr(engine, end)()
    assert process.wait(timeout=5) is not None
    assert time.monotonic() - started < 5
    engine.close()


def test_a_pipeline_directory_does_not_shadow_the_standard_library_in_the_worker(
    workspace: Workspace,
) -> None:
    """A runner whose path starts with a folder holding `numbers.py` (a pipeline file of
    that name, `import_file` put its folder first): numpy, in the worker, needs the real one."""
    shadow = workspace.root / "shadow"
    shadow.mkdir()
    (shadow / "numbers.py").write_text("raise ImportError('the wrong numbers')\n")
    (shadow / "helper_module_for_worker.py").write_text("VALUE = 41\n")
    sys.path.insert(0, str(shadow))
    try:
        engine = Recording()
        engine.preload(["numpy", "helper_module_for_worker"])
        try:
            result = workspace.run(slow_pipeline(), engine=engine)
        finally:
            engine.close()
    finally:
        sys.path.remove(str(shadow))
    assert result.ok, result.failed
    ran = result["where"].outputs["out"].properties
    assert ran["pid"] != os.getpid()
    assert ran["numpy"] is True  # the standard library's numbers, not the folder's
    assert ran["helper"] == 41  # the folder is still on the path, after the installed ones
