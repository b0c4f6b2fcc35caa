"""The command line a user ran, rebuilt from what Click parsed: for resume hints.

Only the arguments and the options the user gave (on the command line or through the
environment) are repeated, each as typed; `replace` swaps in corrected values, so a hint
never repeats a mistake the error just named.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    import typer

PROGRAM = "shipyard"
_GIVEN = ("COMMANDLINE", "ENVIRONMENT")
"""Where a value the user gave comes from (Click's `ParameterSource` names: Typer vendors
its own Click, so the enum itself is not compared)."""


def given_options(ctx: typer.Context) -> set[str]:
    """Return the names of the parameters the user gave (on the command line or in the
    environment), as opposed to those left at their defaults."""
    return {
        name
        for name in ctx.params
        if getattr(ctx.get_parameter_source(name), "name", None) in _GIVEN
    }


def repeat_command(ctx: typer.Context, *, replace: Mapping[str, Any] | None = None) -> str:
    """Return the shell command that runs this command again with the user's options.

    Args:
        ctx: The command's Click context (`typer.Context` in a Typer command).
        replace: Parameter name -> value to use instead of the parsed one (a corrected
            `--label`); a name the user did not give is added.

    Example:
        >>> repeat_command(ctx, replace={"label": "tip"})
        'shipyard train data.csv --label tip --model boosted_trees'
    """
    replace = dict(replace or {})
    names: list[str] = []
    node: Any = ctx
    while node.parent is not None:  # the root's name is how Python was started: skip it
        names.insert(0, node.info_name or "")
        node = node.parent
    words = [PROGRAM, *names]
    for param in ctx.command.params:
        name = param.name or ""
        source = ctx.get_parameter_source(name)
        if name not in replace and getattr(source, "name", None) not in _GIVEN:
            continue
        value = replace.get(name, ctx.params.get(name))
        if param.param_type_name == "argument":
            words.extend(_values(value))
        elif param.param_type_name == "option":
            words.extend(_option_words(param, value))
    return shlex.join(words)


def _option_words(option: Any, value: Any) -> list[str]:
    flag = max(option.opts, key=len)
    if getattr(option, "is_flag", False):
        if value:
            return [flag]
        return [max(option.secondary_opts, key=len)] if option.secondary_opts else []
    return [word for item in _values(value) for word in (flag, item)]


def _values(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return [str(value)]
