"""The servers of `benchmarks/serving.py`: the model, the peers' venvs, starting and stopping.

Everything made here is cached under `benchmarks/.data/` (git-ignored) and made once: the
census model (the census example's pipeline, run from a temporary copy), a venv per peer
(rebuilt when its requirements file changes) and the MLflow copy of the model. Each server
runs in a new session (process group) of its own, so stopping it stops every process it
started, and writes its log to `benchmarks/.data/serving/logs/`.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from peers.load import process_tree
from shipyard.io.ports import free_port

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

ROOT = Path(__file__).resolve().parents[2]
PEERS = ROOT / "benchmarks" / "peers"
DATA = ROOT / "benchmarks" / ".data" / "serving"
VENVS = ROOT / "benchmarks" / ".data" / "venvs"
CENSUS = ROOT / "examples" / "census"
MODEL_NAME = "census"
NUMBERS = ("education", "experience")
BODIES_PER_SIZE = 64
SHARED_PACKAGES = ("onnxruntime", "uvicorn", "httptools", "uvloop", "numpy")
"""Pinned in every peer venv to the version Shipyard's environment has."""


@dataclass(frozen=True)
class Server:
    """How to start one server and talk to it.

    Attributes:
        name: The name in the table.
        command: The command line for a port.
        ready_path: Answers 200 once the model is loaded.
        predict_path: Where requests go.
        body_format: TF Serving's `instances` or MLflow's `dataframe_split`.
        env: Added to the environment.
        checks_answers: Whether its answers are the model's (the floor's are not).
    """

    name: str
    command: Callable[[int], list[str]]
    ready_path: str
    predict_path: str = f"/v1/models/{MODEL_NAME}:predict"
    body_format: Literal["instances", "dataframe_split"] = "instances"
    env: dict[str, str] = field(default_factory=dict)
    checks_answers: bool = True


@dataclass(frozen=True)
class Running:
    """A started server."""

    server: Server
    port: int
    process: subprocess.Popen[bytes]

    def pids(self) -> list[int]:
        """The server's processes (uvicorn workers included)."""
        return process_tree(self.process.pid)

    def requests(self, bodies: list[bytes]) -> list[bytes]:
        """Whole HTTP/1.1 requests, head and body, for the load generator."""
        head = (
            f"POST {self.server.predict_path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            "Content-Type: application/json\r\n"
        ).encode()
        return [head + b"Content-Length: %d\r\n\r\n" % len(body) + body for body in bodies]

    def check(self, body: bytes) -> list[list[float]] | None:
        """Send one request; return the class probabilities it answered (None: the floor).

        Raises:
            SystemExit: The server did not answer 200.
        """
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Content-Type": "application/json"}
        connection.request("POST", self.server.predict_path, body, headers)
        response = connection.getresponse()
        answer = response.read()
        connection.close()
        if response.status != 200:
            raise SystemExit(f"{self.server.name} answered {response.status}: {answer[:500]!r}")
        if not self.server.checks_answers:
            return None
        return [row["probabilities"] for row in json.loads(answer)["predictions"]]


def census_model() -> Path:
    """The census model's base path (`.../census/1/model.onnx`); trained on first use."""
    base = DATA / "models" / MODEL_NAME
    if (base / "1" / "model.onnx").exists():
        return base
    print("Training the census model (once): shipyard run examples/census/pipeline.py ...")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "census"
        shutil.copytree(CENSUS, work, ignore=shutil.ignore_patterns("models", ".*"))
        command = [sys.executable, "-m", "shipyard", "run", "pipeline.py"]
        done = subprocess.run(command, cwd=work, capture_output=True, text=True, check=False)
        if done.returncode or not (work / "models" / MODEL_NAME / "1").is_dir():
            raise SystemExit(f"Training the census model failed:\n{done.stdout}\n{done.stderr}")
        staging = base.with_name(MODEL_NAME + ".tmp")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(work / "models" / MODEL_NAME, staging)
        shutil.rmtree(base, ignore_errors=True)
        staging.rename(base)
    return base


def read_rows() -> list[dict[str, object]]:
    """The census rows without the label, numbers as floats (the model's inputs)."""
    with (CENSUS / "data" / "census.csv").open(newline="") as file:
        rows: list[dict[str, object]] = []
        for row in csv.DictReader(file):
            del row["high_wage"]
            rows.append({k: float(v) if k in NUMBERS else v for k, v in row.items()})
    return rows


def request_bodies(
    body_format: str, rows: list[dict[str, object]], instances: int, *, seed: int
) -> list[bytes]:
    """`BODIES_PER_SIZE` JSON bodies of `instances` random rows each, in `body_format`."""
    sample = random.Random(seed * 1000 + instances)
    columns = list(rows[0])
    bodies = []
    for _ in range(BODIES_PER_SIZE):
        chunk = sample.sample(rows, instances)
        if body_format == "instances":
            content: object = {"instances": chunk}
        else:
            data = [[row[c] for c in columns] for row in chunk]
            content = {"dataframe_split": {"columns": columns, "data": data}}
        bodies.append(json.dumps(content, separators=(",", ":")).encode())
    return bodies


def serve_help() -> str:
    """The text of `shipyard serve --help`, unwrapped."""
    done = subprocess.run(
        [sys.executable, "-m", "shipyard", "serve", "--help"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "COLUMNS": "250", "NO_COLOR": "1", "TERM": "dumb"},
    )
    return done.stdout


def batching_flags() -> bool:
    """Whether `shipyard serve` has `--enable-batching`."""
    return "--enable-batching" in serve_help()


def shipyard_servers(
    model: Path, *, threads: int | None, extra: list[str], batching: list[str] | None
) -> list[Server]:
    """`shipyard serve` as users start it, and with batching when `batching` is given.

    With `threads` None it runs with serve's own ONNX Runtime defaults, as users get them.
    """
    command = [sys.executable, "-m", "shipyard", "serve", "--model-base-path", str(model)]
    if threads is not None:
        command += ["--intra-op-threads", str(threads), "--inter-op-threads", str(threads)]
    command += extra
    servers = [Server("shipyard", _with_port(command, "--port"), "/v2/health/ready")]
    if batching is not None:
        batched = [*command, "--enable-batching", *batching]
        servers.append(
            Server("shipyard+batching", _with_port(batched, "--port"), "/v2/health/ready")
        )
    return servers


def peer_servers(model: Path, wanted: set[str], *, threads: int) -> list[Server]:
    """The minimal app, the FastAPI app, `mlflow models serve` and the floor, those in `wanted`."""
    onnx = latest_version(model) / "model.onnx"
    servers = []
    if "minimal" in wanted:
        minimal = [sys.executable, str(PEERS / "minimal_app.py"), "--model", str(onnx)]
        minimal += ["--name", MODEL_NAME, "--threads", str(threads)]
        servers.append(Server("minimal", _with_port(minimal, "--port"), "/health"))
    if "fastapi" in wanted:
        fastapi = [str(peer_venv("fastapi") / "python"), str(PEERS / "fastapi_app.py")]
        fastapi += ["--model", str(onnx), "--name", MODEL_NAME, "--threads", str(threads)]
        servers.append(Server("fastapi", _with_port(fastapi, "--port"), "/health"))
    if "mlflow" in wanted:
        bin_dir = peer_venv("mlflow")
        saved = mlflow_model(bin_dir, onnx, threads=threads)
        mlflow = [str(bin_dir / "mlflow"), "models", "serve", "-m", str(saved)]
        mlflow += ["--env-manager", "local", "-h", "127.0.0.1", "-w", "1"]
        servers.append(
            Server(
                "mlflow",
                _with_port(mlflow, "-p"),
                "/health",
                predict_path="/invocations",
                body_format="dataframe_split",
                # `mlflow models serve` runs `uvicorn` from PATH: the venv's.
                env={"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"},
            )
        )
    if "floor" in wanted:
        floor = [sys.executable, str(PEERS / "floor_app.py"), "--name", MODEL_NAME]
        servers.append(
            Server("floor", _with_port(floor, "--port"), "/v2/health/ready", checks_answers=False)
        )
    return servers


def _with_port(command: list[str], flag: str) -> Callable[[int], list[str]]:
    return lambda port: [*command, flag, str(port)]


def latest_version(base: Path) -> Path:
    return max((p for p in base.iterdir() if p.name.isdigit()), key=lambda p: int(p.name))


def shared_pins() -> str:
    """Requirement lines pinning the serving stack to the versions Shipyard runs on here.

    A peer on another ONNX Runtime or HTTP server would measure the versions, not the
    servers; every peer venv gets these, and is rebuilt when Shipyard's change.
    """
    from importlib.metadata import PackageNotFoundError, version

    lines = ["# pinned to the versions in Shipyard's environment (servers.shared_pins)"]
    for package in SHARED_PACKAGES:
        try:
            lines.append(f"{package}=={version(package)}")
        except PackageNotFoundError:
            continue
    return "\n".join(lines) + "\n"


def peer_venv(name: str, *, venv: Path | None = None, shared: bool = True) -> Path:
    """The bin directory of the peer's venv, made from `requirements-NAME.txt` if needed.

    Its bytecode is compiled once, as `pip install` does where `PYTHONDONTWRITEBYTECODE` is
    not set (it is here): without it every start of the peer would compile its modules.

    Args:
        name: The peer; its venv is `VENVS/NAME` unless `venv` says where.
        venv: Where the venv goes.
        shared: Whether the packages in `SHARED_PACKAGES` get Shipyard's versions
            (`shared_pins`): a serving peer's do; a peer that serves no model needs none.
    """
    requirements = PEERS / f"requirements-{name}.txt"
    venv = venv or VENVS / name
    stamp = venv / ".requirements.txt"
    wanted = requirements.read_text() + (shared_pins() if shared else "")
    if stamp.exists() and stamp.read_text() == wanted:
        return venv / "bin"
    print(f"Creating the {name} venv (once): {venv} ...")
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    pinned = venv / "requirements.txt"
    pinned.write_text(wanted)
    subprocess.run([*pip, "-r", str(pinned)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "compileall", "-q", str(venv / "lib")], check=False)
    stamp.write_text(wanted)
    return venv / "bin"


def mlflow_model(bin_dir: Path, onnx: Path, *, threads: int) -> Path:
    """The model saved as an MLflow pyfunc model (peers/mlflow_model.py), made once."""
    digest = hashlib.sha256(onnx.read_bytes()).hexdigest()[:12]
    saved = DATA / "mlflow" / f"{MODEL_NAME}-{digest}-threads{threads}"
    if (saved / "MLmodel").exists():
        return saved
    staging = saved.with_name(saved.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    command = [str(bin_dir / "python"), str(PEERS / "mlflow_model.py"), "--onnx", str(onnx)]
    command += ["--out", str(staging), "--threads", str(threads)]
    subprocess.run(command, check=True, capture_output=True)
    staging.rename(saved)
    return saved


@contextlib.contextmanager
def started(server: Server, *, start_timeout_s: float = 180.0) -> Iterator[Running]:
    """Start `server` on a free port, wait until it is ready, and stop it afterwards.

    Raises:
        SystemExit: It exited or was not ready within `start_timeout_s`.
    """
    port = free_port()
    logs = DATA / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{server.name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            server.command(port),
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **server.env},
            cwd=DATA,
            start_new_session=True,
        )
        try:
            _wait_ready(process, port, server.ready_path, start_timeout_s, log_path)
            yield Running(server, port, process)
        finally:
            _stop(process)


def answers_ok(port: int, path: str) -> bool:
    """Whether `GET path` on 127.0.0.1:`port` answers 200 now (not yet listening: False)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path)
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def _wait_ready(
    process: subprocess.Popen[bytes], port: int, path: str, timeout_s: float, log: Path
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"The server exited ({process.returncode}):\n{log.read_text()}")
        if answers_ok(port, path):
            return
        time.sleep(0.2)
    _stop(process)
    raise SystemExit(f"The server was not ready in {timeout_s:g} s:\n{log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's process group, SIGKILL to whatever is left after 20 s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        process.poll()
        try:
            os.killpg(process.pid, 0)  # anyone left in the group?
        except ProcessLookupError:
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
