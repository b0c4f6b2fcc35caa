"""A `Node` is one use of a component in a pipeline, with its inputs and parameters bound.

Wiring problems found while binding are kept on the node and reported all together when the
`Pipeline` is built, each with the user's file and line.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.dsl.location import SourceLocation, caller_location
from shipyard.dsl.parameters import describe, has_path, matches, parameter_message
from shipyard.dsl.resolvers import Latest
from shipyard.errors import DefinitionError

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from shipyard.artifacts import Artifact
    from shipyard.dsl.component import Component
    from shipyard.dsl.resources import Resources

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True, eq=False)
class OutputRef:
    """A reference to an output port of a node: `node.outputs.examples`."""

    node: Node
    port: str
    type: type[Artifact]

    def __repr__(self) -> str:
        return f"<{self.node.name}.outputs.{self.port}: {self.type.type_name}>"


@dataclass(frozen=True)
class Problem:
    """One wiring problem, with where the user wrote it."""

    location: SourceLocation
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class Outputs:
    """The output ports of a node, as attributes: `node.outputs.model`."""

    def __init__(self, node: Node) -> None:
        self._node = node
        self._refs = {
            name: OutputRef(node, name, spec.type) for name, spec in node.component.outputs.items()
        }

    def __getattr__(self, port: str) -> Any:
        refs = self.__dict__.get("_refs", {})
        if port in refs:
            return refs[port]
        close = difflib.get_close_matches(port, list(refs), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise DefinitionError(
            f"Invalid pipeline definition ({caller_location()}): node {self._node.name!r} has "
            f"no output {port!r}; its outputs are {', '.join(refs) or 'none'}.{hint}"
        )

    def __iter__(self) -> Iterator[OutputRef]:
        return iter(self._refs.values())

    def __dir__(self) -> list[str]:
        return list(self._refs)


class Node:
    """One use of a component: its bound inputs and parameters, its name and options."""

    def __init__(
        self, component: Component[Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]
    ) -> None:
        self.component = component
        self.name = component.name
        self.location = caller_location()
        self.cache = component.cache
        self.resources = component.resources
        self.inputs: dict[str, OutputRef] = {}
        self.resolved_inputs: dict[str, Latest] = {}
        self.parameters: dict[str, Any] = {}
        self.extra_upstream: list[Node] = []
        self.problems: list[Problem] = []
        self.outputs = Outputs(self)
        self._bind(args, dict(kwargs))

    def with_options(
        self,
        *,
        name: str | None = None,
        cache: bool | None = None,
        resources: Resources | None = None,
    ) -> Node:
        """Rename the node (needed when a component is used twice), switch its cache, or set
        what one execution needs (`Resources`, replacing the component's).

        Returns the same node, so it chains: `evaluate(...).with_options(name="eval_b")`.
        """
        if name is not None:
            self.name = name
        if cache is not None:
            self.cache = cache
        if resources is not None:
            self.resources = resources
        return self

    def after(self, *nodes: Node) -> Node:
        """Order this node after `nodes` even though it reads none of their outputs."""
        self.extra_upstream.extend(nodes)
        return self

    @property
    def upstream(self) -> list[Node]:
        """Nodes this one depends on: producers of its inputs, then `after` nodes."""
        seen: dict[int, Node] = {}
        for node in [ref.node for ref in self.inputs.values()] + self.extra_upstream:
            seen.setdefault(id(node), node)
        return list(seen.values())

    def __repr__(self) -> str:
        return f"<node {self.name} ({self.component.name}) at {self.location}>"

    # Binding ------------------------------------------------------------------------------
    def _problem(self, message: str) -> None:
        self.problems.append(Problem(self.location, message))

    def _bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        comp = self.component
        positional = [*comp.inputs]
        if len(args) > len(positional):
            self._problem(
                f"{comp.name}() takes its inputs by position at most ({len(positional)}), "
                f"got {len(args)} positional arguments; pass parameters by keyword."
            )
        for port, value in zip(positional, args, strict=False):
            if port in kwargs:
                self._problem(f"{comp.name}() got input {port!r} twice.")
            kwargs[port] = value
        for key, value in kwargs.items():
            if key in comp.inputs:
                self._bind_input(key, value)
            elif key in comp.parameters:
                self._bind_parameter(key, value)
            elif key in comp.outputs:
                self._problem(
                    f"{comp.name}({key}=...): {key!r} is an output; the runner provides it. "
                    f"Read it from {comp.name}(...).outputs.{key}."
                )
            else:
                known = [*comp.inputs, *comp.parameters]
                close = difflib.get_close_matches(key, known, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                self._problem(
                    f"{comp.name}() got an unknown argument {key!r}; it takes "
                    f"{', '.join(known) or 'no arguments'}.{hint}"
                )
        for port, spec in comp.inputs.items():
            if port not in kwargs and not spec.optional:
                self._problem(
                    f"{comp.name}() is missing its required input {port!r} ({spec.type.type_name})."
                )
        for name, param in comp.parameters.items():
            if name in kwargs:
                continue
            if param.required:
                self._problem(
                    f"{comp.name}() is missing its required parameter {name!r} "
                    f"({describe(param.annotation)})."
                )
            else:
                self.parameters[name] = self._resolve_paths(param.annotation, param.default)
        for name in kwargs:
            condition = comp.parameters[name].applies_to if name in comp.parameters else None
            if condition is not None and name in self.parameters:
                for message in condition.unmet(name, self.parameters):
                    self._problem(f"{comp.name}({name}=...): {message}")

    def _bind_input(self, port: str, value: Any) -> None:
        expected = self.component.inputs[port].type
        if value is None and self.component.inputs[port].optional:
            return
        if isinstance(value, Latest):
            self._bind_resolved(port, value)
            return
        if isinstance(value, OutputRef):
            if issubclass(value.type, expected):
                self.inputs[port] = value
                return
            matching = [ref.port for ref in value.node.outputs if issubclass(ref.type, expected)]
            use = (
                f" Use {value.node.name}(...).outputs.{matching[0]}."
                if matching
                else f" Use the output of a component that produces {expected.type_name}."
            )
            self._problem(
                f"{self.component.name}({port}=...) expects {expected.type_name}, got "
                f"{value.type.type_name} from node {value.node.name!r}.{use}"
            )
            return
        if isinstance(value, Node):
            matching = [ref.port for ref in value.outputs if issubclass(ref.type, expected)]
            use = f" Use {value.name}(...).outputs.{matching[0]}." if matching else ""
            self._problem(
                f"{self.component.name}({port}=...) expects an output ({expected.type_name}), "
                f"got the node {value.name!r} itself.{use}"
            )
            return
        self._problem(
            f"{self.component.name}({port}=...) expects the output of another node "
            f"({expected.type_name}), got {type(value).__name__} {value!r}."
        )

    def _bind_resolved(self, port: str, value: Latest) -> None:
        spec = self.component.inputs[port]
        if not issubclass(value.type, spec.type):
            self._problem(
                f"{self.component.name}({port}={value}) expects {spec.type.type_name}, but "
                f"{value} resolves to {value.type.type_name}."
            )
        elif not spec.optional:
            self._problem(
                f"{self.component.name}({port}={value}): {value} finds nothing on a "
                f"pipeline's first run, so the input must be optional "
                f"({spec.type.type_name} | None = None)."
            )
        else:
            self.resolved_inputs[port] = value

    def _bind_parameter(self, name: str, value: Any) -> None:
        spec = self.component.parameters[name]
        if not matches(spec.annotation, value):
            self._problem(
                parameter_message(self.component.name, name, describe(spec.annotation), value)
            )
            return
        self.parameters[name] = self._resolve_paths(spec.annotation, value)

    def _resolve_paths(self, annotation: Any, value: Any) -> Any:
        """Make relative local paths absolute against the file that declared the node."""
        if not has_path(annotation) or value is None:
            return value
        if isinstance(value, list | tuple):
            return [self._resolve_paths(annotation, item) for item in value]
        if isinstance(value, dict):
            return {key: self._resolve_paths(annotation, item) for key, item in value.items()}
        if isinstance(value, str | Path) and "://" not in str(value):
            return str((self.location.directory / Path(value).expanduser()).resolve())
        return value
