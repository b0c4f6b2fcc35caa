"""Engines run tasks: the `Engine` protocol, the `TaskSpec` it carries, and the local engines.

`threads` (the default) runs tasks on threads of this process, and those that declare slow
imports in a warm worker process started ahead (`shipyard.engines.warm`); `processes` on a
pool of worker processes. A task is plain data that crosses processes (`TaskSpec.to_json`),
and is executed by `shipyard.engines.task.execute_task` wherever it lands; `shipyard
execute-node --task FILE` is the same entry point as a command.

May import `shipyard.dsl`, `shipyard.artifacts`, `shipyard.io` and `shipyard.errors`;
never the store or runners.
"""

from shipyard.engines.protocol import Engine, Preloader
from shipyard.engines.result import TaskResult
from shipyard.engines.spec import ArtifactRef, ComponentRef, TaskSpec

__all__ = [
    "ArtifactRef",
    "ComponentRef",
    "Engine",
    "Preloader",
    "TaskResult",
    "TaskSpec",
    "open_engine",
]


def open_engine(name: str = "threads", **options: object) -> Engine:
    """Create the engine registered under `name` (entry-point group `shipyard.engines`).

    Args:
        name: The engine's name: `threads`, `processes`, `ray` or a plugin's.
        **options: Its options, such as `max_workers` or the Ray engine's `address`.

    Raises:
        InvalidParameterError: The engine takes no option of that name.
        PluginNotInstalled: The engine needs an extra that is not installed.
    """
    import inspect

    from shipyard.errors import InvalidParameterError
    from shipyard.plugins import load_entry_point

    factory = load_entry_point("shipyard.engines", name)
    accepted = inspect.signature(factory).parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values()):
        for option, value in options.items():
            if option not in accepted:
                raise InvalidParameterError(
                    f"The {name!r} engine takes no option {option!r} (got {value!r}); it "
                    f"takes {', '.join(accepted) or 'none'}. Choose another engine, or drop "
                    f"the option."
                )
    engine: Engine = factory(**options)
    return engine
