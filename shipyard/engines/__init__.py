"""Engines run tasks: the `Engine` protocol, the `TaskSpec` it carries, and the local engines.

`threads` (the default) runs tasks on threads of this process; `processes` on a pool of worker
processes. A task is plain data that crosses processes (`TaskSpec.to_json`), and is executed
by `shipyard.engines.task.execute_task` wherever it lands; `shipyard execute-node --task FILE`
is the same entry point as a command.

May import `shipyard.dsl`, `shipyard.artifacts`, `shipyard.io` and `shipyard.errors`;
never the store or runners.
"""

from shipyard.engines.protocol import Engine
from shipyard.engines.result import TaskResult
from shipyard.engines.spec import ArtifactRef, ComponentRef, TaskSpec

__all__ = ["ArtifactRef", "ComponentRef", "Engine", "TaskResult", "TaskSpec", "open_engine"]


def open_engine(name: str = "threads", **options: object) -> Engine:
    """Create the engine registered under `name` (entry-point group `shipyard.engines`)."""
    from shipyard.plugins import load_entry_point

    engine: Engine = load_entry_point("shipyard.engines", name)(**options)
    return engine
