"""Event-time windows, tumbling or sliding, counted in panes.

A window of `window_s` starts every `slide_s` seconds, aligned on the epoch (`--window 1h
--slide 15m`: 00:00-01:00, 00:15-01:15, ...); tumbling windows are those whose slide is
their length. Rows are counted once, into **panes** of `gcd(window, slide)` seconds, and a
window's counts are the merge of its panes' (counts add up), so reading costs one count per
row however many windows overlap, and a late row updates every window it falls in.

A window is finished once the watermark passes its end by the lateness. A row is late (and
dropped) when the newest window holding it is finished: its pane starts before
`closed_before_us`, the start of the newest finished window plus the slide. A pane leaves the
state once it is before `closed_before_us`, as no open window holds it any more.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    import numpy as np

MICROS = 1_000_000


@dataclass(frozen=True)
class Windowing:
    """The windows' length and slide, and the panes they are counted in (microseconds)."""

    window_us: int
    slide_us: int

    @classmethod
    def of(cls, window_s: int, slide_s: int | None) -> Windowing:
        """Windows of `window_s` every `slide_s` seconds (None: tumbling)."""
        return cls(window_s * MICROS, (slide_s or window_s) * MICROS)

    @property
    def pane_us(self) -> int:
        """The length of a pane: the largest that tiles both the windows and the slide."""
        return math.gcd(self.window_us, self.slide_us)

    @property
    def sliding(self) -> bool:
        """Whether windows overlap."""
        return self.slide_us != self.window_us

    def pane_starts(self, times_us: np.ndarray) -> np.ndarray:
        """Return the start of each time's pane."""
        starts: np.ndarray = times_us - times_us % self.pane_us
        return starts

    def windows_of(self, pane: int) -> range:
        """Return the starts of the windows that hold a pane, oldest first."""
        newest = pane - pane % self.slide_us
        oldest = pane + self.pane_us - self.window_us
        first = oldest + (-oldest) % self.slide_us  # the first slide at or after `oldest`
        return range(first, newest + 1, self.slide_us)

    def panes_of(self, start: int) -> range:
        """Return the starts of a window's panes."""
        return range(start, start + self.window_us, self.pane_us)

    def windows_of_panes(self, panes: Iterable[int]) -> set[int]:
        """Return the starts of the windows that hold any of `panes`."""
        return {start for pane in panes for start in self.windows_of(pane)}

    def finished(self, start: int, watermark_us: int | None, lateness_us: int) -> bool:
        """Whether the window at `start` is finished: the watermark passed its end by
        the lateness."""
        return watermark_us is not None and start + self.window_us + lateness_us <= watermark_us

    def closed_before(self, start: int) -> int:
        """Return the time before which rows are late once the window at `start` finished."""
        return start + self.slide_us
