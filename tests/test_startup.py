"""No collection while a command starts (`shipyard._startup`); the collector comes back on."""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

import pytest

from shipyard._startup import pause_collection, resume_collection

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture(autouse=True)
def _collector() -> Iterator[None]:
    """The suite's collector as it was, unfrozen, after each test."""
    was_enabled = gc.isenabled()
    gc.enable()
    gc.unfreeze()
    yield
    resume_collection()
    gc.unfreeze()
    if not was_enabled:
        gc.disable()


def test_a_pause_switches_the_collector_off_until_resumed() -> None:
    pause_collection()
    assert not gc.isenabled()
    resume_collection()
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0  # what the start-up made is never traversed again


def test_a_second_pause_is_undone_by_one_resume() -> None:
    pause_collection()
    pause_collection()
    resume_collection()
    assert gc.isenabled()


def test_resuming_without_a_pause_changes_nothing() -> None:
    resume_collection()
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_a_program_that_switched_the_collector_off_keeps_it_off() -> None:
    gc.disable()
    pause_collection()
    resume_collection()
    assert not gc.isenabled()
    assert gc.get_freeze_count() == 0
