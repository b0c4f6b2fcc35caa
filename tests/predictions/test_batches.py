"""Batch prediction with an exported model directory: files in, predictions out."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from shipyard.artifacts.model import Model
from shipyard.components.ingest import load_dataset
from shipyard.errors import DataError, InvalidParameterError, NotFoundError
from shipyard.predictions import LocalPredictor, find_model_dir, predict_file
from tests.client.models import PENGUINS, classifier, regressor


@pytest.fixture(scope="module")
def penguins(tmp_path_factory: pytest.TempPathFactory) -> LocalPredictor:
    return LocalPredictor(classifier(tmp_path_factory))


@pytest.fixture(scope="module")
def double(tmp_path_factory: pytest.TempPathFactory) -> LocalPredictor:
    return LocalPredictor(regressor(tmp_path_factory))


def test_csv_predictions_equal_model_predict(penguins: LocalPredictor, tmp_path: Path) -> None:
    output = tmp_path / "out" / "preds.parquet"
    rows = predict_file(
        penguins, PENGUINS, output, batch_rows=50, keep_columns=["species", "island"]
    )
    table = pq.read_table(output)
    assert rows == table.num_rows == 344
    assert table.column_names == ["species", "island", "class_ids", "probabilities", "class_labels"]
    assert table.schema.field("probabilities").type == pa.list_(pa.float32())
    want = Model(classifier_dir(penguins)).predict(load_dataset(PENGUINS))
    assert np.array_equal(
        np.array(table["probabilities"].to_pylist(), np.float32), want["probabilities"]
    )
    assert table["class_labels"].to_pylist() == list(want["class_labels"])
    assert table["class_ids"].to_pylist() == list(want["class_ids"])
    assert table["species"].to_pylist() == load_dataset(PENGUINS)["species"].to_pylist()
    assert [p.name for p in output.parent.iterdir()] == ["preds.parquet"]


def test_parquet_directory_streams_batch_by_batch(penguins: LocalPredictor, tmp_path: Path) -> None:
    data = load_dataset(PENGUINS).drop_columns(["species"])
    parts = tmp_path / "parts"
    parts.mkdir()
    for index, start in enumerate(range(0, data.num_rows, 150)):
        pq.write_table(data.slice(start, 150), parts / f"part-{index}.parquet", row_group_size=40)
    output = tmp_path / "preds.jsonl"
    assert predict_file(penguins, parts, output, batch_rows=1000) == 344
    lines = [json.loads(line) for line in output.read_text().splitlines()]
    want = Model(classifier_dir(penguins)).predict(data)
    assert [line["class_labels"] for line in lines] == list(want["class_labels"])
    np.testing.assert_allclose([line["probabilities"] for line in lines], want["probabilities"])


def test_types_are_fitted_to_the_inputs(double: LocalPredictor, tmp_path: Path) -> None:
    # y is read as int64 and fed as a number; tag (a string input) reads as numbers and is
    # read again as text; x (optional) is left out: missing, so predictions are NaN.
    source = tmp_path / "rows.csv"
    source.write_text("id,y,tag\n7,1,001\n8,2,\n")
    output = tmp_path / "preds.csv"
    assert predict_file(double, source, output, keep_columns=["id", "tag"]) == 2
    table = pacsv.read_csv(output)
    assert table.column_names == ["id", "tag", "predictions"]
    assert table["tag"].to_pylist() == [1, None]  # "001" was kept as text: the CSV says 001
    assert "001" in output.read_text()
    assert table["predictions"].to_pylist() == [None, None]  # NaN, written as nan
    source.write_text("x,y\n1.5,1\n,2\n")
    predict_file(double, source, output)
    assert pacsv.read_csv(output)["predictions"].to_pylist()[0] == 4.0


def test_missing_required_column_names_file_and_column(
    penguins: LocalPredictor, tmp_path: Path
) -> None:
    source = tmp_path / "rows.csv"
    source.write_text("island,bill_length_mm\nBiscoe,40\n")
    with pytest.raises(DataError, match="needs the column 'sex'") as error:
        predict_file(penguins, source, tmp_path / "preds.parquet")
    assert error.value.path == str(source) and error.value.column == "sex"
    assert not list(tmp_path.glob("*.parquet"))


def test_bad_value_names_file_row_and_column_and_leaves_no_file(
    double: LocalPredictor, tmp_path: Path
) -> None:
    parts = tmp_path / "parts"
    parts.mkdir()
    pq.write_table(pa.table({"y": [1.0, 2.0]}), parts / "a.parquet")
    pq.write_table(pa.table({"y": ["3", "4", "n/a"]}), parts / "b.parquet")
    output = tmp_path / "preds.parquet"
    with pytest.raises(DataError, match=r"b\.parquet, row 3, column 'y': cannot convert 'n/a'"):
        predict_file(double, parts, output)  # read as the first file's type: double
    text = tmp_path / "text.parquet"
    pq.write_table(pa.table({"y": ["3", "4", "n/a"]}), text)
    with pytest.raises(DataError, match="takes numbers, got 'n/a'") as error:
        predict_file(double, text, output, batch_rows=2)
    assert (error.value.path, error.value.row, error.value.column) == (str(text), 3, "y")
    assert sorted(tmp_path.iterdir()) == sorted([parts, text])  # no output, no temporary file


def test_parameter_errors(penguins: LocalPredictor, tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterError, match="'id' is not"):
        predict_file(penguins, PENGUINS, tmp_path / "p.parquet", keep_columns=["id"])
    with pytest.raises(InvalidParameterError, match="'class_ids' would be written twice"):
        predict_file(penguins, PENGUINS, tmp_path / "p.parquet", keep_columns=["class_ids"])
    with pytest.raises(InvalidParameterError, match=r"must end with \.parquet"):
        predict_file(penguins, PENGUINS, tmp_path / "p.txt")
    with pytest.raises(InvalidParameterError, match="batch size"):
        predict_file(penguins, PENGUINS, tmp_path / "p.parquet", batch_rows=0)
    with pytest.raises(DataError, match="no such file"):
        predict_file(penguins, tmp_path / "nope.csv", tmp_path / "p.parquet")


def test_find_model_dir(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    version = classifier(tmp_path_factory)
    assert find_model_dir(version) == version
    assert find_model_dir(version.parent) == version
    assert find_model_dir(version.parent, version=1) == version
    with pytest.raises(NotFoundError, match="no model version 7; its versions: 1"):
        find_model_dir(version.parent, version=7)
    with pytest.raises(NotFoundError, match=r"holds neither model\.onnx"):
        find_model_dir(tmp_path)
    with pytest.raises(NotFoundError, match="does not exist"):
        find_model_dir(tmp_path / "nope")


def classifier_dir(predictor: LocalPredictor) -> Path:
    return Path(predictor.name)
