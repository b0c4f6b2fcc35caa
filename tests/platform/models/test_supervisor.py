"""Endpoints served by real `shipyard serve` processes on 127.0.0.1: a first deploy starts
one, a canary is hot-reloaded into it, a promotion, a killed process restarted (up to the
limit), a restarted supervisor adopting it, and a delete stopping it."""

from __future__ import annotations

import os
import signal
import time
from typing import TYPE_CHECKING, Any

import pytest

from shipyard.client import Client
from shipyard.platform.auth.accounts import Accounts
from shipyard.platform.auth.records import Actor
from shipyard.platform.database import Database
from shipyard.platform.models.documents import status_document
from shipyard.platform.models.registry import ModelRegistry
from shipyard.platform.models.serve_process import is_alive
from shipyard.platform.models.supervisor import EndpointSupervisor
from tests.environment import child_environment
from tests.platform.conftest import HOST
from tests.platform.models.pushes import push_run
from tests.serving.conftest import penguin_rows

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from shipyard.platform.models.records import Endpoint

ANA = Actor("ana")


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModelRegistry]:
    """Project `taxi` with model `penguins`, versions 1 and 2 registered from real pushes."""
    monkeypatch.chdir(tmp_path)
    for var in ("SHIPYARD_STORE", "SHIPYARD_ARTIFACT_ROOT", "SHIPYARD_HOME"):
        monkeypatch.delenv(var, raising=False)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    database = Database(url)
    Accounts(database).add_project("taxi", actor=HOST)
    opened = ModelRegistry(database, lambda project: url)
    yield opened
    database.close()


def _supervisor(registry: ModelRegistry, root: Path) -> EndpointSupervisor:
    supervisor = EndpointSupervisor(
        registry,
        root,
        start_timeout_s=60,
        check_interval_s=0.1,
        max_restarts=1,
        environment=child_environment(checkout_first=True),
    )
    supervisor.start()
    return supervisor


def _wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _predict(endpoint: Endpoint, count: int) -> list[Any]:
    assert endpoint.url is not None
    rows = penguin_rows()
    with Client(endpoint.url, timeout_s=30) as client:
        return [client.predict("penguins", [rows[i % len(rows)]]) for i in range(count)]


@pytest.mark.slow
def test_an_endpoint_is_deployed_canaried_promoted_restarted_adopted_and_deleted(
    registry: ModelRegistry, trained: dict[str, Path], tmp_path: Path
) -> None:
    registry.create_model("taxi", "penguins", actor=ANA)
    for tag in ("one", "two"):
        store = f"sqlite:///{tmp_path / 'store.db'}"
        _, pushed = push_run(store, tmp_path / "pushed", tag, source=trained["penguins"])
        registry.register_version("taxi", "penguins", artifact_id=pushed, actor=ANA)
    supervisor = _supervisor(registry, tmp_path / "root")
    try:
        supervisor.create("taxi", "live", model="penguins", actor=ANA)
        first = supervisor.deploy("taxi", "live", stable=1, actor=ANA)
        assert (first.state, first.stable, first.canary, first.restarts) == ("running", 1, None, 0)
        assert first.pid is not None and first.url is not None
        repository = tmp_path / "root" / "endpoints" / "taxi" / "live" / "models"
        assert (repository / "penguins" / "1" / "tag.txt").read_text() == "one"
        assert len(_predict(first, 3)) == 3

        # A canary: written to the repository and config, reloaded by the same process.
        canaried = supervisor.deploy(
            "taxi", "live", stable=1, canary=2, canary_percent=50, actor=ANA
        )
        assert (canaried.pid, canaried.canary, canaried.canary_percent) == (first.pid, 2, 50)
        supervisor.status("taxi", "live")  # the first reading: no rates yet
        _predict(canaried, 30)
        status = status_document(supervisor.status("taxi", "live"))
        served = {v["version"]: v for v in status["serving"]}
        assert status["error"] is None and status["pid"] == first.pid
        assert {v: (s["state"], s["labels"]) for v, s in served.items()} == {
            2: ("AVAILABLE", ["canary"]),
            1: ("AVAILABLE", ["stable"]),
        }
        assert served[1]["requests"] + served[2]["requests"] == 33
        assert served[2]["requests"] > 0 and served[1]["errors"] == served[2]["errors"] == 0
        assert served[2]["requests_per_s"] > 0

        promoted = supervisor.end_canary("taxi", "live", promote=True, actor=ANA)
        assert (promoted.stable, promoted.canary, promoted.pid) == (2, None, first.pid)

        # Killed: restarted on a new process, once; the limit is 1.
        os.kill(first.pid, signal.SIGKILL)
        _wait_for(
            lambda: (_row(supervisor).restarts, _row(supervisor).state) == (1, "running"),
            "the restart",
        )
        restarted = _row(supervisor)
        assert restarted.pid != first.pid and len(_predict(restarted, 2)) == 2
    finally:
        supervisor.close(stop_servers=False)

    # A new supervisor (a restarted server) adopts the process still serving.
    crashed, supervisor = supervisor, _supervisor(registry, tmp_path / "root")
    try:
        adopted = _row(supervisor)
        assert (adopted.pid, adopted.state) == (restarted.pid, "running")
        assert adopted.message.startswith("adopted the server on")
        assert restarted.pid is not None
        os.kill(restarted.pid, signal.SIGKILL)
        _wait_for(lambda: _row(supervisor).state == "failed", "the endpoint to fail")
        assert "restarted 1 times since its last deploy" in _row(supervisor).message
        assert "serve.log" in _row(supervisor).message

        again = supervisor.deploy("taxi", "live", stable=2, actor=ANA)
        assert (again.state, again.restarts) == ("running", 0)
        assert again.pid is not None
        supervisor.delete("taxi", "live", actor=ANA)
        _wait_for(lambda: not is_alive(again.pid), "the server to stop")  # type: ignore[arg-type]
        assert not (tmp_path / "root" / "endpoints" / "taxi" / "live").exists()
        assert supervisor.list_endpoints("taxi") == []
    finally:
        supervisor.close()
        crashed.close()  # reaps the processes it started (this test is their parent)


def _row(supervisor: EndpointSupervisor) -> Endpoint:
    return supervisor.endpoints.get("taxi", "live")
