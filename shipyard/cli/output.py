"""Printing for the CLI: JSON for scripts, Rich on a terminal, errors as headlines."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import traceback
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from collections.abc import Iterator

    from rich.console import Console

    from shipyard.errors import ShipyardError

EXIT_FAILED = 1
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a Ctrl-C


def console(*, stderr: bool = False) -> Console:
    """Return a Rich console on stdout (or stderr)."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def print_json(value: Any) -> None:
    """Print `value` as indented JSON on stdout."""
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")


def print_error(error: ShipyardError) -> None:
    """Print a Shipyard error as its headline and message, without our traceback."""
    from rich.markup import escape

    message = str(error)
    text = message if message.startswith(error.headline) else f"{error.headline}: {message}"
    console(stderr=True).print(f"[bold red]Error[/]: {escape(text)}")


def print_internal_error(error: BaseException) -> None:
    """Print an unexpected exception: it is a bug in Shipyard."""
    sys.stderr.write("".join(traceback.format_exception(error)))
    sys.stderr.write(
        "Internal error: please report it, with the traceback above, "
        "to the Shipyard issue tracker.\n"
    )


def exit_interrupted() -> NoReturn:
    """Print "Interrupted." and exit 130 at once, never waiting for a node's thread."""
    sys.stderr.write("Interrupted.\n")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(EXIT_INTERRUPTED)


@contextlib.contextmanager
def exit_on_interrupt() -> Iterator[None]:
    """Turn a `KeyboardInterrupt` from the block (a run stopped by Ctrl-C) into exit 130.

    Click would turn it into "Aborted!" and exit 1, then wait for the run's threads.
    """
    try:
        yield
    except KeyboardInterrupt:
        exit_interrupted()
