"""Standard components: ingest, statistics, schema, validation, transform, train, evaluate,
infra validation, push.

Each is an ordinary `@component`, written exactly as a user's would be: nothing here is
built in that a user could not write. A component is a pure function of its inputs and
parameters: this layer may import `shipyard.dsl`, `shipyard.artifacts`, `shipyard.io`,
`shipyard.errors` and `shipyard.config`, never runners, engines or the store.
Names load lazily, so importing this package imports no data library.
"""

from __future__ import annotations

import importlib
from typing import Any

# The subpackages `evaluate` and `ingest` would shadow the components of the same names once
# imported, so the components are bound eagerly (importing them loads no data library).
from shipyard.components.evaluate.component import evaluate as evaluate

# So would the modules `push` and `infra_validate` (they import only the standard library
# and shipyard).
from shipyard.components.infra_validate import infra_validate as infra_validate
from shipyard.components.ingest import ingest as ingest
from shipyard.components.push import push as push

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
    "evaluate": "shipyard.components.evaluate",
    "push": "shipyard.components.push",
    "infra_validate": "shipyard.components.infra_validate",
}

__all__ = [
    "compute_dataset_statistics",
    "compute_statistics",
    "evaluate",
    "import_schema",
    "infer_schema",
    "infra_validate",
    "ingest",
    "load_dataset",
    "push",
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
