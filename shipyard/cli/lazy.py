"""Commands imported only when they run: `shipyard --help` loads no command module.

Each command is named with the module that defines it and its one-line summary, the first
sentence of its docstring (`tests/cli/test_lazy.py` checks that they agree). The root
help lists the summaries; `shipyard COMMAND ...` imports that command's module alone, and
builds it with Typer as if it had been registered with `app.command` or `app.add_typer`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from gettext import gettext as _
from typing import TYPE_CHECKING, Any, ClassVar

import typer
from typer.core import TyperCommand, TyperGroup

if TYPE_CHECKING:
    from collections.abc import Sequence

    from typer import _click as click  # Typer vendors Click: its classes are these


@dataclass(frozen=True)
class LazyCommand:
    """A command of the `shipyard` app, loaded on first use.

    Args:
        name: The command's name on the command line.
        target: `module:attribute` of its function, or of its Typer app (a command group).
        summary: The first sentence of its help, listed by `shipyard --help`.
    """

    name: str
    target: str
    summary: str

    def load(self) -> click.Command:
        """Import the command's module and build the command Typer would have built."""
        module_name, attribute = self.target.split(":")
        found = getattr(importlib.import_module(module_name), attribute)
        if isinstance(found, typer.Typer):
            return typer.main.get_group(found)
        single = typer.Typer(add_completion=False, rich_markup_mode=None)
        single.command(self.name)(found)
        return typer.main.get_command(single)


class _Unloaded(TyperCommand):
    """Stands for a lazy command in the group until it is resolved: its name and summary."""

    def __init__(self, entry: LazyCommand) -> None:
        super().__init__(entry.name, help=entry.summary, rich_markup_mode=None)
        self.entry = entry


class LazyGroup(TyperGroup):
    """A Typer group whose commands (`lazy_commands`) are imported when first resolved.

    Until then each stands in the group as its name and summary, so the help lists it and a
    mistyped name is answered with the closest ones, as for commands registered eagerly.
    The app must use `rich_markup_mode=None`: Typer's Rich help resolves every command.
    """

    lazy_commands: ClassVar[Sequence[LazyCommand]] = ()

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for entry in self.lazy_commands:
            self.commands.setdefault(entry.name, _Unloaded(entry))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Return the command named `cmd_name`, importing it the first time."""
        found = self.commands.get(cmd_name)
        if isinstance(found, _Unloaded):
            found = self.commands[cmd_name] = found.entry.load()
        return found

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List every command with its summary, importing none of the lazy ones."""
        shown = [(name, command) for name, command in self.commands.items() if not command.hidden]
        if shown:
            limit = formatter.width - 6 - max(len(name) for name, _ in shown)
            with formatter.section(_("Commands")):
                formatter.write_dl(
                    [(name, command.get_short_help_str(limit)) for name, command in shown]
                )


def lazy_group(commands: Sequence[LazyCommand]) -> type[LazyGroup]:
    """Return a `LazyGroup` class for `typer.Typer(cls=...)` that loads `commands` lazily.

    Example:
        >>> app = typer.Typer(cls=lazy_group([LazyCommand("run", "shipyard.cli.run:run_command",
        ...     "Run a pipeline.")]))
    """
    attributes: dict[str, Any] = {"lazy_commands": tuple(commands)}
    return type("ShipyardGroup", (LazyGroup,), attributes)
