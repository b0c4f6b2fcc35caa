"""The `@component` decorator: a plain typed function becomes a pipeline building block.

Inputs are parameters typed with an `Artifact` subclass (`X | None` for optional ones),
outputs are typed `Out[T]`, and everything after `*` is a JSON-serialisable parameter.
Calling a component returns a `Node`; `.fn` is the plain function, for unit tests.
"""

from __future__ import annotations

import hashlib
import inspect
import marshal
import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property, update_wrapper
from typing import TYPE_CHECKING, Annotated, Any, Generic, ParamSpec, TypeVar, overload

from shipyard.artifacts import Artifact
from shipyard.dsl.constraints import NOT_NONE, AppliesTo, Bounds, bounds
from shipyard.dsl.location import SourceLocation
from shipyard.dsl.parameters import (
    applies_to,
    declared_limits,
    has_path,
    matches,
    unsupported_reason,
)
from shipyard.errors import DefinitionError

if TYPE_CHECKING:
    from shipyard.dsl.node import Node
    from shipyard.dsl.resources import Resources

P = ParamSpec("P")
T = TypeVar("T", bound=Artifact)


class _OutputMarker:
    def __repr__(self) -> str:
        return "Out"


OUTPUT = _OutputMarker()
Out = Annotated[T, OUTPUT]
"""Marks a parameter as an output: `statistics: Out[Statistics]`. The runner passes an empty
artifact whose directory the component fills; it is published when the component returns."""

REQUIRED: Any = inspect.Parameter.empty

DependsOn = Callable[[Mapping[str, Any]], Any]
"""Returns, from a node's parameters, a JSON value of the external state its result reads."""

_MODULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


@dataclass(frozen=True)
class InputSpec:
    """An input port: an artifact produced by an upstream node."""

    name: str
    type: type[Artifact]
    optional: bool


@dataclass(frozen=True)
class OutputSpec:
    """An output port: an artifact this component writes."""

    name: str
    type: type[Artifact]


@dataclass(frozen=True)
class ParameterSpec:
    """A keyword-only, JSON-serialisable parameter; part of the cache key."""

    name: str
    annotation: Any
    default: Any = REQUIRED

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    @property
    def applies_to(self) -> AppliesTo | None:
        """The other parameters' values this one is meaningful with, if declared."""
        return applies_to(self.annotation)

    @property
    def bounds(self) -> Bounds:
        """The declared numeric range (`Ge`, `Lt`, ...), for command-line options and forms.

        Example:
            >>> train.parameters["dropout"].bounds
            Bounds(min=0, max=1, min_open=False, max_open=True)
        """
        return bounds(declared_limits(self.annotation))


class Component(Generic[P]):
    """A typed function declared with `@component`. Call it to make a `Node`."""

    def __init__(
        self,
        fn: Callable[P, None],
        *,
        name: str | None = None,
        version: str | None = None,
        cache: bool = True,
        depends_on: DependsOn | None = None,
        writes: tuple[str, ...] = (),
        resources: Resources | None = None,
        preload: tuple[str, ...] = (),
    ) -> None:
        self.fn = fn
        self.resources = resources
        self.preload = tuple(preload)
        self.name = name or fn.__name__
        self.version = version
        self.cache = cache
        self.depends_on = depends_on
        self.writes = writes
        code = fn.__code__
        self.location = SourceLocation(code.co_filename, code.co_firstlineno)
        self.inputs, self.outputs, self.parameters = _read_signature(self)
        wrong = [
            n
            for n in writes
            if n not in self.parameters or not has_path(self.parameters[n].annotation)
        ]
        if wrong:
            raise DefinitionError(
                f"Invalid component {self.name!r} ({self.location}): writes= names "
                f"{', '.join(map(repr, wrong))}, which must be Path parameters."
            )
        if isinstance(preload, str) or not all(
            isinstance(m, str) and _MODULE_NAME.match(m) for m in preload
        ):
            raise DefinitionError(
                f"Invalid component {self.name!r} ({self.location}): preload= takes a tuple of "
                f"module names such as ('torch', 'onnxruntime'); got {preload!r}."
            )
        update_wrapper(self, fn)

    def __call__(self, *args: Any, **kwargs: Any) -> Node:
        """Make a node. Arguments are checked when the `Pipeline` is built, not by mypy: a
        call passes outputs of other nodes for inputs, leaves the outputs out, and gives
        paths as `str`, none of which the function's own signature (`.fn`) allows."""
        from shipyard.dsl.node import Node

        return Node(self, args, kwargs)

    def applicable(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Return the `values` whose `AppliesTo` conditions hold, the defaults filling in.

        For callers that hold one set of options for every variant, such as a command line
        with defaults for every estimator; a pipeline passing an option that does not
        apply fails when built instead.

        Example:
            >>> train.applicable({"estimator": "boosted_trees", "epochs": 5, "num_trees": 50})
            {'estimator': 'boosted_trees', 'num_trees': 50}
        """
        bound = {n: p.default for n, p in self.parameters.items() if not p.required}
        bound.update(values)
        return {
            name: value
            for name, value in values.items()
            if name not in self.parameters
            or (condition := self.parameters[name].applies_to) is None
            or not condition.unmet(name, bound)
        }

    @cached_property
    def fingerprint(self) -> str:
        """A hash of the component's code, name and version: changes invalidate the cache."""
        digest = hashlib.sha256()
        digest.update(f"{self.name}\0{self.version or ''}\0".encode())
        try:
            digest.update(inspect.getsource(self.fn).encode("utf-8"))
        except (OSError, TypeError):
            digest.update(marshal.dumps(self.fn.__code__))
        if self.fn.__module__.startswith("shipyard."):
            from shipyard._version import __version__

            digest.update(__version__.encode())
        return digest.hexdigest()

    def __repr__(self) -> str:
        return f"<component {self.name} ({self.location})>"


@overload
def component(fn: Callable[P, None], /) -> Component[P]: ...


@overload
def component(
    *,
    name: str | None = None,
    version: str | None = None,
    cache: bool = True,
    depends_on: DependsOn | None = None,
    writes: tuple[str, ...] = (),
    resources: Resources | None = None,
    preload: tuple[str, ...] = (),
) -> Callable[[Callable[P, None]], Component[P]]: ...


def component(
    fn: Callable[P, None] | None = None,
    /,
    *,
    name: str | None = None,
    version: str | None = None,
    cache: bool = True,
    depends_on: DependsOn | None = None,
    writes: tuple[str, ...] = (),
    resources: Resources | None = None,
    preload: tuple[str, ...] = (),
) -> Component[P] | Callable[[Callable[P, None]], Component[P]]:
    """Declare a component from a typed function.

    Args:
        fn: The function; inputs typed with `Artifact` subclasses, outputs with `Out[T]`,
            keyword-only JSON-serialisable parameters after `*`.
        name: The component's name (default: the function's name).
        version: Bump it to invalidate cached results when code the function calls changed.
        cache: Set False for components whose results must never be reused.
        depends_on: A function of the parameters returning what else the result depends on
            (the files a glob matches, the latest span, a table's modification time), as a
            JSON value. It runs before each execution and is part of the cache key, so new
            data invalidates the cache even when the parameters are unchanged.
        writes: `Path` parameters naming where the component writes outside its outputs
            (the pusher's model repository): resolved like every path, but unlike paths it
            reads, their content is not part of the cache key.
        resources: What one execution needs (CPUs, GPUs, memory), for engines that place
            nodes (Ray) and compiled pipelines (Kubeflow); `Node.with_options` overrides it.
        preload: Modules the function imports that take long to import (`torch`). When
            a node upstream of it executes, the default `threads` engine starts a worker
            process that imports them meanwhile, and runs the node there
            (docs/engines.md, "Warm worker"). Never part of the cache key.

    Raises:
        DefinitionError: The signature breaks a rule; every problem is listed.

    Example:
        >>> @component
        ... def count_rows(examples: Examples, metrics: Out[Metrics], *, split: str = "a") -> None:
        ...     metrics.save({"rows": examples.read(split).num_rows})
    """

    def decorate(function: Callable[P, None]) -> Component[P]:
        return Component(
            function,
            name=name,
            version=version,
            cache=cache,
            depends_on=depends_on,
            writes=writes,
            resources=resources,
            preload=preload,
        )

    return decorate if fn is None else decorate(fn)


def _read_signature(
    comp: Component[Any],
) -> tuple[dict[str, InputSpec], dict[str, OutputSpec], dict[str, ParameterSpec]]:
    fn = comp.fn
    problems: list[str] = []
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
    except Exception as exc:
        raise DefinitionError(
            f"Invalid component {comp.name!r} ({comp.location}): cannot evaluate its type "
            f"hints: {exc}. Import every type the signature names."
        ) from exc
    inputs: dict[str, InputSpec] = {}
    outputs: dict[str, OutputSpec] = {}
    parameters: dict[str, ParameterSpec] = {}
    for param in inspect.signature(fn).parameters.values():
        where = f"{param.name!r}"
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            problems.append(f"*args and **kwargs are not allowed ({param}); declare each one.")
            continue
        if param.name not in hints:
            problems.append(f"{where} has no type annotation.")
            continue
        hint = hints[param.name]
        output_type = _output_type(hint)
        if output_type is not None:
            if param.default is not param.empty:
                problems.append(f"output {where} must not have a default.")
            outputs[param.name] = OutputSpec(param.name, output_type)
            continue
        input_type, optional = _input_type(hint)
        if input_type is not None:
            if optional and param.default is not None:
                problems.append(f"optional input {where} must default to None.")
            inputs[param.name] = InputSpec(param.name, input_type, optional)
            continue
        if param.kind is not param.KEYWORD_ONLY:
            problems.append(
                f"parameter {where} must be keyword-only: put it after '*' (inputs and "
                f"outputs come first)."
            )
        reason = unsupported_reason(hint)
        if reason is not None:
            problems.append(f"parameter {where} has an unsupported type: {reason}.")
        elif param.default is not param.empty and not matches(hint, param.default):
            problems.append(
                f"the default of parameter {where} ({param.default!r}) is not of its type."
            )
        parameters[param.name] = ParameterSpec(param.name, hint, param.default)
    problems.extend(_condition_problems(parameters))
    returns = hints.get("return", None)
    if returns is not None and returns is not type(None):
        problems.append("a component returns None: write results to its Out[...] parameters.")
    if problems:
        raise DefinitionError(
            f"Invalid component {comp.name!r} ({comp.location}):\n"
            + "\n".join(f"  {p}" for p in problems),
            problems=problems,
        )
    return inputs, outputs, parameters


def _condition_problems(parameters: Mapping[str, ParameterSpec]) -> list[str]:
    """Check that `AppliesTo` conditions name other parameters, with values of their type."""
    problems = []
    for spec in parameters.values():
        condition = spec.applies_to
        for name, allowed in condition.conditions if condition is not None else ():
            other = parameters.get(name)
            if other is None or other is spec:
                problems.append(
                    f"parameter {spec.name!r}: AppliesTo names {name!r}, which is not another "
                    f"parameter; it takes {', '.join(n for n in parameters if n != spec.name)}."
                )
            elif any(v is not NOT_NONE and not matches(other.annotation, v) for v in allowed):
                problems.append(
                    f"parameter {spec.name!r}: AppliesTo({name}={allowed!r}) lists a value "
                    f"that {name!r} cannot take."
                )
    return problems


def _output_type(hint: Any) -> type[Artifact] | None:
    if typing.get_origin(hint) is not Annotated:
        return None
    base, *extras = typing.get_args(hint)
    if not any(extra is OUTPUT for extra in extras):
        return None
    if not (isinstance(base, type) and issubclass(base, Artifact)):
        raise DefinitionError(f"Out[...] takes an Artifact subclass, got {base!r}.")
    return base


def _input_type(hint: Any) -> tuple[type[Artifact] | None, bool]:
    if isinstance(hint, type) and issubclass(hint, Artifact):
        return hint, False
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1 and isinstance(args[0], type) and issubclass(args[0], Artifact):
            return args[0], True
    return None, False
