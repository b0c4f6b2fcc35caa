"""Windows counted in panes: which windows hold a pane, which panes make a window."""

from __future__ import annotations

import numpy as np

from shipyard.monitoring.windows import Windowing

HOUR = 3_600_000_000
MINUTE = 60_000_000


def test_tumbling_windows_are_their_own_single_pane() -> None:
    tumbling = Windowing.of(3600, None)
    assert not tumbling.sliding and tumbling.pane_us == HOUR
    assert list(tumbling.windows_of(5 * HOUR)) == [5 * HOUR]
    assert list(tumbling.panes_of(5 * HOUR)) == [5 * HOUR]
    assert tumbling.closed_before(5 * HOUR) == 6 * HOUR


def test_a_pane_is_in_every_window_that_covers_it() -> None:
    sliding = Windowing.of(3600, 900)  # 1h every 15m: panes of 15m, 4 per window
    assert sliding.pane_us == 15 * MINUTE
    pane = 10 * HOUR + 30 * MINUTE
    starts = list(sliding.windows_of(pane))
    assert starts == [pane - 45 * MINUTE, pane - 30 * MINUTE, pane - 15 * MINUTE, pane]
    for start in starts:
        assert pane in sliding.panes_of(start)
    assert len(sliding.panes_of(pane)) == 4
    # a row is late once its newest window finished
    assert sliding.closed_before(pane) == pane + 15 * MINUTE


def test_a_slide_that_does_not_divide_the_window_uses_smaller_panes() -> None:
    odd = Windowing.of(3600, 1500)  # 1h every 25m: panes of 5m
    assert odd.pane_us == 5 * MINUTE
    times = np.array([0, 7 * MINUTE, 61 * MINUTE])
    assert list(odd.pane_starts(times)) == [0, 5 * MINUTE, 60 * MINUTE]
    for pane in range(0, 3 * HOUR, odd.pane_us):
        starts = range(-3 * odd.slide_us, 3 * HOUR, odd.slide_us)  # multiples of the slide
        holders = [s for s in starts if s <= pane < s + HOUR]
        assert list(odd.windows_of(pane)) == holders


def test_a_window_is_finished_once_the_watermark_passes_its_end_by_the_lateness() -> None:
    sliding = Windowing.of(3600, 900)
    assert not sliding.finished(0, None, 0)
    assert not sliding.finished(0, HOUR + 10 * MINUTE - 1, 10 * MINUTE)
    assert sliding.finished(0, HOUR + 10 * MINUTE, 10 * MINUTE)
