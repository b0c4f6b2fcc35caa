"""Command-line options whose limits come from a component parameter's declaration.

`shipyard train --epochs 0` fails with the same limit as `train(epochs=0)` in a pipeline
file: the option reads `train`'s `Annotated[int, Ge(1)]`, so the limit is declared once. The
component is imported when a value is checked, not when the CLI starts.
"""

from __future__ import annotations

import importlib
from functools import cached_property
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from collections.abc import Callable

    from shipyard.dsl import ParameterSpec


class ComponentParameter:
    """A Typer `parser=` that parses the text with `base`, then checks the declaration.

    Args:
        component: Where the component is, as `module:attribute`.
        parameter: The parameter's name.
        base: Parses the text (`int`, `float`).

    Example:
        >>> epochs: Annotated[int, typer.Option(
        ...     parser=ComponentParameter("shipyard.components:train", "epochs", int))] = 50
    """

    def __init__(self, component: str, parameter: str, base: Callable[[str], Any]) -> None:
        self.component = component
        self.parameter = parameter
        self.base = base
        self.__name__ = base.__name__  # Typer shows it as the metavar: INT, FLOAT

    @cached_property
    def annotation(self) -> Any:
        """The parameter's type without `None`: an option given on the command line is set."""
        import types
        import typing

        hint = self.spec.annotation
        if typing.get_origin(hint) in (typing.Union, types.UnionType):
            kept = [a for a in typing.get_args(hint) if a is not type(None)]
            hint = kept[0] if len(kept) == 1 else hint
        return hint

    @cached_property
    def spec(self) -> ParameterSpec:
        """The parameter's declaration, read from the component."""
        module_name, _, attribute = self.component.partition(":")
        component = getattr(importlib.import_module(module_name), attribute)
        spec: ParameterSpec = component.parameters[self.parameter]
        return spec

    def __call__(self, text: str) -> Any:
        """Parse `text`, then check it against the declaration.

        Raises:
            typer.BadParameter: The text does not parse, or the value breaks a limit.
        """
        from shipyard.dsl.parameters import describe, matches

        try:
            value = self.base(text)
        except ValueError:
            raise typer.BadParameter(f"{text!r} is not {describe(self.annotation)}.") from None
        if not matches(self.annotation, value):
            owner = self.component.rpartition(":")[2]
            raise typer.BadParameter(
                f"{text} is not {describe(self.annotation)} (the limit {owner} declares "
                f"on its {self.parameter!r} parameter)."
            )
        return value
