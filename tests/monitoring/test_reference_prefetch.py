"""The reference computed ahead on a thread while the store opens (`ReferencePrefetch`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from shipyard.errors import DataError
from shipyard.monitoring import monitor as monitor_module
from shipyard.monitoring.monitor import MonitorOptions
from shipyard.monitoring.reference_data import ReferencePrefetch, compute_reference
from tests.monitoring.logs import write_log
from tests.monitoring.runs import monitored

if TYPE_CHECKING:
    from pathlib import Path

    from shipyard.runners import Project


def _options(logs: Path, reference: Path, *, prefetch: bool) -> MonitorOptions:
    ahead = ReferencePrefetch(str(reference), None, "timestamp") if prefetch else None
    return MonitorOptions(
        logs=str(logs.parent.parent), name="taxi", reference=str(reference), prefetch=ahead
    )


def test_the_prefetched_reference_is_the_computed_one(reference: Path) -> None:
    ahead = ReferencePrefetch(str(reference), None, "timestamp")
    assert (
        ahead.result().to_json() == compute_reference(str(reference), None, "timestamp").to_json()
    )


def test_a_reference_that_cannot_be_read_fails_in_the_callers_thread(tmp_path: Path) -> None:
    ahead = ReferencePrefetch(str(tmp_path / "gone.parquet"), None, "timestamp")
    with pytest.raises(DataError, match=r"gone\.parquet"):
        ahead.result()


def test_a_cancelled_prefetch_still_answers_if_asked_after_all(reference: Path) -> None:
    ahead = ReferencePrefetch(str(reference), None, "timestamp")
    ahead.cancel()
    assert (
        ahead.result().to_json() == compute_reference(str(reference), None, "timestamp").to_json()
    )


def test_a_monitor_uses_the_prefetch_and_a_rerun_whose_state_has_the_reference_cancels_it(
    logs: Path, reference: Path, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_log(logs, 0, seed=10)
    computed: list[str] = []
    monkeypatch.setattr(  # the monitor's own computation, which a prefetch spares
        monitor_module, "compute_reference", lambda *args: computed.append("again")
    )
    first = _options(logs, reference, prefetch=True)
    report = monitored(first, project)
    assert first.prefetch is not None and not first.prefetch.cancelled
    assert computed == [] and report.windows[0].findings == []
    write_log(logs, 1, seed=11, shift=0.5)
    rerun = _options(logs, reference, prefetch=True)
    second = monitored(rerun, project)
    assert rerun.prefetch is not None and rerun.prefetch.cancelled
    assert computed == []
    assert second.windows[-1].start_us == report.windows[0].start_us + 3_600_000_000
    assert [{f.column for f in w.findings} for w in second.windows] == [set(), {"x"}]
