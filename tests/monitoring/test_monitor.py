"""`run_monitor`: windows, drift against the reference, incremental reruns, late rows."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shipyard.artifacts import DataSchema
from shipyard.errors import InvalidParameterError
from shipyard.monitoring import counts as counts_module
from shipyard.monitoring.monitor import MonitorOptions
from tests.monitoring.logs import HOUR_US, T0, write_log
from tests.monitoring.runs import monitored, stored_state

if TYPE_CHECKING:
    from pathlib import Path

    from shipyard.runners import Project


def options(logs: Path, reference: Path | None, **changes: object) -> MonitorOptions:
    return MonitorOptions(
        logs=str(logs.parent.parent),
        name="taxi",
        reference=None if reference is None else str(reference),
        **changes,  # type: ignore[arg-type]
    )


def kinds(report_window: object) -> set[str]:
    return {f"{f.kind} {f.column}" for f in report_window.findings}  # type: ignore[attr-defined]


def test_a_shifted_window_is_flagged_and_unshifted_ones_are_not(
    logs: Path, reference: Path, project: Project
) -> None:
    write_log(logs, 0, seed=10)
    write_log(logs, 1, seed=11, shift=0.5)
    write_log(logs, 2, seed=12, colors=[0.3, 0.3, 0.4])
    report = monitored(options(logs, reference), project)
    assert [w.start_us for w in report.windows] == [T0, T0 + HOUR_US, T0 + 2 * HOUR_US]
    assert [w.complete for w in report.windows] == [True, True, False]
    first, shifted, recolored = report.windows
    assert kinds(first) == set()
    assert kinds(shifted) == {"drift x"}
    assert kinds(recolored) == {"drift color"}
    assert shifted.columns["x"].comparator == "wasserstein" and shifted.columns["x"].drift > 0.2
    assert first.columns["x"].drift < 0.02 and first.columns["y"].drift < 0.02
    assert recolored.columns["color"].comparator == "linf"
    assert recolored.columns["color"].drift == pytest.approx(0.2, abs=0.03)
    assert shifted.rows == 3000 and shifted.requests == 1500
    assert shifted.versions == {"taxi/3": 3000}
    assert shifted.drifted_share == pytest.approx(1 / 3)  # x of x, y, color; not outputs
    assert report.new_columns == [] and report.absent_columns == []
    assert {a["labels"]["column"] for a in report.firing} == {"color"}
    notes = [(a["status"], a["labels"]["column"]) for a in report.notifications]
    assert notes == [("firing", "x"), ("firing", "color"), ("resolved", "x")]


def test_a_rerun_reads_only_new_files_and_never_counts_a_window_twice(
    logs: Path, reference: Path, project: Project
) -> None:
    write_log(logs, 0, 2000, seed=1)
    first = monitored(options(logs, reference), project)
    assert first.files_read == 1 and first.windows[0].rows == 2000
    again = monitored(options(logs, None), project)  # the reference is recorded
    assert again.files_read == 0 and again.files_known == 1 and again.windows == []
    assert again.store_run is not None  # recorded all the same, with nothing read
    write_log(logs, 0, 1500, seed=2, sequence=2)  # more rows of the same, still open, window
    write_log(logs, 1, 1000, seed=3)
    third = monitored(options(logs, None), project)
    assert third.files_read == 2
    assert [(w.rows, w.complete) for w in third.windows] == [(3500, True), (1000, False)]
    state = stored_state(project, "taxi")
    assert state is not None and list(state.panes) == [str(T0 + HOUR_US)]
    assert [entry["rows"] for entry in state.history] == [3500]


def test_a_run_killed_while_reading_records_nothing_and_its_rerun_counts_once(
    logs: Path, reference: Path, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_log(logs, 0, 2000, seed=1)
    write_log(logs, 0, 2000, seed=2, sequence=2)
    calls = []
    real = counts_module.count_rows

    def dies_on_the_second_file(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("shipyard.monitoring.monitor.count_rows", dies_on_the_second_file)
    with pytest.raises(KeyboardInterrupt):
        monitored(options(logs, reference), project)
    assert stored_state(project, "taxi") is None
    monkeypatch.undo()
    report = monitored(options(logs, reference), project)
    assert report.files_read == 2 and report.windows[0].rows == 4000


def test_a_record_later_than_the_lateness_is_counted_as_late_and_dropped(
    logs: Path, reference: Path, project: Project
) -> None:
    write_log(logs, 0, 1500, seed=1)
    write_log(logs, 2, 1500, seed=2)  # the watermark passes the first window's end
    monitored(options(logs, reference, lateness_s=1800), project)
    write_log(logs, 0, 100, seed=3, sequence=2)  # too late for the finished first window
    write_log(logs, 1, 1200, seed=4, sequence=2)  # window 1 is still within its lateness
    report = monitored(options(logs, None, lateness_s=1800), project)
    assert report.late_rows == 100
    assert [(w.start_us, w.rows, w.complete) for w in report.windows] == [
        (T0 + HOUR_US, 1200, True)
    ]


def test_outputs_without_a_reference_are_compared_with_the_first_file(
    logs: Path, reference: Path, project: Project
) -> None:
    write_log(logs, 0, seed=1)
    ones = pa.FixedSizeListArray.from_arrays(pa.array([1] * 3000), 1)
    write_log(logs, 1, seed=2, columns={"class_ids": ones})
    report = monitored(options(logs, reference), project)
    assert report.reference.baselines == {
        "class_ids": "taxi/3/20260101T000000000000Z-4242-000001.parquet",
        "probabilities": "taxi/3/20260101T000000000000Z-4242-000001.parquet",
    }
    first, second = report.windows
    assert kinds(first) == set()
    assert kinds(second) == {"prediction_drift class_ids"}
    assert second.columns["class_ids"].drift == pytest.approx(0.5, abs=0.03)
    assert first.columns["probabilities"].drift is not None  # the larger probability


def test_the_logs_own_columns_are_not_new_features_but_others_are(
    logs: Path, reference: Path, project: Project
) -> None:
    write_log(logs, 0, seed=1, columns={"coupon": pa.array(["a"] * 3000)})
    report = monitored(options(logs, reference), project)
    assert report.new_columns == ["coupon"]
    assert set(report.windows[0].columns) == {"x", "y", "color", "class_ids", "probabilities"}


def test_the_schema_s_ranges_domains_and_presence_apply(
    logs: Path, reference: Path, project: Project
) -> None:
    schema = DataSchema.from_yaml(
        "features:\n"
        "  x: {type: float, range: {min: -2.0, max: 2.0}}\n"
        "  y: {type: float, presence: required}\n"
        "  color: {type: string, domain: [red, green]}\n"
    )
    y = pa.array([None] * 600 + [0.0] * 2400, pa.float64())
    write_log(logs, 0, seed=1, columns={"y": y})
    report = monitored(options(logs, reference, schema=schema), project)
    found = {f.kind: f for f in report.windows[0].findings}
    assert set(found) >= {"out_of_range", "missing"}
    assert found["missing"].column == "y" and found["missing"].value == pytest.approx(0.2)
    ranges = [f for f in report.windows[0].findings if f.kind == "out_of_range"]
    assert {f.column for f in ranges} == {"x", "color"}
    color = report.windows[0].columns["color"]
    assert color.out_of_range == color.unseen.get("blue", 0) > 400


def test_a_new_category_in_more_than_one_percent_of_rows_is_unseen(
    logs: Path, reference: Path, project: Project
) -> None:
    colors = pa.array(["red"] * 2900 + ["purple"] * 100)
    write_log(logs, 0, seed=1, columns={"color": colors})
    report = monitored(options(logs, reference), project)
    unseen = [f for f in report.windows[0].findings if f.kind == "unseen"]
    assert [f.column for f in unseen] == ["color"] and "'purple'" in unseen[0].message


@pytest.mark.parametrize(
    ("flag", "change"), [("window", {"window_s": 60}), ("slide", {"slide_s": 1800})]
)
def test_changing_the_windows_of_a_recorded_monitor_is_refused(
    logs: Path, reference: Path, project: Project, flag: str, change: dict[str, int]
) -> None:
    write_log(logs, 0, seed=1)
    monitored(options(logs, reference), project)
    with pytest.raises(InvalidParameterError, match=rf"'--{flag}' option.*\(3600\)"):
        monitored(options(logs, None, **change), project)


def test_a_new_monitor_needs_a_reference(logs: Path, project: Project) -> None:
    write_log(logs, 0, seed=1)
    with pytest.raises(InvalidParameterError, match="'--reference' option"):
        monitored(options(logs, None), project)


def test_a_feature_named_like_a_log_column_is_read_as_the_server_renames_it(
    tmp_path: Path, logs: Path, project: Project
) -> None:
    reference = tmp_path / "with_version.parquet"
    pq.write_table(pa.table({"x": np.arange(5000.0), "version": np.arange(5000) % 3}), reference)
    write_log(logs, 0, seed=1, columns={"input.version": pa.array(np.full(3000, 7))})
    report = monitored(options(logs, reference), project)
    (window,) = report.windows
    assert "input.version" in window.columns and "version" not in window.columns
    assert window.columns["input.version"].out_of_range == 3000  # above the reference's max
