"""Fewer garbage collections while a `shipyard` command starts.

A command's start-up is mostly imports (Typer, SQLAlchemy, Rich, Shipyard's own modules):
hundreds of thousands of new objects, nearly all of them kept for the process's life, so the
cyclic collector's passes over them (one every 700 new container objects by default) find
almost nothing to free. For a fully cached `shipyard run` those passes cost about 0.04 s of
its 0.55 s of CPU (`docs/benchmarks/speed11.md`).

`pause_collection` raises the collector's first threshold while the command starts;
`resume_collection` puts back the thresholds it found, once the work that allocates and frees
(a run's nodes, a server's requests) begins. The collector is never switched off: if a
command does not resume it, collections still happen, only less often, so memory stays bounded.
Code that imports Shipyard as a library never pauses anything (only the `shipyard` command
does), and `resume_collection` without a pause changes nothing.
"""

from __future__ import annotations

import gc

STARTUP_THRESHOLD = 100_000
"""New container objects between two young-generation collections while a command starts."""

_saved: list[tuple[int, ...]] = []
"""The thresholds found by the pause in effect, if any."""


def pause_collection() -> None:
    """Collect the youngest generation every `STARTUP_THRESHOLD` new objects, not every 700.

    The thresholds found are kept for `resume_collection`; a second pause keeps the first's.
    """
    if not _saved:
        _saved.append(gc.get_threshold())
        gc.set_threshold(STARTUP_THRESHOLD, *_saved[0][1:])


def resume_collection() -> None:
    """Put back the thresholds `pause_collection` found; nothing happens without a pause."""
    if _saved:
        gc.set_threshold(*_saved.pop())
