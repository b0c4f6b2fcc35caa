"""Standard components: ingest, statistics, schema, validation, transform, train, evaluate,
infra validation, push.

Each is an ordinary `@component`, written exactly as a user's would be: nothing here is
built in that a user could not write. A component is a pure function of its inputs and
parameters: this layer may import `shipyard.dsl`, `shipyard.artifacts`, `shipyard.io`,
`shipyard.errors` and `shipyard.config`, never runners, engines or the store.
Names load lazily, so importing this package imports no data library.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import TYPE_CHECKING

from shipyard._lazy import lazy_exports

if TYPE_CHECKING:  # the components, not the subpackages of the same names
    from shipyard.components.evaluate.component import evaluate as evaluate
    from shipyard.components.infra_validate import infra_validate as infra_validate
    from shipyard.components.ingest.component import ingest as ingest
    from shipyard.components.push import push as push
    from shipyard.components.train.component import train as train
    from shipyard.components.transform.component import transform as transform

_EXPORTS = {
    "ingest": "shipyard.components.ingest",
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


class _Components(ModuleType):
    """This package: a subpackage imported later never replaces the component of its name.

    `shipyard.components.evaluate` is a package and `evaluate` a component (so are `ingest`,
    `push`, `infra_validate`, `train` and `transform`); importing the package would bind it
    here under the component's name. Binding each component eagerly instead would import
    every component's module for any use of one (60 ms at `shipyard monitor`'s start).
    """

    def __setattr__(self, name: str, value: object) -> None:
        if name in _EXPORTS and isinstance(value, ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Components


__getattr__ = lazy_exports(__name__, _EXPORTS)


def __dir__() -> list[str]:
    return __all__
