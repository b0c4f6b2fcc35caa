"""When a run asks its engine to import slow modules ahead (`@component(preload=...)`).

A node whose component declares slow imports (`train`: PyTorch) gains from a worker that
imports them while the nodes upstream of it run; a run asks for that only when it will
likely execute such a node: when a node upstream of it executes (a cache miss), or at once
when the project's store does not exist yet (a first run executes every node). A fully
cached rerun never asks, so it never starts a worker or imports those libraries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipyard.engines import ComponentRef, Preloader

if TYPE_CHECKING:
    from collections.abc import Iterable

    from shipyard.dsl import Node, Pipeline
    from shipyard.engines import Engine


def slow_imports(nodes: Iterable[Node]) -> list[str]:
    """The modules the nodes' components declare, then each component's module, once each."""
    modules: list[str] = []
    for node in nodes:
        modules.extend(node.component.preload)
        module = ComponentRef.of(node.component).module  # None: defined in a file
        if module is not None and node.component.preload:
            modules.append(module)
    return list(dict.fromkeys(modules))


def preload_first_run(pipeline: Pipeline, engine: Engine) -> None:
    """A first run executes every node: start importing what its slow nodes need now.

    Slow nodes without upstream nodes have nothing to overlap, and are left out.
    """
    if isinstance(engine, Preloader):
        modules = slow_imports(n for n in pipeline.nodes if n.upstream)
        if modules:
            engine.preload(modules)
