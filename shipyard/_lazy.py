"""Names a package exports and imports on first use (`__getattr__`, PEP 562)."""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """Return a package's `__getattr__`: each name in `exports` imported from its module.

    Args:
        package: The package's name, for the error.
        exports: Each exported name and the module that defines it.

    Example:
        >>> __getattr__ = lazy_exports(__name__, {"Project": "shipyard.runners.project"})
    """

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)  # found directly from now on
        return value

    return __getattr__
