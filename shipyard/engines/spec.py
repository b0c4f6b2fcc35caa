"""`TaskSpec`: one execution as plain data, which any engine can carry to where it runs.

A task names its component by import path (a user's component by its file and name), its
inputs and outputs by URI, its parameters as recorded JSON and where it may keep
checkpoints. `to_json` and `from_json` are its one serialisation: a process or cluster engine
ships that text, and `shipyard execute-node --task FILE` reads it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.dsl.resources import Resources
from shipyard.errors import DefinitionError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from shipyard.artifacts import Artifact
    from shipyard.dsl import Component

_USER_MODULE_PREFIX = "shipyard_user_"  # `shipyard.dsl.loading.import_file` names modules so


@dataclass(frozen=True)
class ComponentRef:
    """Where a component is defined: a module and name, or a user's file and name.

    Attributes:
        name: Its qualified name in the module (`train`).
        module: The importable module (`shipyard.components.train.component`), or None.
        file: The Python file defining it, for components of a pipeline file or script.
        fingerprint: `Component.fingerprint` when the task was made; the component found
            where the task runs must have the same, or its code changed meanwhile.
        local: The component itself, for engines that run tasks in this process; never
            serialised.
    """

    name: str
    module: str | None = None
    file: str | None = None
    fingerprint: str = ""
    local: Component[Any] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, component: Component[Any]) -> ComponentRef:
        """Return the reference of `component` (the object itself kept in `local`)."""
        fn = component.fn
        module = fn.__module__
        in_file = module == "__main__" or module.startswith(_USER_MODULE_PREFIX)
        return cls(
            name=fn.__qualname__,
            module=None if in_file else module,
            file=fn.__code__.co_filename if in_file else None,
            fingerprint=component.fingerprint,
            local=component,
        )

    @property
    def importable(self) -> str | None:
        """None when another process can import the component, else why it cannot."""
        if "<locals>" in self.name:
            return (
                f"component {self.name.split('.')[-1]!r} is defined inside a function "
                f"({self.name}); define it at the top level of its module"
            )
        if self.file is not None and not Path(self.file).is_file():
            return f"component {self.name!r} comes from {self.file}, which is not a file"
        return None

    def resolve(self) -> Component[Any]:
        """Return the component: `local` if set, else imported from its module or file.

        Raises:
            DefinitionError: It cannot be imported, is not a component, or its code differs
                from when the task was made.
        """
        if self.local is not None:
            return self.local
        from shipyard.dsl import Component

        problem = self.importable
        if problem is not None:
            raise DefinitionError(f"Cannot run {self.describe()} in another process: {problem}.")
        if self.file is not None:
            from shipyard.dsl.loading import import_file

            found: Any = import_file(Path(self.file))
        else:
            import importlib

            found = importlib.import_module(str(self.module))
        for part in self.name.split("."):
            found = getattr(found, part, None)
        if not isinstance(found, Component):
            raise DefinitionError(
                f"{self.describe()} is not a component where the task runs (got "
                f"{type(found).__name__}); is the same version of the code installed there?"
            )
        if self.fingerprint and found.fingerprint != self.fingerprint:
            raise DefinitionError(
                f"The code of {self.describe()} changed after the run started; run the "
                f"pipeline again."
            )
        return found

    def describe(self) -> str:
        """`module:name` or `file:name`, for messages."""
        return f"{self.file or self.module}:{self.name}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "module": self.module,
            "file": self.file,
            "fingerprint": self.fingerprint,
        }


@dataclass(frozen=True)
class ArtifactRef:
    """An artifact as data: its type name, URI and what the store knows of it."""

    type_name: str
    uri: str
    id: int | None = None
    name: str = ""
    fingerprint: str | None = None
    properties: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, artifact: Artifact) -> ArtifactRef:
        return cls(
            artifact.type_name,
            artifact.uri,
            artifact.id,
            artifact.name,
            artifact.fingerprint,
            dict(artifact.properties),
        )

    def open(self, path: Path) -> Artifact:
        """Return the typed artifact, its files at the local directory `path`.

        Raises:
            NotFoundError: Its type is unknown here (import the module defining it).
        """
        from shipyard.artifacts import artifact_type

        return artifact_type(self.type_name)(
            path,
            uri=self.uri,
            id=self.id,
            name=self.name,
            properties=dict(self.properties),
            fingerprint=self.fingerprint,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type_name,
            "uri": self.uri,
            "id": self.id,
            "name": self.name,
            "fingerprint": self.fingerprint,
            "properties": dict(self.properties),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ArtifactRef:
        return cls(
            data["type"],
            data["uri"],
            data.get("id"),
            data.get("name", ""),
            data.get("fingerprint"),
            dict(data.get("properties") or {}),
        )


@dataclass(frozen=True)
class TaskSpec:
    """One execution of a component, as data.

    Attributes:
        node: The node's name, for messages.
        component: Where the component is defined.
        inputs: Input artifacts by port.
        outputs: Where each output is published, by port: `(type name, URI)`. The task
            stages each output, calls the component and publishes the outputs itself.
        parameters: Parameter values as recorded (JSON).
        run_id: The run, which names the staging directories.
        artifact_root: The artifact root (a directory or fsspec URL).
        scratch_dir: The project's local scratch directory (staging, copies of remote
            artifacts), where the task runs on the runner's machine.
        checkpoint_dir: Where the component may keep checkpoints that outlive a failure
            (`shipyard.dsl.context.TaskContext.checkpoint_dir`).
        resources: What the execution needs, for engines that place tasks (Ray).
        preload: Modules the component imports that take long to import
            (`@component(preload=...)`): an engine may import them ahead, where the task
            will run (the `threads` engine's warm worker).
    """

    node: str
    component: ComponentRef
    inputs: Mapping[str, ArtifactRef]
    outputs: Mapping[str, tuple[str, str]]
    parameters: Mapping[str, Any]
    run_id: str
    artifact_root: str
    scratch_dir: str
    checkpoint_dir: str | None = None
    resources: Resources | None = None
    preload: tuple[str, ...] = ()

    def to_json(self) -> str:
        """The task as JSON; `from_json` reads it back (without `component.local`)."""
        return json.dumps(
            {
                "node": self.node,
                "component": self.component.to_dict(),
                "inputs": {port: ref.to_dict() for port, ref in self.inputs.items()},
                "outputs": {port: list(target) for port, target in self.outputs.items()},
                "parameters": dict(self.parameters),
                "run_id": self.run_id,
                "artifact_root": self.artifact_root,
                "scratch_dir": self.scratch_dir,
                "checkpoint_dir": self.checkpoint_dir,
                "resources": None if self.resources is None else self.resources.to_dict(),
                "preload": list(self.preload),
            },
            allow_nan=False,
        )

    @classmethod
    def from_json(cls, text: str) -> TaskSpec:
        """Read a task written by `to_json`.

        Raises:
            DefinitionError: The text is not a task.
        """
        try:
            data = json.loads(text)
            return cls(
                node=data["node"],
                component=ComponentRef(**data["component"]),
                inputs={p: ArtifactRef.from_dict(ref) for p, ref in data["inputs"].items()},
                outputs={p: (target[0], target[1]) for p, target in data["outputs"].items()},
                parameters=data["parameters"],
                run_id=data["run_id"],
                artifact_root=data["artifact_root"],
                scratch_dir=data["scratch_dir"],
                checkpoint_dir=data.get("checkpoint_dir"),
                resources=None
                if data.get("resources") is None
                else Resources.from_dict(data["resources"]),
                preload=tuple(data.get("preload") or ()),
            )
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            raise DefinitionError(
                f"Not a task specification ({type(exc).__name__}: {exc}); it is written by "
                f"TaskSpec.to_json."
            ) from exc
