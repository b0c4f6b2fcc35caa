"""`shipyard serve` end to end: the real command in a subprocess, called over 127.0.0.1."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from shipyard.io.ports import free_port
from tests.cli.command import shipyard
from tests.environment import child_environment
from tests.serving.conftest import add_version
from tests.serving.server import Client

pytestmark = pytest.mark.slow


def _wait_ready(client: Client, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, log.read_text()
        try:
            if client.get("/v2/health/ready")[0] == 200:
                return
        except OSError:
            pass
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)


def _start_serving(
    tmp_path: Path, base: Path, *flags: str
) -> tuple[subprocess.Popen[bytes], Client, Path]:
    """Start `shipyard serve --model-base-path BASE FLAGS` on a free port, logging to a file."""
    port = free_port()
    env = child_environment()
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "shipyard", "serve", "--model-base-path", str(base),
             "--port", str(port), "--intra-op-threads", "1", *flags],
            cwd=tmp_path, env=env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    return process, Client(port), log


def test_serve_answers_and_picks_up_new_versions(
    trained: dict[str, Path], tmp_path: Path, penguin_row: dict[str, Any]
) -> None:
    base = tmp_path / "models" / "penguins"
    add_version(base, 1, trained["penguins"])
    process, client, log = _start_serving(tmp_path, base, "--poll-seconds", "0.2")
    try:
        _wait_ready(client, process, log)
        status, body = client.get("/v1/models/penguins")  # named after the base path
        assert status == 200 and body["model_version_status"][0]["version"] == "1"
        status, body = client.post("/v1/models/penguins:predict", {"instances": [penguin_row]})
        assert status == 200 and len(body["predictions"]) == 1

        add_version(base, 2, trained["penguins"])
        deadline = time.monotonic() + 30
        while client.get("/v1/models/penguins")[1]["model_version_status"][0]["version"] != "2":
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        returncode = process.wait(30)
    text = log.read_text()
    # uvicorn shuts down gracefully, then re-raises the signal so the exit status tells it.
    assert returncode == -signal.SIGTERM, text
    assert "Application shutdown complete" in text
    assert "Loaded penguins version 1" in text and "Loaded penguins version 2" in text
    assert "Unloading penguins version 1" in text


def test_workers_share_the_port_and_flush_their_request_logs_on_sigterm(
    trained: dict[str, Path], tmp_path: Path, penguin_row: dict[str, Any]
) -> None:
    add_version(tmp_path / "models" / "penguins", 1, trained["penguins"])
    config = tmp_path / "models.yaml"
    config.write_text(
        "models:\n  - {name: penguins, base_path: models/penguins}\n"
        "batching: {max_batch_size: 16, batch_timeout_micros: 2000, num_batch_threads: 1}\n"
    )
    port = free_port()
    env = child_environment()
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "shipyard", "serve", "--model-config", str(config),
             "--port", str(port), "--workers", "2", "--intra-op-threads", "1",
             "--request-log-dir", "logs", "--request-log-flush-seconds", "3600"],
            cwd=tmp_path, env=env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    client = Client(port)
    try:
        _wait_ready(client, process, log)
        deadline = time.monotonic() + 60
        while len(_worker_pids(client)) < 2:  # both workers loaded the model
            assert time.monotonic() < deadline and process.poll() is None, log.read_text()
            time.sleep(0.1)
        body = {"instances": [penguin_row]}
        with ThreadPoolExecutor(8) as pool:
            answers = list(
                pool.map(lambda _: client.post("/v1/models/penguins:predict", body), range(40))
            )
        assert {status for status, _ in answers} == {200}
        metrics = client.fetch("GET", "/metrics")[2].decode()  # every worker's, added up
        served = 'shipyard_model_version_requests_total{model="penguins",version="1"} 40.0'
        assert served in metrics, metrics
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
    text = log.read_text()
    assert text.count("Application shutdown complete") == 2, text
    files = list((tmp_path / "logs" / "penguins" / "1").glob("*.parquet"))
    table = pq.read_table(files).to_pydict()
    assert len(set(table["request_id"])) == len(table["request_id"]) == 40
    assert {path.name.split("-")[1] for path in files} <= _pids(text)


def test_a_killed_server_loses_at_most_its_unflushed_buffer(
    trained: dict[str, Path], tmp_path: Path, penguin_row: dict[str, Any]
) -> None:
    """SIGKILL (no shutdown at all): every file written is whole, every request answered
    before the last write is in them, and what is lost is at most the buffer since."""
    base = tmp_path / "models" / "penguins"
    add_version(base, 1, trained["penguins"])
    flush_s = 0.2
    process, client, log = _start_serving(
        tmp_path, base, "--request-log-dir", "logs",
        "--request-log-flush-seconds", str(flush_s),
    )  # fmt: skip
    body = {"instances": [penguin_row]}
    try:
        _wait_ready(client, process, log)
        for _ in range(30):
            assert client.post("/v1/models/penguins:predict", body)[0] == 200
        time.sleep(10 * flush_s)  # written by now
        for _ in range(30):  # answered, perhaps not written
            assert client.post("/v1/models/penguins:predict", body)[0] == 200
    finally:
        process.kill()
        process.wait(30)
    folder = tmp_path / "logs" / "penguins" / "1"
    # A write cut short leaves a hidden `.NAME.tmp`, which readers skip; every file named
    # like a log file reads whole.
    rows = pq.read_table(sorted(folder.glob("[!.]*.parquet"))).num_rows
    assert 30 <= rows <= 60


def _worker_pids(client: Client) -> set[str]:
    text = client.fetch("GET", "/metrics")[2].decode()
    lines = [line for line in text.splitlines() if line.startswith("shipyard_model_version_loaded")]
    return {line.split('pid="')[1].split('"')[0] for line in lines}


def _pids(log: str) -> set[str]:
    marker = "Started server process ["
    return {line.split(marker)[1].rstrip("]") for line in log.splitlines() if marker in line}


def test_serve_usage_errors_are_headlines(tmp_path: Path) -> None:
    neither = shipyard(tmp_path, "serve")
    assert neither.returncode == 1
    assert "Pass --model-base-path DIR (one model) or --model-config FILE" in neither.stderr
    missing = shipyard(tmp_path, "serve", "--model-config", str(tmp_path / "none.yaml"))
    assert missing.returncode == 1 and "Cannot read the model config" in missing.stderr
    device = shipyard(tmp_path, "serve", "--model-base-path", "m", "--device", "tpu")
    assert device.returncode == 1 and "--device must be auto, cpu or cuda" in device.stderr
    batching = shipyard(tmp_path, "serve", "--model-base-path", "m", "--max-batch-size", "8")
    assert batching.returncode == 1
    assert "--max-batch-size needs batching on: add --enable-batching" in batching.stderr


def test_a_base_path_without_a_version_fails_at_once(tmp_path: Path) -> None:
    missing = shipyard(tmp_path, "serve", "--model-base-path", "models/penguins")
    assert missing.returncode == 1
    assert (
        f"Nothing to serve: model 'penguins': {tmp_path / 'models' / 'penguins'} does not exist"
        in missing.stderr
    )
    assert "add --wait" in missing.stderr and "Traceback" not in missing.stderr
    (tmp_path / "empty").mkdir()
    empty = shipyard(tmp_path, "serve", "--model-base-path", "empty")
    assert empty.returncode == 1 and "holds no version directory (1, 2, ...)" in empty.stderr
    (tmp_path / "file").write_text("not a directory")
    file = shipyard(tmp_path, "serve", "--model-base-path", "file", "--wait")
    assert file.returncode == 1 and "is not a directory" in file.stderr
    timeout = shipyard(tmp_path, "serve", "--model-base-path", "empty", "--wait-timeout-s", "1")
    assert timeout.returncode == 1 and "--wait-timeout-s goes with --wait" in timeout.stderr


def test_wait_gives_up_after_its_timeout(tmp_path: Path) -> None:
    started = time.monotonic()
    result = shipyard(
        tmp_path, "serve", "--model-base-path", "m", "--wait", "--wait-timeout-s", "0.5"
    )
    assert result.returncode == 1
    assert "Waiting for up to 0.5 s for a version of model 'm'" in result.stderr
    assert "No model version appeared within 0.5 s (--wait-timeout-s)" in result.stderr
    assert time.monotonic() - started < 30
    assert not (tmp_path / "m").exists()


def test_wait_serves_the_first_version_once_it_is_pushed(
    trained: dict[str, Path], tmp_path: Path, penguin_row: dict[str, Any]
) -> None:
    base = tmp_path / "models" / "penguins"
    process, client, log = _start_serving(tmp_path, base, "--wait")
    try:
        deadline = time.monotonic() + 30
        while "Waiting for a version of model 'penguins'" not in log.read_text():
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        time.sleep(0.5)
        assert process.poll() is None, log.read_text()  # still waiting, not failed
        with pytest.raises(OSError):
            client.get("/v2/health/ready")  # and not listening yet
        add_version(base, 1, trained["penguins"])
        _wait_ready(client, process, log)
        status, body = client.post("/v1/models/penguins:predict", {"instances": [penguin_row]})
        assert status == 200 and len(body["predictions"]) == 1
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)


def test_shipyard_help_imports_no_server_library() -> None:
    probe = (
        "import sys, shipyard.cli.main; "
        "print([m for m in ('starlette', 'uvicorn', 'onnxruntime', 'numpy') if m in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


def test_serve_defaults_to_one_intra_op_thread_and_inline_small_requests(
    trained: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shipyard.cli.serve import serve_command
    from shipyard.serving import app

    add_version(tmp_path / "penguins", 1, trained["penguins"])
    served: list[Any] = []
    monkeypatch.setattr(app, "serve", lambda models, options: served.append(options))
    serve_command(model_base_path=tmp_path / "penguins")
    serve_command(model_base_path=tmp_path / "penguins", intra_op_threads=0, inline_run_micros=0)
    default, tuned = served
    assert default.runtime.intra_op_threads == 1 and default.inline_run_micros == 1000
    assert tuned.runtime.intra_op_threads == 0 and tuned.inline_run_micros == 0
