"""A node's command under `torchrun --standalone --nproc-per-node 2` (what each pod of a
Kubeflow PyTorchJob runs): every rank executes the node's component in one group, rank 0
alone publishes and records it, and a node rank 0 takes from the cache releases the others."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import TYPE_CHECKING

from tests.environment import CHECKOUT

if TYPE_CHECKING:
    from pathlib import Path

PIPELINE = '''
import os
from pathlib import Path

from shipyard import Out, Pipeline, component
from shipyard.artifacts import Metrics


@component
def make(out: Out[Metrics], *, value: float = 1.0) -> None:
    out.save({"v": value})


@component
def reduce(inp: Metrics, out: Out[Metrics], *, log: str) -> None:
    """Sums a value over the group's ranks, as DDP sums gradients."""
    import torch
    import torch.distributed as dist

    from shipyard.components.train.distributed import joined

    with joined("cpu") as group:
        total = torch.tensor([inp.load()["v"] * (group.rank + 1)])
        dist.all_reduce(total)
        with Path(log).open("a") as file:
            file.write(f"{group.rank}/{group.world_size}\\n")
        out.save({"sum": float(total.item()), "rank": float(group.rank)})


def ranks(log: str = "ranks.log") -> Pipeline:
    made = make(value=2.0)
    return Pipeline("ranks", nodes=[made, reduce(inp=made.outputs.out, log=log)])
'''


def _shipyard(cwd: Path, *args: str, torchrun: bool = False) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(CHECKOUT)}
    for name in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "LOCAL_RANK"):
        env.pop(name, None)
    # `--` ends torchrun's options: its `--node-rank` would take `--node` for itself.
    launcher = ["-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    module = ["-m", "--", "shipyard"] if torchrun else ["-m", "shipyard"]
    command = [sys.executable, *(launcher if torchrun else []), *module, *args]
    return subprocess.run(
        command, check=False, cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_every_rank_trains_once_and_rank_0_alone_records(tmp_path: Path) -> None:
    (tmp_path / "ranks.py").write_text(PIPELINE)
    where = ["--store", f"sqlite:///{tmp_path / 'store.db'}", "--artifact-root", "artifacts"]
    node = ["execute-node", "--pipeline", "ranks.py", "--run-id", "job-1", *where]
    made = _shipyard(tmp_path, *node, "--node", "make")
    assert made.returncode == 0, made.stderr
    trained = _shipyard(tmp_path, *node, "--node", "reduce", torchrun=True)
    assert trained.returncode == 0, trained.stderr
    assert sorted((tmp_path / "ranks.log").read_text().split()) == ["0/2", "1/2"]
    assert "rank 1 trained (complete)" in trained.stderr
    shown = _shipyard(tmp_path, "runs", "show", "job-1", "--json", *where[:2])
    run = json.loads(shown.stdout)
    assert run["state"] == "complete"
    assert {name: n["state"] for name, n in run["nodes"].items()} == {
        "make": "complete",
        "reduce": "complete",
    }
    output = run["nodes"]["reduce"]["outputs"]["out"]["uri"]
    assert json.loads((tmp_path / output / "metrics.json").read_text()) == {
        "sum": 6.0,  # 2 * 1 + 2 * 2: the all-reduce spanned both ranks
        "rank": 0.0,  # rank 0's outputs, published once
    }

    again = _shipyard(tmp_path, *node, "--node", "reduce", torchrun=True)  # a retried pod
    assert again.returncode == 0, again.stderr
    assert "rank 1 had nothing to execute" in again.stderr
    assert sorted((tmp_path / "ranks.log").read_text().split()) == ["0/2", "1/2"]
