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

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Artifact": "shipyard.artifacts",
    "Out": "shipyard.dsl",
    "Node": "shipyard.dsl",
    "Pipeline": "shipyard.dsl",
    "component": "shipyard.dsl",
    "load_pipeline": "shipyard.dsl",
    "run": "shipyard.runners",
    "Run": "shipyard.runners",
    "NodeRun": "shipyard.runners",
    "Project": "shipyard.runners",
    "ShipyardError": "shipyard.errors",
}

__all__ = ["__version__", *sorted(_EXPORTS)]

if TYPE_CHECKING:
    from shipyard.artifacts import Artifact
    from shipyard.dsl import Node, Out, Pipeline, component, load_pipeline
    from shipyard.errors import ShipyardError
    from shipyard.runners import NodeRun, Project, Run, run


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'shipyard' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
