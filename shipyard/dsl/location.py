"""Where in the user's code a component, node or pipeline was declared."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

_DSL_DIR = str(Path(__file__).resolve().parent)
_FRAMEWORK_DIRS = (_DSL_DIR, str(Path(__file__).resolve().parent.parent / "pipelines"))
"""Frames in these directories are Shipyard's wiring, not the user's call site: the DSL and
the standard pipelines (`shipyard.pipelines`), whose nodes belong to the file calling them."""


@dataclass(frozen=True)
class SourceLocation:
    """A file and line in the user's code."""

    file: str
    line: int

    @property
    def directory(self) -> Path:
        """The directory relative paths declared here resolve against (cwd in a notebook)."""
        path = Path(self.file)
        return path.resolve().parent if path.is_file() else Path.cwd()

    def __str__(self) -> str:
        return f"{_display_path(self.file)}, line {self.line}"


def caller_location() -> SourceLocation:
    """Return the innermost frame outside `shipyard.dsl` and `shipyard.pipelines`: the user's
    call site."""
    frame = sys._getframe(1)
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_FRAMEWORK_DIRS):
        frame = frame.f_back
    return SourceLocation(frame.f_code.co_filename, frame.f_lineno)


def _display_path(file: str) -> str:
    path = Path(file)
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return file
