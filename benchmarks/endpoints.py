"""Endpoints of the platform server: how long a deploy takes, and what clients see meanwhile.

Shipyard: `EndpointSupervisor` deploying registered versions of a real model (the penguins
classifier, trained once by `shipyard train`) to a `shipyard serve` on 127.0.0.1:

1. first deploy: the endpoint's server started and serving version 1 (cold start);
2. canary deploy: version 2 added as a 50% canary, hot-reloaded by the running server;
3. promotion: the canary made stable, hot-reloaded;
4. status: `GET`-equivalent reads of what the server serves and its figures, each.

The peer, in the same run: the same change made by restarting the server (stop, start with
the new model config, wait until it serves both versions), what a process manager without
hot reload does. During both the canary deploy and the restart, one client thread sends
predictions back to back; the failed ones (refused connections, errors) are counted.

    python benchmarks/endpoints.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

CHECKOUT = Path(__file__).resolve().parent.parent
# Shipyard from this checkout, whatever the working directory.
sys.path[0] = str(CHECKOUT)

from shipyard.client import Client  # noqa: E402
from shipyard.errors import ServingError  # noqa: E402
from shipyard.platform.auth.accounts import Accounts  # noqa: E402
from shipyard.platform.auth.records import Actor  # noqa: E402
from shipyard.platform.database import Database  # noqa: E402
from shipyard.platform.models.deployment import Deployment  # noqa: E402
from shipyard.platform.models.registry import ModelRegistry  # noqa: E402
from shipyard.platform.models.serve_process import ServeProcess  # noqa: E402
from shipyard.platform.models.supervisor import EndpointSupervisor  # noqa: E402
from shipyard.serving.labels import Release  # noqa: E402
from tests.platform.models.pushes import push_run  # noqa: E402
from tests.serving.conftest import FAST, PENGUINS, penguin_rows  # noqa: E402

ME = Actor("benchmark")


class Traffic:
    """One thread sending predictions back to back until stopped; counts the failures."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sent = self.failed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Traffic:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        row = penguin_rows()[0]
        while not self._stop.is_set():
            self.sent += 1
            try:
                with Client(self.url, timeout_s=10) as client:
                    client.predict("penguins", [row])
            except ServingError:
                self.failed += 1
                time.sleep(0.01)


def _train(work: Path) -> Path:
    options = ["--label", "species", "--model-name", "penguins", "--push-to", str(work / "trained")]
    argv = [sys.executable, "-m", "shipyard", "train", str(PENGUINS), *options, *FAST]
    env = {**os.environ, "PYTHONPATH": str(CHECKOUT)}
    subprocess.run(argv, cwd=work, env=env, check=True, capture_output=True)
    return work / "trained" / "penguins" / "1"


def _timed(action: Any) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="endpoints-bench-"))
    os.chdir(work)
    store = f"sqlite:///{work / 'store.db'}"
    model = _train(work)
    database = Database(store)
    Accounts(database).add_project("bench", actor=ME)
    registry = ModelRegistry(database, lambda project: store)
    registry.create_model("bench", "penguins", actor=ME)
    for tag in ("one", "two"):
        _, pushed = push_run(store, work / "pushed", tag, source=model)
        registry.register_version("bench", "penguins", artifact_id=pushed, actor=ME)
    environment = {**os.environ, "PYTHONPATH": str(CHECKOUT)}
    supervisor = EndpointSupervisor(registry, work / "root", environment=environment)
    supervisor.start()
    figures: dict[str, list[float]] = {}
    try:
        for repeat in range(options.repeats):
            _one_endpoint(supervisor, f"e{repeat}", figures)
    finally:
        supervisor.close()
        database.close()
    print(f"endpoints benchmark: {options.repeats} repeats, medians (min-max)")
    for what, values in figures.items():
        print(
            f"  {what:45s} {statistics.median(values):8.3f}  ({min(values):.3f}-{max(values):.3f})"
        )


def _one_endpoint(
    supervisor: EndpointSupervisor, name: str, figures: dict[str, list[float]]
) -> None:
    """Deploy, canary, read and promote one endpoint, then the peer's restart; delete it."""

    def note(what: str, value: float) -> None:
        figures.setdefault(what, []).append(value)

    def deploy(**traffic: Any) -> None:
        supervisor.deploy("bench", name, actor=ME, **traffic)

    supervisor.create("bench", name, model="penguins", actor=ME)
    note("first deploy (cold start) s", _timed(lambda: deploy(stable=1)))
    url = supervisor.endpoints.get("bench", name).url
    assert url is not None
    with Traffic(url) as traffic:
        canary = _timed(lambda: deploy(stable=1, canary=2, canary_percent=50))
    note("canary deploy (hot reload) s", canary)
    note("failed requests during canary deploy", traffic.failed)
    note("requests sent during canary deploy", traffic.sent)
    reads = [_timed(lambda: supervisor.status("bench", name)) for _ in range(20)]
    note("status read ms", statistics.median(reads) * 1000)
    promote = _timed(lambda: supervisor.end_canary("bench", name, promote=True, actor=ME))
    note("promotion (hot reload) s", promote)
    _restart_peer(supervisor, name, figures)
    supervisor.delete("bench", name, actor=ME)


def _restart_peer(
    supervisor: EndpointSupervisor, name: str, figures: dict[str, list[float]]
) -> None:
    """The peer: the same canary deploy made by restarting a server on the same port."""
    peer = Deployment(supervisor.root / "peer" / name, "penguins")
    for version in (1, 2):
        peer.install(supervisor.registry.get_version("bench", "penguins", version))
    peer.write(Release(stable=1))
    environment = supervisor.environment
    first = ServeProcess.start(peer.model_config, peer.log_file, environment=environment)
    first.wait_serving("penguins", [1], timeout_s=120)
    with Traffic(first.url) as traffic:
        started = time.perf_counter()
        first.stop()
        peer.write(Release(stable=1, canary=2, percent=50))
        second = ServeProcess.start(
            peer.model_config, peer.log_file, environment=environment, port=first.port
        )
        second.wait_serving("penguins", [1, 2], timeout_s=120)
        elapsed = time.perf_counter() - started
    second.stop()
    peer.remove()
    figures.setdefault("peer: restart deploy s", []).append(elapsed)
    figures.setdefault("peer: failed requests during restart", []).append(traffic.failed)
    figures.setdefault("peer: requests sent during restart", []).append(traffic.sent)


if __name__ == "__main__":
    main()
