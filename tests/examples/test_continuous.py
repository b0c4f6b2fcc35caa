"""The continuous-training loop of `examples/continuous/loop.py`, end to end on real sockets.

One command, as the example's docstring says: span 1 trains and is pushed; `shipyard serve`
serves it and logs drifted traffic; `shipyard schedule --once` runs the monitor, whose drift
alert fires the retraining on spans 1 and 2; the new version is infra validated, pushed as a
canary, takes traffic, and `shipyard promote` makes it stable. The test then reads what the
loop left: the store's runs and their trigger, the spans the retraining read, the model
config's labels and the promotion's record.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from shipyard.serving.config import read_model_config
from shipyard.store import open_store
from tests.environment import child_environment

LOOP = Path(__file__).resolve().parents[2] / "examples" / "continuous" / "loop.py"


@pytest.mark.slow
def test_drift_retrains_and_the_canary_is_promoted(tmp_path: Path) -> None:
    work = tmp_path / "loop"
    done = subprocess.run(
        [sys.executable, str(LOOP), "--workdir", str(work)],
        env=child_environment(checkout_first=True),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "trigger 'drift' fired: " in done.stdout
    assert "'distance' drifted" in done.stdout
    assert "promote: the canary took" in done.stdout
    assert "version 2: stable, AVAILABLE" in done.stdout

    store = open_store(f"sqlite:///{work / '.shipyard' / 'store.db'}")
    first, retrain = sorted(store.list_runs(pipeline="taxi"), key=lambda run: run.started_at)
    assert first.state == retrain.state == "complete"
    assert "trigger" not in first.properties
    assert retrain.properties["trigger"]["name"] == "drift"
    assert retrain.properties["trigger"]["kind"] == "monitor"
    spans = [
        output.artifact.properties["spans"]
        for run in (first, retrain)
        for output in store.outputs_of_runs([run.id], type_names=["Examples"])
        if output.node == "ingest"
    ]
    assert spans == [[1], [1, 2]]  # the rolling window: the newest two spans that exist
    promotions = store.list_runs(pipeline="promotion:taxi")
    assert [run.properties["promotion"]["action"] for run in promotions] == ["promote"]

    (taxi,) = read_model_config(work / "models" / "models.yaml").models
    assert dict(taxi.labels) == {"stable": 2}
    assert sorted(path.name for path in (work / "requests" / "taxi").iterdir()) == ["1", "2"]
