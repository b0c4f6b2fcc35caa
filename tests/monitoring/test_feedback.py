"""Labels stored beside the request log: checked, written atomically, read back newest first."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fsspec.implementations.local import LocalFileSystem

from shipyard.errors import DataError
from shipyard.monitoring.feedback import (
    feedback_files,
    labels_from_json,
    read_label_file,
    read_labels,
    write_labels,
)
from shipyard.monitoring.sources import list_files
from tests.monitoring.logs import write_log

if TYPE_CHECKING:
    from pathlib import Path


def test_a_post_body_becomes_labels_with_rows_and_labels_as_text() -> None:
    table = labels_from_json(
        {
            "feedback": [
                {"request_id": "a", "label": "Adelie"},
                {"request_id": "b", "label": 1.0, "row": 2},
                {"request_id": "c", "label": 3.25},
                {"request_id": "d", "label": True},
            ]
        }
    )
    assert table.to_pydict() == {
        "request_id": ["a", "b", "c", "d"],
        "row": [0, 2, 0, 0],
        "label": ["Adelie", "1", "3.25", "true"],
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"feedback": []}, "'feedback' must be a non-empty list"),
        ({"labels": []}, 'must be {"feedback"'),
        ({"feedback": [{"request_id": "a"}]}, r"feedback\[0\].label must be the true label"),
        (
            {"feedback": [{"request_id": "a", "label": "x"}, {"request_id": "", "label": "x"}]},
            r"feedback\[1\].request_id must be the request id",
        ),
        ({"feedback": [{"request_id": "a" * 129, "label": "x"}]}, "at most 128 characters"),
        ({"feedback": [{"request_id": "a", "label": "x", "row": -1}]}, r"feedback\[0\].row"),
        ({"feedback": [{"request_id": "a", "label": float("nan")}]}, "Got nan instead"),
        ({"feedback": [{"request_id": "a", "label": "x", "when": 1}]}, "unknown field 'when'"),
        ({"feedback": ["a"]}, r"feedback\[0\] must be an object"),
    ],
)
def test_a_bad_post_body_names_the_item_and_field(body: object, message: str) -> None:
    with pytest.raises(DataError, match=message):
        labels_from_json(body)


def test_label_files_of_each_format_are_read_alike(tmp_path: Path) -> None:
    csv = tmp_path / "labels.csv"
    csv.write_text("id,truth,row\nr1,Gentoo,0\nr1,Adelie,1\n007,2,\n")
    jsonl = tmp_path / "labels.jsonl"
    jsonl.write_text(
        "\n".join(
            json.dumps(r) for r in [{"id": "r1", "truth": "Gentoo"}, {"id": "007", "truth": 2}]
        )
    )
    parquet = tmp_path / "labels.parquet"
    pq.write_table(pa.table({"id": ["r1"], "truth": [2.5]}), parquet)
    read = {
        path.suffix: read_label_file(str(path), id_column="id", label_column="truth").to_pydict()
        for path in (csv, jsonl, parquet)
    }
    assert read[".csv"] == {
        "request_id": ["r1", "r1", "007"],  # ids stay text: 007 is not 7
        "row": [0, 1, 0],
        "label": ["Gentoo", "Adelie", "2"],
    }
    assert read[".jsonl"]["label"] == ["Gentoo", "2"]
    assert read[".parquet"]["label"] == ["2.5"]


def test_a_bad_label_file_names_the_file_row_and_column(tmp_path: Path) -> None:
    csv = tmp_path / "labels.csv"
    csv.write_text("request_id,label\nr1,Gentoo\nr2,\n")
    with pytest.raises(DataError, match=r"labels.csv, row 2: label must be the true label"):
        read_label_file(str(csv))
    with pytest.raises(DataError, match=r"no column 'truth'.*--label-column"):
        read_label_file(str(csv), label_column="truth")
    with pytest.raises(DataError, match="must be CSV"):
        read_label_file(str(tmp_path / "labels.txt"))
    with pytest.raises(DataError, match="does not exist"):
        read_label_file(str(tmp_path / "missing.csv"))


def test_labels_are_written_atomically_and_the_newest_label_of_an_id_wins(
    tmp_path: Path,
) -> None:
    logs = tmp_path / "logs"
    first = write_labels(
        logs, "taxi", labels_from_json({"feedback": [{"request_id": "a", "label": "x"}]})
    )
    second = write_labels(
        logs,
        "taxi",
        labels_from_json(
            {
                "feedback": [
                    {"request_id": "a", "label": "y"},
                    {"request_id": "a", "label": "z", "row": 1},
                    {"request_id": "b", "label": "w"},
                ]
            }
        ),
    )
    assert first.path.parent == logs / "taxi" / "feedback" == second.path.parent
    assert first.to_json() == {"stored": 1, "file": str(first.path)}
    assert not [p for p in (logs / "taxi" / "feedback").iterdir() if p.name.startswith(".")]
    assert pq.read_table(second.path).schema.names == ["request_id", "row", "label", "received"]
    labels, read = read_labels(LocalFileSystem(), [str(first.path), str(second.path)])
    assert read == 4
    assert sorted(labels.to_pylist(), key=str) == sorted(
        [
            {"request_id": "a", "row": 0, "label": "y"},
            {"request_id": "a", "row": 1, "label": "z"},
            {"request_id": "b", "row": 0, "label": "w"},
        ],
        key=str,
    )


def test_label_files_are_found_from_any_level_of_the_logs_and_never_read_as_logs(
    tmp_path: Path,
) -> None:
    logs = tmp_path / "logs"
    write_log(logs / "taxi" / "3", 0, rows=10, seed=1)
    stored = write_labels(
        logs, "taxi", labels_from_json({"feedback": [{"request_id": "r1-0", "label": "1"}]})
    )
    found = [str(stored.path)]
    assert feedback_files(str(logs)) == found
    assert feedback_files(str(logs / "taxi")) == found
    assert feedback_files(str(logs / "taxi" / "3")) == found
    assert feedback_files(str(logs / "taxi" / "3" / "*.parquet")) == []
    _, files = list_files(str(logs))
    assert [f.path for f in files] == [str(next((logs / "taxi" / "3").iterdir()))]
