"""Labels arriving later, end to end: a trained model served over 127.0.0.1 logs its
requests, `shipyard feedback` stores their labels, and `shipyard monitor` finds the
version's evaluation through the store and reports its decay."""

from __future__ import annotations

import csv
import json
from typing import TYPE_CHECKING

import pytest

from shipyard.client import Client
from shipyard.serving.config import ModelConfig, RequestLogOptions
from tests.cli.command import shipyard
from tests.serving.conftest import PENGUINS, penguin_rows, trained  # noqa: F401
from tests.serving.server import RunningServer

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.slow


def test_labels_of_served_requests_show_the_served_versions_decay(
    trained: dict[str, Path],  # noqa: F811
    tmp_path: Path,
) -> None:
    pushed = trained["penguins"]  # WORK/models/penguins/1, trained and pushed by `shipyard train`
    store = ["--store", f"sqlite:///{pushed.parents[2] / '.shipyard' / 'store.db'}"]
    logs = tmp_path / "logs"
    with open(PENGUINS, newline="") as file:
        names = sorted({record["species"] for record in csv.DictReader(file)})
    rows = [row for row in penguin_rows(every=5) if row["sex"] is not None]  # sex is required
    models = [ModelConfig("penguins", pushed.parent)]
    log = RequestLogOptions(logs, sample=1.0, flush_s=3600)
    ids, predicted = [], []
    with (
        RunningServer(models, request_log=log) as server,
        Client(f"http://127.0.0.1:{server.port}") as client,
    ):
        for row in rows:
            predicted.append(client.predict("penguins", [row])[0]["class_labels"])
            ids.append(client.last_request_id)
    # The labels say the model was right on one request in four: live accuracy 0.25.
    labels = tmp_path / "labels.csv"
    with labels.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["id", "truth"])
        for index, (request_id, said) in enumerate(zip(ids, predicted, strict=True)):
            other = names[(names.index(said) + 1) % len(names)]
            writer.writerow([request_id, said if index % 4 == 0 else other])
        writer.writerow(["never-served", "Adelie"])

    (logs / "other").mkdir()
    ambiguous = shipyard(tmp_path, "feedback", "labels.csv", "--request-log-dir", "logs")
    assert ambiguous.returncode == 1
    assert "The '--model' option of shipyard feedback is needed" in ambiguous.stderr
    bad = shipyard(tmp_path, "feedback", "labels.csv", "--request-log-dir", "logs", "--model",
                   "penguins")  # fmt: skip
    assert bad.returncode == 1 and "no column 'request_id'" in bad.stderr
    stored = shipyard(
        tmp_path, "feedback", "labels.csv", "--request-log-dir", "logs", "--model", "penguins",
        "--id-column", "id", "--label-column", "truth", "--json",
    )  # fmt: skip
    assert stored.returncode == 0, stored.stderr
    assert json.loads(stored.stdout)["stored"] == len(ids) + 1

    monitored = shipyard(
        tmp_path, "monitor", "logs/penguins/1", "--reference", str(PENGUINS), "--min-rows",
        "10", "--min-labels", "50", "--json", *store,
    )  # fmt: skip
    assert monitored.returncode == 1, monitored.stderr
    decay = json.loads(monitored.stdout)["decay"]
    assert decay["labels"] == {
        "read": len(ids) + 1,
        "distinct": len(ids) + 1,
        "matched": len(ids),
        "unmatched": 1,
        "unknown": {},
    }
    assert decay["baselines"]["penguins/1"].startswith("evaluation #")
    windows = decay["windows"]
    assert sum(w["labelled"] for w in windows) == len(ids)
    window = max(windows, key=lambda w: w["labelled"])
    assert window["metrics"]["accuracy"] == pytest.approx(0.25, abs=0.02)
    assert window["evaluation"]["accuracy"] > 0.3  # the evaluation that blessed version 1
    assert "penguins/1:accuracy" in {f["column"] for f in window["findings"]}
    assert "FIRING decay penguins/1:accuracy since" in monitored.stderr
