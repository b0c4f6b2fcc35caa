"""Request logging: sampled requests and predictions in Parquet, nothing lost on a clean stop."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from shipyard.serving.config import BatchingOptions, ModelConfig, RequestLogOptions
from shipyard.serving.request_log import RequestLog
from tests.serving.conftest import add_version, penguin_rows
from tests.serving.server import RunningServer


def _read(directory: Path) -> dict[str, Any]:
    files = sorted(directory.rglob("*.parquet"))
    assert files and not [p for p in directory.rglob("*") if p.name.startswith(".")]
    return pq.read_table(files).to_pydict()  # type: ignore[no-any-return]


def test_every_sampled_request_is_written_on_shutdown(
    trained: dict[str, Path], tmp_path: Path
) -> None:
    add_version(tmp_path / "models" / "penguins", 2, trained["penguins"])
    add_version(tmp_path / "models" / "mass", 1, trained["mass"])
    logs = tmp_path / "logs"
    models = [
        ModelConfig("penguins", tmp_path / "models" / "penguins"),
        ModelConfig("mass", tmp_path / "models" / "mass"),
    ]
    rows = penguin_rows(every=40)
    log = RequestLogOptions(logs, sample=1.0, flush_s=3600)
    with RunningServer(models, request_log=log, batching=BatchingOptions()) as server:
        status, predicted = server.post("/v1/models/penguins:predict", {"instances": rows})
        assert status == 200
        status, classified = server.post("/v1/models/penguins:classify", {"examples": rows[:2]})
        assert status == 200 and len(classified["results"]) == 2
        infer = {
            "id": "request-42",
            "inputs": [
                {"name": name, "shape": [1], "datatype": "BYTES", "data": [value]}
                for name, value in (("island", "Dream"), ("sex", "female"))
            ],
            "outputs": [{"name": "class_labels"}],
        }
        assert server.post("/v2/models/penguins/infer", infer)[0] == 200
        assert server.post("/v1/models/penguins:predict", {"instances": [{}]})[0] == 400
        mass_row = {k: v for k, v in rows[0].items() if k != "body_mass_g"} | {"species": "Gentoo"}
        assert server.post("/v1/models/mass:regress", {"examples": [mass_row]})[0] == 200
        assert not list(logs.rglob("*.parquet"))  # nothing written before the flush

    penguins = _read(logs / "penguins" / "2")
    assert len(penguins["request_id"]) == len(rows) + 2 + 1  # the 400 is not logged
    assert penguins["model"] == ["penguins"] * len(penguins["model"])
    assert set(penguins["version"]) == {2}
    assert len(set(penguins["request_id"])) == 3 and "request-42" in penguins["request_id"]
    assert penguins["timestamp"][0].tzinfo is not None
    assert all(ms is not None and 0 < ms < 60_000 for ms in penguins["latency_ms"])
    # Features as the model got them, missing values null; every output, even for classify.
    assert penguins["island"][: len(rows)] == [row["island"] for row in rows]
    assert penguins["sex"][: len(rows)] == [row["sex"] for row in rows]  # None where NA
    lengths = [row["bill_length_mm"] for row in rows]
    logged = penguins["bill_length_mm"][: len(rows)]
    assert [v is None for v in logged] == [v is None for v in lengths]
    pairs = zip(logged, lengths, strict=True)
    assert all(math.isclose(a, b, rel_tol=1e-6) for a, b in pairs if a is not None)
    labels = [p["class_labels"] for p in predicted["predictions"]]
    assert penguins["class_labels"][: len(rows)] == labels
    np.testing.assert_allclose(
        penguins["probabilities"][: len(rows)],
        [p["probabilities"] for p in predicted["predictions"]],
        rtol=1e-6,
    )
    assert len(penguins["class_ids"]) == len(penguins["request_id"])
    mass = _read(logs / "mass" / "1")
    assert mass["species"] == ["Gentoo"] and len(mass["predictions"]) == 1


def test_sampling_a_full_buffer_and_reserved_names(tmp_path: Path) -> None:
    counted: dict[str, int] = {}
    draws = iter([0.05, 0.5, 0.05]).__next__
    log = RequestLog(
        RequestLogOptions(tmp_path, sample=0.1, max_buffered_rows=3),
        on_rows=lambda outcome, rows: counted.update({outcome: counted.get(outcome, 0) + rows}),
        draw=draws,
    )
    assert [log.sampled(), log.sampled(), log.sampled()] == [True, False, True]
    feed = {
        "model": np.array([["a"], [""]], dtype=object),
        "x": np.array([[1.5], [np.nan]], dtype=np.float32),
    }
    outputs = {"version": np.array([7, 8]), "p": np.array([[0.25, 0.75], [1.0, 0.0]])}
    started = time.perf_counter_ns() - 2_000_000  # 2 ms ago
    log.add(model="m", version=1, request_id="r1", feed=feed, outputs=outputs, started_ns=started)
    log.add(model="m", version=1, request_id="r2", feed=feed, outputs=outputs)  # 4 rows > 3
    log.close()
    assert counted == {"dropped": 2, "written": 2}
    table = _read(tmp_path / "m" / "1")
    assert table["input.model"] == ["a", None] and table["output.version"] == [7, 8]
    assert table["model"] == ["m", "m"] and table["request_id"] == ["r1", "r1"]
    assert table["x"] == [1.5, None] and table["p"] == [[0.25, 0.75], [1.0, 0.0]]
    assert table["latency_ms"][0] == table["latency_ms"][1] >= 2.0  # one request, one latency


def test_a_request_without_a_start_time_logs_no_latency(tmp_path: Path) -> None:
    log = RequestLog(RequestLogOptions(tmp_path, sample=1.0))
    assert log.start_request() is not None
    feed = {"x": np.array([[1.0]], dtype=np.float32)}
    log.add(model="m", version=1, request_id="r1", feed=feed, outputs={"y": np.array([2.0])})
    log.close()
    table = pq.read_table(next((tmp_path / "m" / "1").glob("*.parquet")))
    assert table.schema.field("latency_ms").type == "float" and table["latency_ms"].to_pylist() == [
        None
    ]
