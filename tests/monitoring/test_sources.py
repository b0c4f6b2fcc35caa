"""Reading logs: hidden files never, malformed files reported and skipped, CSV too."""

from __future__ import annotations

from typing import TYPE_CHECKING

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shipyard.errors import DataError
from shipyard.monitoring.monitor import MonitorOptions
from shipyard.monitoring.sources import list_files, read_batches
from tests.monitoring.logs import write_log
from tests.monitoring.runs import monitored

if TYPE_CHECKING:
    from pathlib import Path

    from shipyard.runners import Project


def test_hidden_temporary_files_are_never_listed(logs: Path) -> None:
    write_log(logs, 0, 10, seed=1)
    (logs / ".20260101T010000000000Z-4242-000002.parquet.tmp").write_bytes(b"PAR1 half")
    (logs / ".hidden.parquet").write_bytes(b"PAR1 half")
    _, files = list_files(str(logs))
    assert [f.path.rsplit("/", 1)[-1] for f in files] == [
        "20260101T000000000000Z-4242-000001.parquet"
    ]


def test_logs_below_a_hidden_directory_are_read(tmp_path: Path) -> None:
    logs = tmp_path / ".cache" / "logs"
    write_log(logs / "m" / "1", 0, 10, seed=1)
    (logs / "m" / ".staging").mkdir()
    (logs / "m" / ".staging" / "x.parquet").write_bytes(b"PAR1")
    for given in (logs, logs / "m" / "1" / "*.parquet", logs / "m" / "**"):
        _, files = list_files(str(given))
        assert [f.path.rsplit("/", 2)[-2] for f in files] == ["1"], given


@pytest.mark.parametrize("where", ["local", "memory"])
def test_string_categories_are_read_as_dictionaries_and_nothing_else(
    tmp_path: Path, where: str
) -> None:
    table = pa.table(
        {
            "c": ["a", None, "b"],
            "x": [1.0, 2.0, 3.0],
            "labels": pa.array([["a"], ["b"], []], pa.list_(pa.string())),
            "text": ["p", "q", "r"],
        }
    )
    logs = str(tmp_path)
    if where == "memory":  # an fsspec URL: the file is read through an open handle
        logs = f"memory://{tmp_path.name}"
        with fsspec.open(f"{logs}/log.parquet", "wb") as handle:
            pq.write_table(table, handle)
    else:
        pq.write_table(table, tmp_path / "log.parquet")
    fs, files = list_files(logs)
    wanted = ["c", "x", "labels", "text"]
    [batch] = read_batches(fs, files[0], wanted, categories=["c", "x", "labels", "absent"])
    assert batch.schema.field("c").type == pa.dictionary(pa.int32(), pa.string())
    assert batch.schema.field("c").type != table.schema.field("c").type
    assert [batch.schema.field(c).type for c in wanted[1:]] == table.schema.types[1:]
    assert batch.column("c").to_pylist() == ["a", None, "b"]
    [plain] = read_batches(fs, files[0], wanted)
    assert plain.schema == table.schema
    if where == "memory":
        fs.rm(files[0].path)


def test_missing_logs_are_a_data_error_naming_them(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="nowhere"):
        list_files(str(tmp_path / "nowhere"))


def test_malformed_files_are_reported_and_skipped_never_fatal(
    logs: Path, reference: Path, project: Project
) -> None:
    write_log(logs, 0, seed=1)
    (logs / "truncated.parquet").write_bytes(
        (logs / "20260101T000000000000Z-4242-000001.parquet").read_bytes()[:-100]
    )
    no_time = {"x": [1.0], "class_ids": pa.array([["7"]], pa.list_(pa.string()))}
    pq.write_table(pa.table(no_time), logs / "0_no_time.parquet")  # read first
    (logs / "garbage.csv").write_text("timestamp,x\nnot a time,1\n")
    report = monitored(MonitorOptions(logs=str(logs), name="m", reference=str(reference)), project)
    assert report.files_read == 1 and report.windows[0].rows == 3000
    reasons = {s.path.rsplit("/", 1)[-1]: s.reason for s in report.skipped}
    assert set(reasons) == {"truncated.parquet", "0_no_time.parquet", "garbage.csv"}
    assert "no timestamp column 'timestamp'" in reasons["0_no_time.parquet"]
    # the outputs' baseline is the good file, not the skipped one read before it
    assert report.reference.baselines["class_ids"].endswith("-4242-000001.parquet")
    assert "ArrowInvalid" in reasons["truncated.parquet"]
    assert all(s.new for s in report.skipped)


def test_a_malformed_file_is_reported_once_and_read_once_it_is_mended(
    logs: Path, reference: Path, project: Project
) -> None:
    good = write_log(logs, 0, seed=1)
    broken = logs / "late.parquet"
    broken.write_bytes(b"PAR1 not quite")
    options = MonitorOptions(logs=str(logs), name="m", reference=str(reference))
    first = monitored(options, project)
    assert [(s.path, s.new) for s in first.skipped] == [("taxi/3/late.parquet", True)]
    again = monitored(options, project)
    assert [(s.path, s.new) for s in again.skipped] == [("taxi/3/late.parquet", False)]
    listed = again.to_json()["files"]["skipped"]
    assert listed[0]["new"] is False and "ArrowInvalid" in listed[0]["reason"]
    broken.write_bytes(good.read_bytes())  # rewritten whole: another size, read
    mended = monitored(options, project)
    assert mended.skipped == [] and mended.files_read == 1 and mended.rows_read == 3000


def test_csv_with_another_timestamp_column(
    tmp_path: Path, reference: Path, project: Project
) -> None:
    lines = ["when,x,y,color"] + [
        f"2026-01-01T0{i % 2}:30:00Z,{i % 7 / 7},{-i % 5 / 5},{'red' if i % 3 else ''}"
        for i in range(40)
    ]
    (tmp_path / "served.csv").write_text("\n".join(lines) + "\n")
    report = monitored(
        MonitorOptions(
            logs=str(tmp_path / "served.csv"),
            name="csv",
            reference=str(reference),
            timestamp="when",
            min_rows=10,
        ),
        project,
    )
    assert [w.rows for w in report.windows] == [20, 20]
    color = report.windows[0].columns["color"]
    assert color.missing_share == pytest.approx(7 / 20)  # empty CSV fields are missing
