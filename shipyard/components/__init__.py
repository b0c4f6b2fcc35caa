"""Standard components: ingest, statistics, schema, validation, transform, train.

Each is an ordinary `@component`, written exactly as a user's would be: nothing here is
built in that a user could not write. A component is a pure function of its inputs and
parameters: this layer may import `shipyard.dsl`, `shipyard.artifacts`, `shipyard.io`,
`shipyard.errors` and `shipyard.config`, never runners, engines or the store.
Names load lazily, so importing this package imports no data library.
"""

from __future__ import annotations

import importlib
from typing import Any

# The subpackage `ingest` would shadow the component of the same name once imported, so the
# component is bound eagerly (importing it loads no data library).
from shipyard.components.ingest import ingest as ingest

# Likewise for the subpackages `train` and `transform` and their components (importing
# them loads no torch, onnx or polars).
from shipyard.components.train import train as train
from shipyard.components.transform import transform as transform

_EXPORTS = {
    "load_dataset": "shipyard.components.ingest",
    "compute_statistics": "shipyard.components.statistics",
    "compute_dataset_statistics": "shipyard.components.statistics",
    "infer_schema": "shipyard.components.schema",
    "import_schema": "shipyard.components.schema",
    "validate_examples": "shipyard.components.validate",
    "transform": "shipyard.components.transform",
    "train": "shipyard.components.train",
}

__all__ = [
    "compute_dataset_statistics",
    "compute_statistics",
    "import_schema",
    "infer_schema",
    "ingest",
    "load_dataset",
    "train",
    "transform",
    "validate_examples",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'shipyard.components' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
