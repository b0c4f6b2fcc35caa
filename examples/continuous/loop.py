"""The continuous-training loop, end to end, on the shipped taxi spans: one command.

    python examples/continuous/loop.py [--workdir DIR]

1. Span 1 arrives: `shipyard run pipeline.py` trains, evaluates and pushes version 1, the
   stable version of `models/models.yaml`.
2. `shipyard serve --model-config models/models.yaml --request-log-dir requests` serves it
   on 127.0.0.1 and logs every request.
3. Traffic drifts: span 2's trips (longer, some by an unknown company, `local` often
   missing; see examples/taxi/make_spans.py) are sent to the server.
4. Span 2 arrives, and `shipyard schedule triggers.yaml --once` runs the `drift` trigger: the
   monitor compares the logged requests with version 1's training statistics (found through
   the store), its drift alert fires, and the trigger retrains on the newest two spans. The
   new model is evaluated against version 1, served once in a `shipyard serve` of its own
   (infra validation) and pushed as a canary taking half the requests.
5. The server picks the new config up; more traffic reaches both versions.
6. `shipyard promote taxi --server URL` compares the canary's live errors and latency with
   stable's and promotes it; `shipyard models` shows version 2 stable.

Every command is the CLI's, run in DIR (default: a new temporary directory, kept, so that
`shipyard runs`, `shipyard lineage` and `shipyard ui` can look at what happened there).
The exit status is 0 once version 2 is stable, 1 if any step went otherwise.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SPANS = HERE.parent / "taxi" / "data"
MODEL = "taxi"
LABEL = "tip"
ROWS_PER_REQUEST = 25


class LoopError(Exception):
    """A step of the loop did not do what it should have."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, help="where to run (default: a new temp dir)")
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="shipyard-continuous-"))
    try:
        run_loop(work)
    except LoopError as error:
        print(f"\nThe loop stopped: {error}\nEverything is in {work}", file=sys.stderr)
        return 1
    print(f"\nEverything is in {work}: try `shipyard runs` or `shipyard ui` there.")
    return 0


def run_loop(work: Path) -> None:
    """Run the six steps in `work`; raise LoopError where one goes otherwise."""
    prepare(work)
    step(1, "span 1 arrives: train, evaluate and push the first version")
    shipyard(work, "run", "pipeline.py")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    step(2, f"serve it on {url}, logging every request")
    server = start_server(work, port)
    try:
        wait_for(lambda: serving_versions(url) == [1], "version 1 to serve")
        step(3, "traffic drifts: span 2's trips are sent to the server")
        sent = send_traffic(url, SPANS / "span-2" / "taxi.csv", rows=3000)
        print(f"  {sent} requests answered")
        time.sleep(1.0)  # the request log writes its buffer every 0.5 s
        step(4, "span 2 arrives; the scheduler's monitor sees the drift and retrains")
        copy_span(work, 2)
        firings = json.loads(shipyard(work, "schedule", "triggers.yaml", "--once", "--json"))
        report_firings(firings)
        step(5, "version 2 serves as a canary, taking half the requests")
        wait_for(lambda: serving_versions(url) == [1, 2], "version 2 to load beside 1")
        sent = send_traffic(url, SPANS / "span-2" / "taxi.csv", rows=5000)
        print(f"  {sent} more requests answered, split between the versions")
        step(6, "promote the canary on its live figures")
        decision = json.loads(
            shipyard(work, "promote", MODEL, "--server", url, "--min-requests", "50", "--json")
        )
        print(f"  {decision['action']}: {decision['reason']}")
        if decision["action"] != "promote":
            raise LoopError(f"the canary was not promoted: {decision['reason']}")
        models = json.loads(shipyard(work, "models", "--server", url, "--json"))
        stable = report_models(models)
    finally:
        stop(server)
    if stable != 2:
        raise LoopError(f"version 2 should be stable after the promotion; stable is {stable}")
    print("\nVersion 2, trained on spans 1 and 2, is the stable version of taxi.")


def prepare(work: Path) -> None:
    """Copy the pipeline, the triggers and span 1 into `work`."""
    work.mkdir(parents=True, exist_ok=True)
    for name in ("pipeline.py", "triggers.yaml"):
        shutil.copy(HERE / name, work / name)
    copy_span(work, 1)
    print(f"Working in {work}")


def copy_span(work: Path, span: int) -> None:
    folder = work / "data" / f"span-{span}"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(SPANS / f"span-{span}" / "taxi.csv", folder / "taxi.csv")


def step(number: int, what: str) -> None:
    print(f"\n== {number}/6 {what}", flush=True)


def shipyard(work: Path, *args: str) -> str:
    """Run `shipyard ARGS` in `work`: its output shows, unless it is `--json`, then returned."""
    as_json = "--json" in args
    done = subprocess.run(
        [sys.executable, "-m", "shipyard", *args],
        cwd=work,
        stdout=subprocess.PIPE if as_json else None,
        stderr=subprocess.PIPE if as_json else None,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        said = f":\n{done.stderr[-3000:]}" if as_json else ""
        raise LoopError(f"`shipyard {' '.join(args)}` exited {done.returncode}{said}")
    return done.stdout if as_json else ""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_server(work: Path, port: int) -> subprocess.Popen[bytes]:
    """`shipyard serve` on `port`, reading the model config the pushes write."""
    log = (work / "serve.log").open("wb")
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "shipyard", "serve"),
            *("--model-config", "models/models.yaml", "--port", str(port)),
            *("--poll-seconds", "0.5", "--request-log-dir", "requests"),
            *("--request-log-flush-seconds", "0.5"),
        ],
        cwd=work,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def stop(server: subprocess.Popen[bytes]) -> None:
    """Stop the server as a supervisor would: SIGTERM, which flushes the request log."""
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - 127.0.0.1
        return json.loads(answer.read())


def serving_versions(url: str) -> list[int]:
    """The versions of the model the server answers for, AVAILABLE, oldest first."""
    try:
        status = get(f"{url}/v1/models/{MODEL}")["model_version_status"]
    except (OSError, urllib.error.URLError, KeyError, ValueError):
        return []
    return sorted(int(v["version"]) for v in status if v["state"] == "AVAILABLE")


def wait_for(condition: Any, what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise LoopError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(0.2)


def send_traffic(url: str, path: Path, *, rows: int) -> int:
    """Send the first `rows` rows of `path` (without the label) as :predict requests."""
    signature = get(f"{url}/v1/models/{MODEL}/metadata")["metadata"]["signature_def"]
    inputs = signature["signature_def"]["serving_default"]["inputs"]
    numeric = {name for name, spec in inputs.items() if spec["dtype"] != "DT_STRING"}
    with path.open(newline="") as handle:
        instances = [
            {k: _value(v, numeric=k in numeric) for k, v in row.items() if k in inputs}
            for _, row in zip(range(rows), csv.DictReader(handle), strict=False)
        ]
    answered = 0
    for start in range(0, len(instances), ROWS_PER_REQUEST):
        body = json.dumps({"instances": instances[start : start + ROWS_PER_REQUEST]}).encode()
        request = urllib.request.Request(  # noqa: S310 - the server on 127.0.0.1
            f"{url}/v1/models/{MODEL}:predict",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - 127.0.0.1
                answered += 1
        except urllib.error.HTTPError as error:
            raise LoopError(f"the server answered {error.code}: {error.read()[:300]!r}") from error
    return answered


def _value(text: str, *, numeric: bool) -> float | str | None:
    if text == "":
        return None  # missing: the model's transform fills it
    return float(text) if numeric else text


def report_firings(firings: list[dict[str, Any]]) -> None:
    """Print what the scheduler fired; raise unless the drift trigger's run completed."""
    fired = [f for f in firings if f["trigger"] == "drift"]
    for firing in fired:
        print(f"  trigger 'drift' fired: {firing['reason']}")
        print(f"  its run {firing['run_id']} ended {firing['state']}")
    if not any(f["state"] == "complete" for f in fired):
        raise LoopError(f"the drift trigger did not start a run that completed: {firings}")


def report_models(models: dict[str, Any]) -> int | None:
    """Print each version's labels and state; return the stable version."""
    stable = None
    for model in models["models"]:
        if model["name"] != MODEL:
            continue
        for version in model["versions"]:
            labels = ", ".join(version["labels"]) or "no label"
            print(f"  version {version['version']}: {labels}, {version['state'] or 'not served'}")
            if "stable" in version["labels"]:
                stable = int(version["version"])
    return stable


if __name__ == "__main__":
    sys.exit(main())
