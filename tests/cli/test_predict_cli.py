"""`shipyard predict`, run as a user would: with a model directory, and with a server."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from shipyard.artifacts.model import Model
from shipyard.components.ingest import load_dataset
from shipyard.io.ports import free_port
from shipyard.serving.config import ModelConfig, VersionPolicy
from tests.cli.command import shipyard
from tests.client.models import PENGUINS, classifier, repository
from tests.serving.server import RunningServer

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server of `penguins` versions 1 and 2, with the label stable -> 1."""
    root = repository(tmp_path_factory)
    config = ModelConfig(
        "penguins", root / "penguins", VersionPolicy(kind="all"), labels={"stable": 1}
    )
    with RunningServer([config]) as server:
        yield f"http://127.0.0.1:{server.port}"


@pytest.fixture(scope="module")
def labels(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The class labels `Model.predict` gives the penguins file."""
    model = Model(classifier(tmp_path_factory))
    return list(model.predict(load_dataset(PENGUINS))["class_labels"])


def test_local_csv_to_parquet(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, labels: list[str]
) -> None:
    base = classifier(tmp_path_factory).parent  # BASE/NAME: its newest version
    options = ["--columns-to-keep", "species", "--batch-size", "100"]
    result = shipyard(
        tmp_path,
        "predict",
        "--model",
        str(base),
        "--input",
        str(PENGUINS),
        "-o",
        "p.parquet",
        *options,
    )
    assert result.returncode == 0, result.stderr
    assert "Wrote 344 predictions of" in result.stderr
    table = pq.read_table(tmp_path / "p.parquet")
    assert table.column_names == ["species", "class_ids", "probabilities", "class_labels"]
    assert table["class_labels"].to_pylist() == labels


def test_local_parquet_printed_as_json(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, labels: list[str]
) -> None:
    pq.write_table(load_dataset(PENGUINS), tmp_path / "penguins.parquet")
    model = str(classifier(tmp_path_factory))
    result = shipyard(
        tmp_path, "predict", "--model", model, "--input", "penguins.parquet", "--json"
    )
    assert result.returncode == 0, result.stderr
    predictions = json.loads(result.stdout)["predictions"]
    assert [row["class_labels"] for row in predictions] == labels


def test_server_input_to_csv_and_instances_to_json(
    url: str, tmp_path: Path, labels: list[str]
) -> None:
    server = ["--server", url, "--model", "penguins", "--label", "stable"]
    result = shipyard(
        tmp_path,
        "predict",
        *server,
        "--input",
        str(PENGUINS),
        "-o",
        "p.csv",
        "--columns-to-keep",
        "species",
    )
    assert result.returncode == 0, result.stderr
    assert "'penguins' version 1 at" in result.stderr
    table = pacsv.read_csv(tmp_path / "p.csv")
    assert table.column_names == ["species", "class_ids", "probabilities", "class_labels"]
    assert table["class_labels"].to_pylist() == labels
    rows = [{"island": "Biscoe", "sex": "male"}, {"island": "Dream", "sex": None}]
    (tmp_path / "rows.json").write_text(json.dumps({"instances": rows}))
    printed = shipyard(tmp_path, "predict", *server, "--instances", "rows.json", "--json")
    assert printed.returncode == 0, printed.stderr
    assert len(json.loads(printed.stdout)["predictions"]) == 2


def test_errors_are_headlines(
    tmp_path_factory: pytest.TempPathFactory, url: str, tmp_path: Path
) -> None:
    model = str(classifier(tmp_path_factory))
    (tmp_path / "rows.csv").write_text("island,bill_length_mm\nBiscoe,40\n")
    missing = shipyard(tmp_path, "predict", "--model", model, "--input", "rows.csv", "-o", "p.pq")
    assert missing.returncode == 1
    assert (
        "Bad input data: rows.csv, column 'sex': the model needs the column 'sex'" in missing.stderr
    )
    assert "Traceback" not in missing.stderr and not (tmp_path / "p.pq").exists()
    (tmp_path / "bad.json").write_text('[{"island": 3, "sex": "male"}]')
    refused = shipyard(
        tmp_path, "predict", "--server", url, "--model", "penguins", "--instances", "bad.json"
    )
    assert refused.returncode == 1
    assert "bad.json, instance 0: POST" in refused.stderr and "answered 400" in refused.stderr
    offline = f"http://127.0.0.1:{free_port()}"
    down = shipyard(tmp_path, "predict", "--server", offline, "--model", "m", "--input", "x.csv")
    assert down.returncode == 1 and f"Cannot connect to {offline}" in down.stderr
    flags = shipyard(tmp_path, "predict", "--model", model, "--instances", "bad.json")
    assert flags.returncode == 1 and "--instances needs --server" in flags.stderr
