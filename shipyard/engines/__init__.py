"""Engines run executions: the `Engine` protocol, `TaskSpec`, and the local thread engine.

May import `shipyard.dsl`, `shipyard.artifacts`, `shipyard.io` and `shipyard.errors`;
never the store or runners.
"""

from shipyard.engines.protocol import Engine, TaskResult, TaskSpec

__all__ = ["Engine", "TaskResult", "TaskSpec", "open_engine"]


def open_engine(name: str = "local", **options: object) -> Engine:
    """Create the engine registered under `name` (entry-point group `shipyard.engines`)."""
    from shipyard.plugins import load_entry_point

    engine: Engine = load_entry_point("shipyard.engines", name)(**options)
    return engine
