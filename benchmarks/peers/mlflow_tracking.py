r"""MLflow's tracking server, the peer of `shipyard ui` in `benchmarks/ui.py --with-peers`.

MLflow 3.17.2 (`requirements-mlflow-tracking.txt`, the version issue 14 quotes) gets a venv
of its own, built once under `benchmarks/.peers/mlflow/` (git-ignored) with pip from PyPI.
`mlflow_runs.py`, run by that venv, fills a SQLite tracking store with the runs; then
`mlflow server` serves it on 127.0.0.1 as users start it (its defaults: uvicorn, 4 workers),
but for its job runner, turned off (`MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false`: it runs GenAI
jobs, nothing measured here, in five polling processes that slowed both sides and the store),
its process group stopped afterwards (`servers.started`). The runs page sorted by accuracy is
`#/experiments/ID/runs?orderByKey=metrics.%60accuracy%60&orderByAsc=false`: the page then
asks `runs/search` for `metrics.\`accuracy\` DESC` (checked by the benchmark).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from peers.servers import PEERS, ROOT, Server, peer_venv, started

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

VENV = ROOT / "benchmarks" / ".peers" / "mlflow"
SEARCH_PATH = "/api/2.0/mlflow/runs/search"
PAGE_SIZE = 100
"""Runs the MLflow UI asks for at a time (its "Load more" fetches the next 100)."""


@dataclass(frozen=True)
class Tracking:
    """A running MLflow tracking server and what its store holds.

    Attributes:
        base: Its URL (`http://127.0.0.1:PORT`).
        experiment_id: The experiment holding the runs.
        first_by_accuracy: The run that comes first by accuracy, largest first.
        first_by_start: The newest run.
        fill_s: Seconds the store took to fill (the migrations included).
    """

    base: str
    experiment_id: str
    first_by_accuracy: str
    first_by_start: str
    fill_s: float

    def runs_page(self, *, by_accuracy: bool) -> str:
        """The URL of the experiment's runs page, sorted as the search API is sorted."""
        page = f"{self.base}/#/experiments/{self.experiment_id}/runs"
        if by_accuracy:
            page += "?orderByKey=metrics.%60accuracy%60&orderByAsc=false"
        return page


@contextmanager
def tracking_server(work: Path, runs: int) -> Iterator[Tracking]:
    """A tracking store of `runs` runs in `work`, served by `mlflow server` while in the block.

    Raises:
        SystemExit: Filling the store failed (its output is in the message), or the server
            did not start.
    """
    bin_dir = peer_venv("mlflow-tracking", venv=VENV, shared=False)
    store = f"sqlite:///{work / 'mlflow.db'}"
    artifacts = work / "mlflow-artifacts"
    began = time.perf_counter()
    filled = subprocess.run(
        [str(bin_dir / "python"), str(PEERS / "mlflow_runs.py"), "--db", store,
         "--artifacts", str(artifacts), "--runs", str(runs)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if filled.returncode != 0:
        raise SystemExit(f"Filling MLflow's store failed:\n{filled.stdout}\n{filled.stderr}")
    fill_s = time.perf_counter() - began
    facts = json.loads(filled.stdout.strip().splitlines()[-1])
    command = [str(bin_dir / "mlflow"), "server", "--backend-store-uri", store,
               "--default-artifact-root", str(artifacts), "--host", "127.0.0.1"]  # fmt: skip
    server = Server(
        "mlflow-tracking",
        lambda port: [*command, "--port", str(port)],
        "/health",
        env={
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            # Its job runner (huey consumers for GenAI jobs, five processes polling) serves
            # nothing measured here; off, it neither loads the shared machine nor the store.
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        },
    )
    with started(server, start_timeout_s=300) as running:
        yield Tracking(
            f"http://127.0.0.1:{running.port}",
            str(facts["experiment_id"]),
            facts["first_by_accuracy"],
            facts["first_by_start"],
            fill_s,
        )


def search(tracking: Tracking, order_by: str) -> tuple[float, list[str]]:
    """One `runs/search` for the first 100 runs in `order_by`; its seconds and the run names.

    Raises:
        SystemExit: The server answered something other than 100 runs.
    """
    body = {"experiment_ids": [tracking.experiment_id], "max_results": PAGE_SIZE,
            "order_by": [order_by], "run_view_type": "ACTIVE_ONLY"}  # fmt: skip
    request = urllib.request.Request(
        tracking.base + SEARCH_PATH,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    began = time.perf_counter()
    with urllib.request.urlopen(request, timeout=300) as response:
        answer = response.read()
    took = time.perf_counter() - began
    names = [run["info"]["run_name"] for run in json.loads(answer).get("runs", [])]
    if len(names) != PAGE_SIZE:
        raise SystemExit(f"MLflow's search ({order_by}) returned {len(names)} runs, not 100")
    return took, names
