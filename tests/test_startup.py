"""Fewer collections while a command starts (`shipyard._startup`): the thresholds come back."""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

import pytest

from shipyard._startup import STARTUP_THRESHOLD, pause_collection, resume_collection

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture(autouse=True)
def _thresholds() -> Iterator[tuple[int, ...]]:
    """Custom thresholds for the test, and the suite's own put back after it."""
    before = gc.get_threshold()
    gc.set_threshold(500, 7, 9)
    yield gc.get_threshold()
    resume_collection()
    gc.set_threshold(*before)


def test_a_pause_raises_only_the_first_threshold_and_the_collector_stays_on() -> None:
    pause_collection()
    assert gc.get_threshold() == (STARTUP_THRESHOLD, 7, 9)
    assert gc.isenabled()


def test_resuming_puts_back_the_thresholds_found_once() -> None:
    pause_collection()
    pause_collection()  # a second pause must not save the raised threshold as the one to restore
    resume_collection()
    assert gc.get_threshold() == (500, 7, 9)
    gc.set_threshold(600, 7, 9)  # set by the program after the start-up
    resume_collection()
    assert gc.get_threshold() == (600, 7, 9)


def test_resuming_without_a_pause_changes_nothing() -> None:
    resume_collection()
    assert gc.get_threshold() == (500, 7, 9)
