"""The `infra_validate` component (TFX's InfraValidator): serve the model before pushing it.

The exported model is copied to a temporary model repository (`TMP/NAME/1/`) and served by
a real `shipyard serve` process on 127.0.0.1 and a free port, exactly as production would
load it: the same ONNX Runtime session, signature checks and warm-up. Once the server is
ready, `requests` requests of `rows_per_request` rows each are sent to `:predict`; the
rows come from the server's request log when `request_log` is given (what production
really sends), else from the `split` split of `examples`. The model is infra blessed only
when the server started within `startup_timeout_s`, every request was answered 200 with one
well-formed prediction per row (every output of the signature), and each answer came
within `max_latency_ms`. The server is then stopped (SIGTERM, as `shipyard serve` expects).

A server process costs its start-up (importing ONNX Runtime, Starlette and uvicorn, and
loading the model: 0.8 s of the step's 1.1 s, docs/benchmarks/promote13.md), which is why
`tabular_pipeline` runs this step only when asked (`infra_validation=True`,
`shipyard train --infra-validate`).
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.artifacts import Examples, InfraBlessing, InfraValidation, Model
from shipyard.artifacts.exported_model import load_signature
from shipyard.artifacts.infra_blessing import MAX_PROBLEMS
from shipyard.dsl import Out, component
from shipyard.dsl.parameters import invalid_parameter
from shipyard.errors import DataError, ServingError
from shipyard.io.ports import free_port

if TYPE_CHECKING:
    from shipyard.artifacts.exported_model import Signature
    from shipyard.client import Client

_WHO = "infra_validate"
_SERVED_NAME = "candidate"


@component
def infra_validate(
    model: Model,
    infra_blessing: Out[InfraBlessing],
    examples: Examples | None = None,
    *,
    request_log: Path | None = None,
    split: str = "eval",
    requests: int = 20,
    rows_per_request: int = 1,
    max_latency_ms: float = 1000.0,
    startup_timeout_s: float = 60.0,
) -> None:
    """Serve `model` in a `shipyard serve` process and bless it if it answers well.

    Args:
        model: The exported model to validate.
        infra_blessing: Receives the outcome (`infra_blessing.json`; `blessed` in its
            properties), which `push` checks.
        examples: Where the request rows come from when there is no `request_log`.
        request_log: The model's request log, `DIR/MODEL` of a server's
            `--request-log-dir DIR` (or a glob of its Parquet files): its newest rows are
            replayed.
        split: The split of `examples` to take rows from.
        requests: How many requests to send.
        rows_per_request: Rows in each request.
        max_latency_ms: The most one request may take, in milliseconds.
        startup_timeout_s: How long the server may take to load the model and listen.

    Raises:
        InvalidParameterError: A count or bound is not positive, or neither `examples` nor
            `request_log` is given.
        DataError: The rows cannot be read, or are too few.

    Example:
        >>> checked = infra_validate(model=trained.outputs.model, examples=raw.outputs.examples)
        >>> push(model=..., blessing=..., infra_blessing=checked.outputs.infra_blessing, ...)
    """
    for name, value in (("requests", requests), ("rows_per_request", rows_per_request)):
        if isinstance(value, bool) or value < 1:
            raise invalid_parameter(_WHO, name, "an int >= 1", value)
    bounds = (("max_latency_ms", max_latency_ms), ("startup_timeout_s", startup_timeout_s))
    for name, bound in bounds:
        if not bound > 0:
            raise invalid_parameter(_WHO, name, "a number > 0", bound)
    if examples is None and request_log is None:
        raise invalid_parameter(
            _WHO, "request_log", "a request log directory when no examples are given", None
        )
    signature = load_signature(model.path / Model.SIGNATURE_FILENAME)
    wanted = requests * rows_per_request
    if request_log is not None:
        rows = _logged_rows(Path(request_log), signature, wanted)
        source = f"request log {request_log}"
    else:
        assert examples is not None
        rows, source = _example_rows(examples, split, signature, wanted), f"{split} split"
    batches = [rows[i : i + rows_per_request] for i in range(0, len(rows), rows_per_request)]
    infra_blessing.save(
        _serve_and_check(
            model.path,
            signature,
            batches,
            source=source,
            max_latency_ms=max_latency_ms,
            startup_timeout_s=startup_timeout_s,
        )
    )
    infra_blessing.properties["model_id"] = model.id
    infra_blessing.properties["model_fingerprint"] = model.fingerprint


def _serve_and_check(
    model_dir: Path,
    signature: Signature,
    batches: list[list[dict[str, Any]]],
    *,
    source: str,
    max_latency_ms: float,
    startup_timeout_s: float,
) -> InfraValidation:
    from shipyard.client import Client

    problems: list[str] = []
    latencies: list[float] = []
    startup_s: float | None = None
    with tempfile.TemporaryDirectory(prefix="shipyard-infra-") as scratch:
        base = Path(scratch) / _SERVED_NAME
        shutil.copytree(model_dir, base / "1")
        port = free_port()
        log = Path(scratch) / "serve.log"
        started = time.monotonic()
        with log.open("wb") as output:
            server = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "shipyard",
                    "serve",
                    "--model-base-path",
                    str(base),
                    "--port",
                    str(port),
                    "--poll-seconds",
                    "0",
                ],
                stdout=output,
                stderr=subprocess.STDOUT,
                env=_child_environment(),
            )
        try:
            timeout_s = max(30.0, max_latency_ms / 1000)
            with Client(f"http://127.0.0.1:{port}", timeout_s=timeout_s) as client:
                failure = _wait_ready(client, server, started + startup_timeout_s)
                if failure is None:
                    startup_s = time.monotonic() - started
                    for index, batch in enumerate(batches):
                        problem, seconds = _check_one(client, signature, batch, max_latency_ms)
                        latencies.append(seconds * 1000)
                        if problem is not None and len(problems) < MAX_PROBLEMS:
                            problems.append(f"request {index + 1}: {problem}")
                else:
                    problems.append(failure or _startup_problem(server, log, startup_timeout_s))
        finally:
            _stop(server)
    return InfraValidation(
        blessed=not problems,
        requests=len(batches),
        rows=sum(map(len, batches)),
        source=source,
        max_latency_ms=max_latency_ms,
        latencies_ms=_summarize(latencies),
        startup_s=None if startup_s is None else round(startup_s, 3),
        problems=tuple(problems),
    )


def _check_one(
    client: Client, signature: Signature, batch: list[dict[str, Any]], max_latency_ms: float
) -> tuple[str | None, float]:
    """Send one request; return what is wrong with its answer (None: nothing) and its time."""
    start = time.perf_counter()
    try:
        predictions = client.predict(_SERVED_NAME, batch)
    except ServingError as error:
        return f"answered {error.status or 'nothing'}: {error.server_message or error}", (
            time.perf_counter() - start
        )
    seconds = time.perf_counter() - start
    problem = _malformed(predictions, signature, len(batch))
    if problem is None and seconds * 1000 > max_latency_ms:
        problem = f"took {seconds * 1000:.1f} ms, over the bound of {max_latency_ms:g} ms"
    return problem, seconds


def _malformed(predictions: Any, signature: Signature, rows: int) -> str | None:
    """Say what is wrong with a `:predict` answer, or None when it is well-formed."""
    if not isinstance(predictions, list) or len(predictions) != rows:
        return f"expected {rows} predictions, got {predictions!r:.200}"
    names = {spec.name for spec in signature.outputs}
    for row, prediction in enumerate(predictions):
        if len(names) > 1:
            if not isinstance(prediction, dict) or set(prediction) != names:
                return f"prediction {row} is not one value per output ({sorted(names)})"
            values = list(prediction.values())
        else:
            values = [prediction]
        if any(_not_finite(value) for value in values):
            return f"prediction {row} holds NaN or an infinity: {prediction!r:.200}"
    return None


def _not_finite(value: Any) -> bool:
    if isinstance(value, list):
        return any(_not_finite(item) for item in value)
    return isinstance(value, float) and not math.isfinite(value)


def _example_rows(
    examples: Examples, split: str, signature: Signature, wanted: int
) -> list[dict[str, Any]]:
    if split not in examples.splits:
        raise invalid_parameter(_WHO, "split", f"one of {examples.splits}", split)
    table = examples.read(split).slice(0, wanted)
    return _rows(table.to_pylist(), signature, wanted, f"the {split} split")


def _logged_rows(source: Path, signature: Signature, wanted: int) -> list[dict[str, Any]]:
    import glob

    import pyarrow.parquet as pq

    names = source.rglob("*.parquet") if source.is_dir() else map(Path, glob.glob(str(source)))
    files = sorted(names)
    files = [f for f in files if not any(part.startswith(".") for part in f.parts[-3:])]
    rows: list[dict[str, Any]] = []
    for file in reversed(files):  # newest first: the log's names start with their UTC time
        try:
            table = pq.read_table(file)
        except OSError as exc:
            raise DataError(f"cannot read the request log file: {exc}", path=str(file)) from exc
        renamed = {f"input.{spec.name}": spec.name for spec in signature.inputs}
        table = table.rename_columns([renamed.get(n, n) for n in table.schema.names])
        rows.extend(table.to_pylist())
        if len(rows) >= wanted:
            break
    return _rows(rows[:wanted], signature, wanted, f"the request log {source}")


def _rows(
    records: list[dict[str, Any]], signature: Signature, wanted: int, where: str
) -> list[dict[str, Any]]:
    """Keep the signature's inputs of each record, as JSON values."""
    if not records:
        raise DataError(f"{where} holds no row to send ({wanted} wanted).")
    inputs = [spec.name for spec in signature.inputs]
    rows = []
    for record in records:
        row = {name: _json_value(record[name]) for name in inputs if name in record}
        rows.append(row)
    return rows


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return str(value)


def _child_environment() -> dict[str, str]:
    """This environment, with the `shipyard` package this process runs first on the path."""
    checkout = str(Path(__file__).resolve().parents[2])  # holds the `shipyard` package
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [checkout, env.get("PYTHONPATH")]))
    return env


def _wait_ready(client: Client, server: subprocess.Popen[bytes], deadline: float) -> str | None:
    """Wait for the server to serve the model; return why it does not ("" for the log's
    say: it exited or timed out), or None once it is ready."""
    while time.monotonic() < deadline:
        if server.poll() is not None:
            return ""
        if client.ready():
            return None
        try:
            statuses = client.status(_SERVED_NAME)
        except ServingError:
            statuses = []  # not listening yet, or nothing known of the version yet
        failed = [s for s in statuses if s.get("state") == "END"]
        if failed:
            message = failed[0].get("status", {}).get("error_message", "")
            return f"the server could not load the model: {message}"
        time.sleep(0.05)
    return ""


def _startup_problem(server: subprocess.Popen[bytes], log: Path, timeout_s: float) -> str:
    tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-5:]
    said = " | ".join(tail) or "no output"
    if server.poll() is not None:
        return f"the server exited with code {server.returncode} before it was ready: {said}"
    return f"the server was not ready within {timeout_s:g} s: {said}"


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _summarize(latencies_ms: list[float]) -> dict[str, float]:
    if not latencies_ms:
        return {}
    ordered = sorted(latencies_ms)

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]

    return {"median": round(at(0.5), 3), "p95": round(at(0.95), 3), "max": round(ordered[-1], 3)}
