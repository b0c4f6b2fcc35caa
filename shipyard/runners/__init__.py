"""Runners: order nodes, cache, execute on an engine, publish atomically, record everything.

May import engines, components, dsl, artifacts, store, io, errors and config; never the CLI.
"""

from shipyard.runners.api import run
from shipyard.runners.hooks import RunHook
from shipyard.runners.local import LocalRunner
from shipyard.runners.project import Project
from shipyard.runners.results import NodeRun, Run

__all__ = ["LocalRunner", "NodeRun", "Project", "Run", "RunHook", "run"]
