"""What each install of Shipyard costs on disk; proof that a serving host needs no training stack.

For each install (the core, `[serve]`, `[data]`, `[train]`, `[all]`) a fresh virtual
environment is made with this Python and `pip install` runs into it from this checkout, as
a user would (the training installs get PyTorch's CPU wheel first, as the Makefile does).
Reported: what the install added to site-packages (pip and whatever else `venv` seeds are
not counted), the distributions it added, and the install time. The `serve` environment is
then checked: torch, lightgbm, polars and duckdb must be absent, and `shipyard predict
--model DIR` and `shipyard serve` must answer with ONNX Runtime, on a small exported model
made here.

    python benchmarks/install_size.py                   # every install; a Markdown table
    python benchmarks/install_size.py --only core serve --json

Figures are recorded in docs/benchmarks.md ("Install sizes").
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TORCH_VERSION = "2.13.0"
INSTALLS = {
    "core": ".",
    "serve": ".[serve]",
    "data": ".[data]",
    "train": ".[train]",
    "all": ".[all]",
}
NEEDS_TORCH_FIRST = {"train", "all"}
TRAINING_STACK = ("torch", "lightgbm", "polars", "duckdb")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=list(INSTALLS), default=list(INSTALLS))
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--keep", type=Path, help="make the environments here and keep them")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="shipyard-install-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        results = [measure(name, work / name) for name in args.only]
        if "serve" in args.only:
            check_serving_host(work / "serve", work)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_table(results)


def measure(name: str, venv: Path) -> dict[str, object]:
    """Install `INSTALLS[name]` into a new environment at `venv`; return its figures."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    seeded = installed(python)  # what venv put there (pip, maybe setuptools): not counted
    baseline = directory_size(site)
    pip = [str(python), "-m", "pip", "install", "--progress-bar", "off", "--quiet"]
    started = time.perf_counter()
    if name in NEEDS_TORCH_FIRST:
        subprocess.run([*pip, f"torch=={TORCH_VERSION}"], check=True)
    subprocess.run([*pip, INSTALLS[name]], cwd=ROOT, check=True)
    seconds = time.perf_counter() - started
    distributions = installed(python)
    size = directory_size(site) - baseline
    others = sorted(distributions - seeded - {"shipyard"})
    return {
        "install": f"pip install {INSTALLS[name].replace('.', 'shipyard', 1)}",
        "size_mb": round(size / 1e6, 1),
        "distributions": len(others),
        "names": others,
        "largest": largest(site, 4),
        "seconds": round(seconds, 1),
        "training_stack": [name for name in TRAINING_STACK if name in distributions],
    }


def installed(python: Path) -> set[str]:
    """The names of the distributions installed in the environment of `python`."""
    listing = subprocess.run(
        [str(python), "-m", "pip", "list", "--format", "json"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return {item["name"].lower() for item in json.loads(listing)}


def directory_size(path: Path) -> int:
    """Bytes of the files under `path` (links not followed)."""
    return sum(
        entry.stat(follow_symlinks=False).st_size
        for entry in path.rglob("*")
        if entry.is_file() and not entry.is_symlink()
    )


def largest(site: Path, count: int) -> str:
    """The `count` largest top-level directories of site-packages, as `name MB`."""
    sizes = sorted(
        (
            (directory_size(path), path.name)
            for path in site.iterdir()
            if path.is_dir() and not path.name.endswith((".dist-info", "__pycache__"))
        ),
        reverse=True,
    )[:count]
    return ", ".join(f"{name} {size / 1e6:.0f}" for size, name in sizes)


def check_serving_host(venv: Path, work: Path) -> None:
    """Predict and serve with the `serve` environment; fail if the training stack is there."""
    python = venv / "bin" / "python"
    shipyard = str(venv / "bin" / "shipyard")
    present = [name for name in TRAINING_STACK if name in installed(python)]
    if present:
        raise SystemExit(f"shipyard[serve] installed {', '.join(present)}")
    base = make_model(work / "models" / "double")
    (work / "rows.csv").write_text("x,y\n1,3\n2,0.5\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    out = work / "predictions.jsonl"
    subprocess.run(
        [shipyard, "predict", "--model", str(base), "--input", str(work / "rows.csv"),
         "--output", str(out)],
        check=True, env=env, cwd=work, stdout=sys.stderr,
    )  # fmt: skip
    predictions = [json.loads(line)["predictions"] for line in out.read_text().splitlines()]
    if predictions != [5.0, 4.5]:
        raise SystemExit(f"shipyard predict answered {predictions}, not [5.0, 4.5]")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [shipyard, "serve", "--model-base-path", str(base), "--port", str(port)]
    with subprocess.Popen(command, env=env, cwd=work, stdout=sys.stderr) as server:
        try:
            answer = request(port, server)
        finally:
            server.terminate()
            server.wait(timeout=30)
    if answer != {"predictions": [[5.0]]}:
        raise SystemExit(f"shipyard serve answered {answer}")
    print(
        "serve install: no torch, lightgbm, polars or duckdb; predict and serve answered.",
        file=sys.stderr,
    )


def request(port: int, server: subprocess.Popen[bytes]) -> object:
    """POST one row to the served model once the server is up."""
    url = f"http://127.0.0.1:{port}/v1/models/double:predict"
    body = json.dumps({"instances": [{"x": 1.0, "y": 3.0}]}).encode()
    for _ in range(600):
        try:
            with urllib.request.urlopen(url, data=body, timeout=5) as response:
                return json.loads(response.read())
        except OSError:
            if server.poll() is not None:
                raise SystemExit("shipyard serve exited") from None
            time.sleep(0.1)
    raise SystemExit("shipyard serve did not answer in 60 s")


def make_model(base: Path) -> Path:
    """Write `predictions = 2 * x + y` as an exported model at `base/1`; return `base`."""
    from onnx import TensorProto, helper

    from shipyard.artifacts.exported_model import ExportedModel, write_exported_model

    graph = helper.make_graph(
        [
            helper.make_node("Mul", ["x", "two"], ["twice"]),
            helper.make_node("Add", ["twice", "y"], ["predictions"]),
        ],
        "double",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [None, 1]) for n in ("x", "y")],
        [helper.make_tensor_value_info("predictions", TensorProto.FLOAT, [None, 1])],
        initializer=[helper.make_tensor("two", TensorProto.FLOAT, [], [2.0])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    inputs = [{"name": n, "dtype": "float", "shape": [None, 1]} for n in ("x", "y")]
    signature = {
        "task": "regression",
        "inputs": inputs,
        "outputs": [{"name": "predictions", "dtype": "float", "shape": [None, 1]}],
    }
    write_exported_model(
        base / "1",
        ExportedModel(onnx=model.SerializeToString(), weights=b"", signature=signature, card={}),
    )
    return base


def print_table(results: list[dict[str, object]]) -> None:
    """Print the figures as the Markdown table of docs/benchmarks.md."""
    print("| install | size (MB) | other distributions | largest (MB) | time (s) |")
    print("|---|---:|---:|---|---:|")
    for row in results:
        print(
            f"| `{row['install']}` | {row['size_mb']} | {row['distributions']} | "
            f"{row['largest']} | {row['seconds']} |"
        )


if __name__ == "__main__":
    main()
