"""No garbage collection while a `shipyard` command starts.

A command's start-up is mostly imports (Typer, SQLAlchemy, Rich, Shipyard's own modules):
hundreds of thousands of new objects, nearly all kept for the process's life, so the cyclic
collector's passes over them (about 135 in a fully cached `shipyard run`) find almost nothing
to free. They cost about 0.07 s of that rerun's 0.55 s of CPU (`docs/benchmarks/speed11.md`).
Raising the collector's threshold instead does not help: fewer, larger passes traverse as many
objects.

`pause_collection` switches the collector off while the command starts. `resume_collection`,
called where the work that allocates and frees begins (a run's nodes, any other command's
body), first moves every object alive to the collector's permanent generation (`gc.freeze`:
the start-up's modules, classes and functions are never traversed again, which also makes
every later collection cheaper), then switches the collector back on. The only cost is that
a reference cycle that became garbage during the start-up is never freed.

Code that imports Shipyard as a library never pauses anything (only the `shipyard` command
does), and `resume_collection` without a pause changes nothing; neither does a pause when the
program had switched the collector off itself.
"""

from __future__ import annotations

import gc

_paused: list[bool] = []
"""Holds one value while a pause is in effect."""


def pause_collection() -> None:
    """Switch the cyclic garbage collector off until `resume_collection`; a second pause, or
    one while the collector is already off, does nothing."""
    if not _paused and gc.isenabled():
        gc.disable()
        _paused.append(True)


def resume_collection() -> None:
    """Freeze what the start-up made and switch the collector back on, after a pause."""
    if _paused:
        _paused.clear()
        gc.freeze()
        gc.enable()
