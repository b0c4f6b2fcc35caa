"""Component parameters: which annotations are allowed, and checking values against them.

A parameter is JSON-serialisable: `int`, `float`, `str`, `bool`, `None`, `pathlib.Path`
(a local file or directory, resolved against the declaring file and fingerprinted for the
cache), `list[X]`, `tuple[X, ...]`, `dict[str, X]`, `Literal[...]`, unions of these, `Any`;
each may be `Annotated` with limits and conditions (`shipyard.dsl.constraints`):
`epochs: Annotated[int, Ge(1)] = 10`.
"""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from shipyard.dsl.constraints import AppliesTo, describe_limits, is_declaration, satisfies
from shipyard.errors import InvalidParameterError

_SCALARS: dict[Any, str] = {
    int: "an int",
    float: "a float",
    str: "a str",
    bool: "a bool",
    type(None): "None",
    Path: "a path",
}


def unsupported_reason(annotation: Any, *, top: bool = True) -> str | None:
    """Return why `annotation` cannot type a parameter, or None when it can.

    `top` is False for the parts of an annotation: `AppliesTo` belongs on the whole
    parameter only.
    """
    if annotation is Any or annotation in _SCALARS:
        return None
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Annotated:
        base, *metadata = args
        unknown = [item for item in metadata if not is_declaration(item)]
        if unknown:
            return (
                f"Annotated metadata {unknown[0]!r} is not a limit Shipyard checks; use "
                f"Gt, Ge, Lt, Le, Interval, MinLen, MaxLen, Len (annotated-types) or AppliesTo"
            )
        if not top and any(isinstance(item, AppliesTo) for item in metadata):
            return "AppliesTo must annotate the whole parameter, not a part of its type"
        return unsupported_reason(base, top=False)
    if origin is Literal:
        bad = [a for a in args if not isinstance(a, str | int | float | bool | None)]
        return f"Literal values must be JSON scalars, got {bad!r}" if bad else None
    if origin in (Union, types.UnionType):
        return next((r for a in args if (r := unsupported_reason(a, top=False))), None)
    if origin in (list, tuple):
        inner = [a for a in args if a is not Ellipsis] or [Any]
        return next((r for a in inner if (r := unsupported_reason(a, top=False))), None)
    if origin is dict:
        if args and args[0] is not str:
            return "dict parameters must have str keys (JSON objects)"
        return unsupported_reason(args[1], top=False) if args else None
    return f"{_name(annotation)} is not JSON-serialisable"


def describe(annotation: Any) -> str:
    """Describe an annotation in words: 'an int', 'a list of str', "one of 'a', 'b'"."""
    if annotation is Any:
        return "a JSON value"
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Annotated:
        limits = describe_limits(args[1:])
        return f"{describe(args[0])} {limits}" if limits else describe(args[0])
    if origin is Literal:
        return "one of " + ", ".join(map(repr, args))
    if origin in (Union, types.UnionType):
        return " or ".join(describe(a) for a in args)
    if origin in (list, tuple):
        inner = [a for a in args if a is not Ellipsis]
        return f"a {origin.__name__} of {_plain(inner[0])}" if inner else f"a {origin.__name__}"
    if origin is dict:
        return f"a dict of str to {_plain(args[1])}" if args else "a dict"
    return _name(annotation)


def matches(annotation: Any, value: Any) -> bool:
    """Return whether `value` is of the parameter type `annotation`."""
    if annotation is Any:
        return _is_json(value)
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if annotation is str:
        return isinstance(value, str)
    if annotation is type(None):
        return value is None
    if annotation is Path:
        return isinstance(value, str | Path)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Annotated:
        return matches(args[0], value) and satisfies(args[1:], value)
    if origin is Literal:
        return any(value == a and type(value) is type(a) for a in args)
    if origin in (Union, types.UnionType):
        return any(matches(a, value) for a in args)
    if origin in (list, tuple):
        inner = next((a for a in args if a is not Ellipsis), Any)
        return isinstance(value, list | tuple) and all(matches(inner, v) for v in value)
    if origin is dict:
        inner = args[1] if args else Any
        return isinstance(value, dict) and all(
            isinstance(k, str) and matches(inner, v) for k, v in value.items()
        )
    return False


def applies_to(annotation: Any) -> AppliesTo | None:
    """Return the `AppliesTo` condition declared on a parameter, or None."""
    if typing.get_origin(annotation) is not Annotated:
        return None
    return next((m for m in typing.get_args(annotation)[1:] if isinstance(m, AppliesTo)), None)


def declared_limits(annotation: Any) -> list[Any]:
    """Return the limits declared on a scalar parameter, `X | None` included."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Annotated:
        return [*args[1:], *declared_limits(args[0])]
    values = [a for a in args if a is not type(None)]
    if origin in (Union, types.UnionType) and len(values) == 1:
        return declared_limits(values[0])
    return []


def has_path(annotation: Any) -> bool:
    """Return whether a parameter holds a local path (plain, optional or in a list)."""
    if annotation is Path:
        return True
    return any(has_path(a) for a in typing.get_args(annotation) if a is not Ellipsis)


def invalid_parameter(
    component: str, name: str, expected: str, value: Any
) -> InvalidParameterError:
    """Build the one error every invalid parameter value gets.

    Example:
        >>> invalid_parameter("ingest", "max_rows", "an int >= 1", 0)
        InvalidParameterError("The 'max_rows' parameter of ingest must be an int >= 1. Got 0 ...")
    """
    return InvalidParameterError(parameter_message(component, name, expected, value))


def parameter_message(component: str, name: str, expected: str, value: Any) -> str:
    """Return the message of `invalid_parameter`."""
    shown = (
        repr(value)
        if isinstance(value, str | int | float | bool | None)
        else f"a {type(value).__name__}"
    )
    if isinstance(value, str):
        shown = f"{value!r} (a str)"
    return f"The {name!r} parameter of {component} must be {expected}. Got {shown} instead."


def _is_json(value: Any) -> bool:
    if value is None or isinstance(value, str | int | float | bool):
        return True
    if isinstance(value, list | tuple):
        return all(map(_is_json, value))
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_json(v) for k, v in value.items())
    return False


def _plain(annotation: Any) -> str:
    return describe(annotation).removeprefix("an ").removeprefix("a ")


def _name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or repr(annotation)


def call_value(annotation: Any, value: Any) -> Any:
    """Convert a recorded parameter value to what the function receives (paths as `Path`)."""
    if value is None or not has_path(annotation):
        return value
    if typing.get_origin(annotation) is Annotated:
        return call_value(typing.get_args(annotation)[0], value)
    if annotation is Path:
        return Path(value)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (Union, types.UnionType) and str not in args and isinstance(value, str):
        return Path(value)
    if origin in (list, tuple) and args and _bare(args[0]) is Path:
        return [Path(item) for item in value]
    if origin is dict and len(args) == 2 and _bare(args[1]) is Path:
        return {key: Path(item) for key, item in value.items()}
    return value


def _bare(annotation: Any) -> Any:
    """Return `annotation` without its `Annotated` limits."""
    if typing.get_origin(annotation) is Annotated:
        return typing.get_args(annotation)[0]
    return annotation
