"""Identical models pushed at once by separate processes make one version."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.environment import child_environment

PUSHERS = 8

PUSHER = """
import json, sys, time
from pathlib import Path
from shipyard.artifacts import BlessingDecision, Model, ModelBlessing, PushedModel
from shipyard.components import push

root, base, index, start_at = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], float(sys.argv[4])
model = Model(root / "model")
blessing = ModelBlessing(root / "blessing")
pushed = PushedModel(root / f"pushed-{index}")
time.sleep(max(0.0, start_at - time.time()))
push.fn(model, blessing, pushed, name="m", base=base)
print(json.dumps(pushed.load().version))
"""


def test_identical_models_pushed_at_once_make_one_version(tmp_path: Path) -> None:
    from shipyard.artifacts import BlessingDecision, Model, ModelBlessing

    model = Model(tmp_path / "model")
    model.path.mkdir()
    (model.path / Model.ONNX_FILENAME).write_bytes(os.urandom(30_000_000))
    (model.path / Model.SIGNATURE_FILENAME).write_text("{}")
    ModelBlessing(tmp_path / "blessing").save(BlessingDecision(blessed=True))
    base = tmp_path / "models"
    env = child_environment(checkout_first=True)
    start_at = time.time() + 10.0  # after every process has imported Shipyard
    processes = [
        subprocess.Popen(
            [sys.executable, "-W", "error", "-c", PUSHER, *map(str, (tmp_path, base, i, start_at))],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(PUSHERS)
    ]
    versions = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        versions.append(json.loads(out))
    assert versions == [1] * PUSHERS
    assert sorted(p.name for p in (base / "m").iterdir()) == ["1"]  # no copy left behind
