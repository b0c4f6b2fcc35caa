"""Limits and conditions declared once on a component parameter, inside `Annotated[...]`.

Limits are annotated-types' constraints, the ones pydantic and msgspec read too: `Gt`, `Ge`,
`Lt`, `Le`, `Interval`, `MinLen`, `MaxLen` and `Len`. `AppliesTo` says which values of the
component's other parameters a parameter is meaningful with. The DSL checks both when a
pipeline is built, the runner checks `--param` overrides the same way, and the CLI derives
its option ranges from the same declarations.

Example:
    >>> @component
    ... def train(
    ...     examples: Examples,
    ...     model: Out[Model],
    ...     *,
    ...     estimator: Literal["dnn", "boosted_trees"] = "dnn",
    ...     epochs: Annotated[int, Ge(1), AppliesTo(estimator="dnn")] = 10,
    ...     dropout: Annotated[float, Interval(ge=0, lt=1)] = 0.0,
    ... ) -> None: ...
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from annotated_types import Ge, GroupedMetadata, Gt, Interval, Le, Len, Lt, MaxLen, MinLen

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = [
    "NOT_NONE",
    "AppliesTo",
    "Bounds",
    "Ge",
    "Gt",
    "Interval",
    "Le",
    "Len",
    "Lt",
    "MaxLen",
    "MinLen",
    "bounds",
    "describe_limits",
    "is_declaration",
    "satisfies",
]

_LIMITS = (Gt, Ge, Lt, Le, MinLen, MaxLen)


class _NotNone:
    def __repr__(self) -> str:
        return "NOT_NONE"


NOT_NONE: Any = _NotNone()
"""An `AppliesTo` value: the other parameter is set (is not None)."""


@dataclass(frozen=True, init=False)
class AppliesTo:
    """Declare a parameter meaningful only with given values of the component's others.

    Passing the parameter explicitly while a condition is unmet is an error when the
    pipeline is built, instead of an option the component would silently ignore.

    Args:
        **conditions: Another parameter's name, and the value or tuple of values it must
            have; `None` means it must be unset, `NOT_NONE` that it must be set.

    Example:
        >>> num_trees: Annotated[int, Ge(1), AppliesTo(estimator="boosted_trees")] = 100
        >>> run_fn: Annotated[str, AppliesTo(run_fn_file=NOT_NONE)] = "run_fn"
    """

    conditions: tuple[tuple[str, tuple[Any, ...]], ...]

    def __init__(self, **conditions: Any) -> None:
        pairs = tuple(
            (name, tuple(value) if isinstance(value, tuple) else (value,))
            for name, value in conditions.items()
        )
        object.__setattr__(self, "conditions", pairs)

    def unmet(self, parameter: str, values: Mapping[str, Any]) -> list[str]:
        """Explain each condition the bound `values` break, for the parameter `parameter`.

        Example:
            >>> AppliesTo(estimator="boosted_trees").unmet("num_trees", {"estimator": "dnn"})
            ["'num_trees' applies only to estimator='boosted_trees'; got estimator='dnn'. ..."]
        """
        return [
            f"{parameter!r} applies only {_requirement(name, allowed)}; got "
            f"{name}={values[name]!r}. Remove {parameter}=..., or {_remedy(name, allowed)}."
            for name, allowed in self.conditions
            if name in values and not _allows(allowed, values[name])
        ]

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={allowed[0]!r}" if len(allowed) == 1 else f"{name}={allowed!r}"
            for name, allowed in self.conditions
        )
        return f"AppliesTo({shown})"


@dataclass(frozen=True)
class Bounds:
    """A numeric parameter's declared range, for command-line options and forms.

    Attributes:
        min: The lower bound, or None.
        max: The upper bound, or None.
        min_open: The lower bound itself is excluded (`Gt`).
        max_open: The upper bound itself is excluded (`Lt`).
    """

    min: float | None = None
    max: float | None = None
    min_open: bool = False
    max_open: bool = False


def is_declaration(item: Any) -> bool:
    """Return whether `Annotated` metadata `item` is a limit or condition the DSL reads."""
    return isinstance(item, (*_LIMITS, GroupedMetadata, AppliesTo))


def limits(metadata: Iterable[Any]) -> list[Any]:
    """Return the atomic limits in `metadata` (`Interval` and `Len` split into parts)."""
    found: list[Any] = []
    for item in metadata:
        if isinstance(item, GroupedMetadata):
            found.extend(limits(item))
        elif isinstance(item, _LIMITS):
            found.append(item)
    return found


def satisfies(metadata: Iterable[Any], value: Any) -> bool:
    """Return whether `value` is within every limit in `metadata`."""
    try:
        return all(_within(limit, value) for limit in limits(metadata))
    except TypeError:
        return False


def describe_limits(metadata: Iterable[Any]) -> str:
    """Describe the limits in words: '>= 1', 'in [0, 1)', 'with at least 1 item'."""
    found = bounds(metadata)
    words = []
    if found.min is not None and found.max is not None:
        words.append(
            f"in {'(' if found.min_open else '['}{_number(found.min)}, "
            f"{_number(found.max)}{')' if found.max_open else ']'}"
        )
    elif found.min is not None:
        words.append(f"{'>' if found.min_open else '>='} {_number(found.min)}")
    elif found.max is not None:
        words.append(f"{'<' if found.max_open else '<='} {_number(found.max)}")
    for limit in limits(metadata):
        if isinstance(limit, MinLen):
            words.append(f"with at least {limit.min_length} item(s)")
        elif isinstance(limit, MaxLen):
            words.append(f"with at most {limit.max_length} item(s)")
    return " ".join(words)


def bounds(metadata: Iterable[Any]) -> Bounds:
    """Return the numeric range the limits in `metadata` declare (the tightest of each)."""
    low: tuple[Any, bool] | None = None
    high: tuple[Any, bool] | None = None
    for limit in limits(metadata):
        if isinstance(limit, Ge | Gt):
            lower: tuple[Any, bool] = (
                (limit.ge, False) if isinstance(limit, Ge) else (limit.gt, True)
            )
            if low is None or lower[0] >= low[0]:
                low = lower
        elif isinstance(limit, Le | Lt):
            upper: tuple[Any, bool] = (
                (limit.le, False) if isinstance(limit, Le) else (limit.lt, True)
            )
            if high is None or upper[0] <= high[0]:
                high = upper
    return Bounds(
        min=None if low is None else low[0],
        max=None if high is None else high[0],
        min_open=low is not None and low[1],
        max_open=high is not None and high[1],
    )


def _within(limit: Any, value: Any) -> bool:
    if isinstance(limit, Gt):
        return bool(value > limit.gt)
    if isinstance(limit, Ge):
        return bool(value >= limit.ge)
    if isinstance(limit, Lt):
        return bool(value < limit.lt)
    if isinstance(limit, Le):
        return bool(value <= limit.le)
    size = len(value)
    if isinstance(limit, MinLen):
        return size >= int(limit.min_length)
    return size <= int(limit.max_length)


def _requirement(name: str, allowed: tuple[Any, ...]) -> str:
    if allowed == (None,):
        return f"when {name} is not set"
    if allowed == (NOT_NONE,):
        return f"when {name} is set"
    return "to " + " or ".join(f"{name}={value!r}" for value in allowed)


def _remedy(name: str, allowed: tuple[Any, ...]) -> str:
    if allowed == (None,):
        return f"remove {name}=..."
    if allowed == (NOT_NONE,):
        return f"set {name}=... too"
    return f"set {name}={allowed[0]!r}"


def _allows(allowed: tuple[Any, ...], value: Any) -> bool:
    if allowed == (NOT_NONE,):
        return value is not None
    return any(value == option and type(value) is type(option) for option in allowed)


def _number(value: Any) -> str:
    return format(value, "g") if isinstance(value, float) else str(value)
