"""Components shared by the runner tests; CALLS counts executions per node."""

from __future__ import annotations

import os
import sys
import threading
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shipyard import Out, component
from shipyard.artifacts import Artifact, Metrics
from shipyard.dsl.context import current_task
from shipyard.errors import RunStopped

CALLS: Counter[str] = Counter()
BARRIER: dict[str, threading.Barrier] = {}


@component
def source(out: Out[Metrics], *, value: float = 1.0) -> None:
    CALLS["source"] += 1
    out.save({"v": value})


@component
def double(inp: Metrics, out: Out[Metrics]) -> None:
    CALLS["double"] += 1
    out.save({"v": inp.load()["v"] * 2})


@component
def add(left: Metrics, right: Metrics, out: Out[Metrics]) -> None:
    CALLS["add"] += 1
    out.save({"v": left.load()["v"] + right.load()["v"]})


@component
def meet(inp: Metrics, out: Out[Metrics], *, name: str) -> None:
    """Waits until another node reaches the same barrier: proves they run concurrently."""
    BARRIER["meet"].wait(timeout=10)
    out.save({"v": inp.load()["v"]})


@component
def fail(inp: Metrics, out: Out[Metrics], *, message: str = "boom") -> None:
    (out.path / "partial.txt").write_text("half written")
    raise ValueError(message)


@component
def gate(inp: Metrics, out: Out[Metrics], *, limit: float = 0.0) -> None:
    """Saves its verdict, then stops the run when the input exceeds `limit`."""
    value = inp.load()["v"]
    out.save({"v": value, "over": float(value > limit)})
    if value > limit:
        raise RunStopped(f"{value} is over {limit}")


@component
def read_file(out: Out[Artifact], *, path: Path) -> None:
    CALLS["read_file"] += 1
    (out.path / "copy.txt").write_text(path.read_text())


def _listing(params: Mapping[str, Any]) -> list[str]:
    return sorted(path.name for path in Path(params["folder"]).iterdir())


@component(depends_on=_listing)
def count_files(out: Out[Metrics], *, folder: str) -> None:
    out.save({"files": len(list(Path(folder).iterdir()))})


@component
def read_splits(out: Out[Metrics], *, sources: dict[str, Path]) -> None:
    assert all(isinstance(path, Path) for path in sources.values())
    out.save({split: len(path.read_text()) for split, path in sources.items()})


@component(writes=("target",))
def export_to(out: Out[Metrics], *, target: Path, value: float = 1.0) -> None:
    """Writes outside its outputs, like the pusher."""
    CALLS["export_to"] += 1
    Path(target).mkdir(parents=True, exist_ok=True)
    (Path(target) / f"{CALLS['export_to']}.txt").write_text(str(value))
    out.save({"v": value})


SLOW_MODULE = "tests.runners.slow_import"


@component(preload=(SLOW_MODULE,))
def where(inp: Metrics, out: Out[Metrics], *, fail: bool = False) -> None:
    """Records where it ran: its process, its engine, whether its slow module came first."""
    out.save({"v": inp.load()["v"]})
    out.properties.update(
        pid=os.getpid(),
        engine=current_task().engine,
        preloaded=SLOW_MODULE in sys.modules,
        numpy="numpy" in sys.modules,
        helper=getattr(sys.modules.get("helper_module_for_worker"), "VALUE", None),
    )
    if fail:
        raise ValueError("failed where it ran")
