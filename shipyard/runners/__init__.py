"""Runners: order nodes, cache, execute on an engine, publish atomically, record everything.

May import engines, components, dsl, artifacts, store, io, errors and config; never the CLI.
Names load lazily: a command that only opens a `Project` (`shipyard monitor`, `shipyard
models`) imports neither the runner nor the DSL (30 ms).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipyard._lazy import lazy_exports

if TYPE_CHECKING:
    from shipyard.runners.api import run as run
    from shipyard.runners.hooks import RunHook as RunHook
    from shipyard.runners.local import LocalRunner as LocalRunner
    from shipyard.runners.project import Project as Project
    from shipyard.runners.results import NodeRun as NodeRun
    from shipyard.runners.results import Run as Run

_EXPORTS = {
    "run": "shipyard.runners.api",
    "RunHook": "shipyard.runners.hooks",
    "LocalRunner": "shipyard.runners.local",
    "Project": "shipyard.runners.project",
    "NodeRun": "shipyard.runners.results",
    "Run": "shipyard.runners.results",
}

__all__ = ["LocalRunner", "NodeRun", "Project", "Run", "RunHook", "run"]


__getattr__ = lazy_exports(__name__, _EXPORTS)


def __dir__() -> list[str]:
    return __all__
