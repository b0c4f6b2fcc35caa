from __future__ import annotations

import dataclasses
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import pytest

from shipyard.engines import TaskResult, TaskSpec, open_engine
from shipyard.engines.processes import ProcessEngine
from shipyard.engines.threads import ThreadEngine
from shipyard.testing import check_engine


def test_thread_engine_conforms() -> None:
    check_engine(ThreadEngine(max_workers=2))


class _AllSlow(ThreadEngine):
    """Every task declares a slow import, so the warm worker takes each one it is free for."""

    def submit(self, task: TaskSpec, **channel: Callable[..., Any] | None) -> Future[TaskResult]:
        return super().submit(dataclasses.replace(task, preload=("json",)), **channel)


def test_thread_engine_with_its_warm_worker_conforms() -> None:
    engine = _AllSlow(max_workers=2)
    engine.preload(["json"])
    assert engine._warm is not None  # what runs there crosses as JSON: the suite checks it
    check_engine(engine)


def test_process_engine_conforms() -> None:
    check_engine(ProcessEngine(max_workers=2))


@pytest.mark.parametrize(("name", "cls"), [("threads", ThreadEngine), ("processes", ProcessEngine)])
def test_engines_resolve_by_name(name: str, cls: type) -> None:
    engine = open_engine(name, max_workers=3)
    assert isinstance(engine, cls) and engine.max_parallel == 3
    engine.close()
