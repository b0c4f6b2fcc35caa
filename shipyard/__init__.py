"""Shipyard: take a model from raw data to a versioned, served, monitored model.

The object model::

    Pipeline ──has──▶ Node ──uses──▶ Component (a typed function: @component)
       │                │               inputs: Artifact types · outputs: Out[T] · parameters
       │ run            │ executes as
       ▼                ▼
      Run ──groups──▶ Execution ──events (input/output, by port)──▶ Artifact
                                                                    (Examples, Metrics, ...)

Every run, execution, artifact and event is recorded in the metadata store, which gives
lineage (`shipyard lineage ID`), caching and reproducibility. Addresses are paths:
`pipeline/run/node/artifact`.

Example:
    >>> from shipyard import Out, Pipeline, component, run
    >>> from shipyard.artifacts import Metrics
    >>> @component
    ... def answer(metrics: Out[Metrics], *, value: float = 42.0) -> None:
    ...     metrics.save({"answer": value})
    >>> result = run(Pipeline("demo", nodes=[answer()]))
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipyard._lazy import lazy_exports
from shipyard._version import __version__

_EXPORTS = {
    "Artifact": "shipyard.artifacts",
    "Out": "shipyard.dsl",
    "Node": "shipyard.dsl",
    "Pipeline": "shipyard.dsl",
    "Resources": "shipyard.dsl",
    "component": "shipyard.dsl",
    "load_pipeline": "shipyard.dsl",
    "latest": "shipyard.dsl",
    "latest_blessed_model": "shipyard.dsl",
    "run": "shipyard.runners",
    "Run": "shipyard.runners",
    "NodeRun": "shipyard.runners",
    "Project": "shipyard.runners",
    "ShipyardError": "shipyard.errors",
}

__all__ = [
    "Artifact",
    "Node",
    "NodeRun",
    "Out",
    "Pipeline",
    "Project",
    "Resources",
    "Run",
    "ShipyardError",
    "__version__",
    "component",
    "latest",
    "latest_blessed_model",
    "load_pipeline",
    "run",
]

if TYPE_CHECKING:
    from shipyard.artifacts import Artifact as Artifact
    from shipyard.dsl import Node as Node
    from shipyard.dsl import Out as Out
    from shipyard.dsl import Pipeline as Pipeline
    from shipyard.dsl import Resources as Resources
    from shipyard.dsl import component as component
    from shipyard.dsl import load_pipeline as load_pipeline
    from shipyard.errors import ShipyardError as ShipyardError
    from shipyard.runners import NodeRun as NodeRun
    from shipyard.runners import Project as Project
    from shipyard.runners import Run as Run
    from shipyard.runners import run as run


__getattr__ = lazy_exports(__name__, _EXPORTS)


def __dir__() -> list[str]:
    return __all__
