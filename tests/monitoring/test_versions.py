"""Logs of several model versions against the training statistics found through lineage."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa
import pytest

from shipyard.components.statistics import compute_dataset_statistics
from shipyard.errors import InvalidParameterError
from shipyard.monitoring.monitor import MonitorOptions
from shipyard.monitoring.versions import FoundReference
from tests.monitoring.logs import features, write_log
from tests.monitoring.runs import monitored

if TYPE_CHECKING:
    from pathlib import Path

    from shipyard.runners import Project


def _lineage(keys: dict[int, str]) -> object:
    """Versions by their statistics' key; each key's statistics are different data."""
    found: list[tuple[str, int]] = []

    def find(model: str, version: int) -> FoundReference:
        found.append((model, version))
        key = keys[version]
        table = pa.table(features(5000, seed=int(key)))
        return FoundReference(compute_dataset_statistics(table), f"statistics #{key}", key)

    find.calls = found  # type: ignore[attr-defined]
    return find


def _options(tmp_path: Path, find: object) -> MonitorOptions:
    return MonitorOptions(logs=str(tmp_path / "logs"), name="taxi", find_reference=find)  # type: ignore[arg-type]


def _log(tmp_path: Path, version: int, hour: int, seed: int) -> None:
    columns = {"version": pa.array([version] * 3000, pa.int64())}
    write_log(tmp_path / "logs" / "taxi" / str(version), hour, seed=seed, columns=columns)


def test_versions_trained_from_different_statistics_are_refused_by_name(
    tmp_path: Path, project: Project
) -> None:
    _log(tmp_path, 3, 0, seed=1)
    _log(tmp_path, 4, 0, seed=2)
    with pytest.raises(InvalidParameterError) as refused:
        monitored(_options(tmp_path, _lineage({3: "12", 4: "40"})), project)
    message = str(refused.value)
    assert "taxi/3: statistics #12; taxi/4: statistics #40" in message
    assert "under its own --name" in message and "--reference DATA" in message


def test_versions_trained_from_the_same_statistics_share_the_reference(
    tmp_path: Path, project: Project
) -> None:
    _log(tmp_path, 3, 0, seed=1)
    _log(tmp_path, 4, 1, seed=2)
    report = monitored(_options(tmp_path, _lineage({3: "12", 4: "12"})), project)
    assert report.files_read == 2 and report.skipped == []
    assert report.reference.source == "statistics #12"
    assert [w.versions for w in report.windows] == [{"taxi/3": 3000}, {"taxi/4": 3000}]


def test_a_later_version_trained_from_other_statistics_is_skipped_and_listed(
    tmp_path: Path, project: Project
) -> None:
    find = _lineage({3: "12", 4: "40"})
    _log(tmp_path, 3, 0, seed=1)
    monitored(_options(tmp_path, find), project)
    _log(tmp_path, 4, 1, seed=2)
    _log(tmp_path, 3, 1, seed=3)
    report = monitored(_options(tmp_path, find), project)
    assert report.files_read == 1  # hour 0 finishes, hour 1 opens: both of taxi/3 only
    assert [w.versions for w in report.windows] == [{"taxi/3": 3000}] * 2
    (skipped,) = report.skipped
    assert skipped.path.startswith("taxi/4/") and skipped.new
    assert "requests of taxi/4, trained from other statistics" in skipped.reason
    assert "(statistics #12)" in skipped.reason
    again = monitored(_options(tmp_path, find), project)
    assert [s.new for s in again.skipped] == [False]
    assert find.calls == [("taxi", 3), ("taxi", 4)]  # type: ignore[attr-defined]
