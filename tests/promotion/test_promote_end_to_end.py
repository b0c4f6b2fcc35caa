"""Canary promotion over real sockets: v1 stable, v2 pushed as a canary, traffic, a decision.

The server runs on 127.0.0.1 with the model config the pushes write, polling it; the
pushes are the `push` component's; `shipyard promote` and `shipyard models` are the CLI's.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from shipyard.artifacts import BlessingDecision, Model, ModelBlessing, PushedModel
from shipyard.cli.main import app
from shipyard.components import push
from shipyard.serving.config import read_model_config
from tests.serving.conftest import penguin_rows, require_feature
from tests.serving.server import RunningServer


def _candidate(source: Path, work: Path, tag: str, *, needs_island: bool = False) -> Model:
    """A copy of a trained model with its own bytes (the card says which), as train makes."""
    model = Model(work / f"model-{tag}")
    shutil.copytree(source, model.path)
    card = model.path / Model.CARD_FILENAME
    card.write_text(json.dumps({**json.loads(card.read_text()), "candidate": tag}))
    if needs_island:
        require_feature(model.path, "island")
    return model


def _push(model: Model, work: Path, base: Path, **options: Any) -> PushedModel:
    blessing = ModelBlessing(work / f"blessing-{model.path.name}")
    blessing.save(BlessingDecision(blessed=True))
    pushed = PushedModel(work / f"pushed-{model.path.name}")
    push.fn(model, blessing, pushed, name="penguins", base=base, **options)
    return pushed


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def _serving(server: RunningServer, *versions: int) -> Callable[[], bool]:
    return lambda: server.registry.available_versions("penguins") == sorted(versions)[::-1]


def _send(server: RunningServer, rows: list[dict[str, Any]], count: int) -> list[int]:
    return [
        server.post("/v1/models/penguins:predict", {"instances": [rows[i % len(rows)]]})[0]
        for i in range(count)
    ]


Canaried = tuple[RunningServer, Path, str]


@pytest.fixture
def canaried(
    trained: dict[str, Path], tmp_path: Path, request: pytest.FixtureRequest
) -> Callable[[bool], Canaried]:
    """Start a server with v1 stable, then push v2 as a 50% canary while it runs; v2
    requires the feature 'island' when `erring` (requests without it fail on v2 only)."""

    def start(erring: bool) -> Canaried:
        base = tmp_path / "models"
        first = _candidate(trained["penguins"], tmp_path, "1")
        assert _push(first, tmp_path, base, canary_percent=50).load().label == "stable"
        config = base / "models.yaml"
        models = read_model_config(config).models
        server = RunningServer(models, poll_s=0.05, model_config=config).__enter__()
        request.addfinalizer(lambda: server.__exit__(None, None, None))
        second = _candidate(trained["penguins"], tmp_path, "2", needs_island=erring)
        pushed = _push(second, tmp_path, base, canary_percent=50).load()
        assert (pushed.version, pushed.label, pushed.canary_percent) == (2, "canary", 50)
        _wait_for(_serving(server, 1, 2), "the server to load the canary")
        return server, base, f"sqlite:///{tmp_path / 'store.db'}"

    return start


def test_a_healthy_canary_is_promoted(canaried: Callable[[bool], Canaried]) -> None:
    server, base, store = canaried(False)
    url = f"http://127.0.0.1:{server.port}"
    promote = ("promote", "penguins", "--server", url, "--models-dir", str(base))
    code, output = _cli(*promote, "--min-requests", "20", "--store", store)
    assert code == 3, output  # too few requests yet
    assert "Not decided yet on penguins version 2" in output
    statuses = _send(server, penguin_rows(), 200)
    assert set(statuses) == {200}
    code, output = _cli(*promote, "--min-requests", "20", "--store", store, "--json")
    assert code == 0, output
    record = json.loads(output)
    assert (record["action"], record["stable"], record["canary"]) == ("promote", 1, 2)
    assert record["figures"]["canary"]["errors"] == 0
    assert 20 <= record["figures"]["canary"]["requests"] < 200
    model = read_model_config(base / "models.yaml").models[0]
    assert model.labels == {"stable": 2} and model.canary is None
    _wait_for(_serving(server, 2), "the server to drop version 1")
    code, output = _cli("models", "--models-dir", str(base), "--store", store, "--json")
    assert code == 0, output
    (listing,) = json.loads(output)["models"]
    assert [(v["version"], v["labels"], v["rejected"]) for v in listing["versions"]] == [
        (2, ["stable"], False),
        (1, [], False),
    ]
    assert [d["action"] for d in listing["decisions"]] == ["promote"]


def test_a_canary_that_errors_is_rolled_back_and_marked_rejected(
    canaried: Callable[[bool], Canaried],
) -> None:
    server, base, store = canaried(True)
    url = f"http://127.0.0.1:{server.port}"
    rows = [{k: v for k, v in row.items() if k != "island"} for row in penguin_rows()]
    statuses = _send(server, rows, 200)  # the canary requires 'island': it answers 400
    assert set(statuses) == {200, 400}
    code, output = _cli(
        "promote", "penguins", "--server", url, "--models-dir", str(base),
        "--min-requests", "20", "--store", store,
    )  # fmt: skip
    assert code == 1, output
    assert output.startswith("Rolled back penguins version 2 (version 1 stays stable)")
    assert "error rate 100.00%" in output
    model = read_model_config(base / "models.yaml").models[0]
    assert model.labels == {"stable": 1} and model.canary is None
    _wait_for(_serving(server, 1), "the server to drop the canary")
    assert set(_send(server, rows, 20)) == {200}
    code, output = _cli(
        "models", "--models-dir", str(base), "--store", store, "--server", url, "--json"
    )
    assert code == 0, output
    (listing,) = json.loads(output)["models"]
    versions = {v["version"]: v for v in listing["versions"]}
    assert versions[2]["rejected"] is True and versions[2]["state"] is None
    assert versions[1]["labels"] == ["stable"] and versions[1]["state"] == "AVAILABLE"
    assert listing["decisions"][0]["action"] == "roll_back"
