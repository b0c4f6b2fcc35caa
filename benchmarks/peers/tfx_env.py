"""The peers' environment of `benchmarks/pipeline_speed.py`: a Python 3.10 venv with TFX 1.16.

TFX 1.16 (with TFDV and TFMA 1.16 and Apache Beam) installs on Python 3.10 only. The venv is
built once under `benchmarks/.peers/tfx/` (git-ignored):

1. Python 3.10 is found through pyenv (`pyenv prefix 3.10.13`), else `python3.10` on PATH,
   or named by `$SHIPYARD_PEERS_PYTHON`;
2. `python3.10 -m venv`, `pip install uv`, then
   `uv pip install tfx==1.16.0 "apache-beam[dill]==2.74.0"` (seconds, where pip's resolver
   takes many minutes);
3. `python -m compileall` over site-packages: this environment sets
   `PYTHONDONTWRITEBYTECODE`, and without the bytecode TFX spends 25 s compiling at every
   import, which would be charged to TFX;
4. an import check, then the marker file `.built` holding the requirements.

Every step logs to `benchmarks/.peers/tfx-build.log`. A venv whose marker names the same
requirements is reused as it is; any other is removed and built again.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PEERS_DIR = ROOT / "benchmarks" / ".peers"
VENV = PEERS_DIR / "tfx"
LOG = PEERS_DIR / "tfx-build.log"
MARKER = ".built"
PYENV_VERSION = "3.10.13"
REQUIREMENTS = ("tfx==1.16.0", "apache-beam[dill]==2.74.0")
CHECK = "import tfx, tensorflow_data_validation, tensorflow_model_analysis; print(tfx.__version__)"
INDEX_FAILURES = (
    "Failed to fetch",
    "Could not connect",
    "No solution found",
    "Could not find a version",
    "No matching distribution",
    "Temporary failure in name resolution",
)


def find_python310() -> Path:
    """The Python 3.10 interpreter to build the venv with.

    Raises:
        SystemExit: None was found (the message says where it looked and what to do).
    """
    named = os.environ.get("SHIPYARD_PEERS_PYTHON")
    if named:
        if not Path(named).is_file():
            raise SystemExit(
                f"$SHIPYARD_PEERS_PYTHON names {named}, which is not a file. "
                "Set it to a Python 3.10 interpreter, or unset it to use pyenv's."
            )
        return Path(named)
    looked = []
    pyenv = shutil.which("pyenv")
    if pyenv:
        found = subprocess.run(
            [pyenv, "prefix", PYENV_VERSION], capture_output=True, text=True, check=False
        )
        candidate = Path(found.stdout.strip() or "/nonexistent") / "bin" / "python3.10"
        if found.returncode == 0 and candidate.is_file():
            return candidate
        looked.append(f"`pyenv prefix {PYENV_VERSION}` ({found.stderr.strip() or 'no python'})")
    else:
        looked.append("pyenv (not on PATH)")
    on_path = shutil.which("python3.10")
    if on_path and _is_python310(on_path):
        return Path(on_path)
    looked.append(f"python3.10 on PATH ({on_path or 'absent'})")
    raise SystemExit(
        "TFX 1.16 needs Python 3.10, and none was found. Looked at: "
        + "; ".join(looked)
        + f". Install it (`pyenv install {PYENV_VERSION}`) or set $SHIPYARD_PEERS_PYTHON "
        "to a python3.10 binary, then rerun with --with-peers."
    )


def _is_python310(python: str) -> bool:
    """Whether `python` runs (pyenv's shim fails when 3.10 is not selected) and is 3.10."""
    check = subprocess.run(
        [python, "-c", "import sys; print(sys.version_info[:2] == (3, 10))"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYENV_VERSION": PYENV_VERSION},
    )
    return check.returncode == 0 and check.stdout.strip() == "True"


def is_built(venv: Path = VENV) -> bool:
    """Whether `venv` was built to completion for the current requirements."""
    marker = venv / MARKER
    return marker.is_file() and marker.read_text() == "\n".join(REQUIREMENTS)


def tfx_python(*, venv: Path = VENV, log: Path = LOG) -> Path:
    """The TFX venv's python, built first when it is missing or out of date.

    Raises:
        SystemExit: Python 3.10 is missing, or a step failed (the message names the step and
            the log, and says whether the package index could not be reached).
    """
    python = venv / "bin" / "python"
    if is_built(venv):
        return python
    base = find_python310()
    print(f"Building the TFX 1.16 venv (once, a few minutes): {venv}; log: {log}", flush=True)
    shutil.rmtree(venv, ignore_errors=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    site_packages = venv / "lib" / "python3.10" / "site-packages"
    steps = [
        ("create the venv", [str(base), "-m", "venv", str(venv)]),
        ("install uv", [str(python), "-m", "pip", "install", "uv"]),
        (
            "install TFX",
            [str(python), "-m", "uv", "pip", "install", "--python", str(python), *REQUIREMENTS],
        ),
        ("compile the bytecode", [str(python), "-m", "compileall", "-q", str(site_packages)]),
        ("import TFX", [str(python), "-c", CHECK]),
    ]
    with log.open("w") as handle:
        for step, command in steps:
            handle.write(f"\n$ {' '.join(command)}\n")
            handle.flush()
            done = subprocess.run(command, stdout=handle, stderr=subprocess.STDOUT, check=False)
            if done.returncode != 0:
                raise SystemExit(_failure(step, done.returncode, log))
    (venv / MARKER).write_text("\n".join(REQUIREMENTS))
    return python


def _failure(step: str, returncode: int, log: Path) -> str:
    """The message for a failed build step: what failed, where its log is, what to do."""
    tail = log.read_text(errors="replace").splitlines()[-15:]
    index = any(failure in line for line in tail for failure in INDEX_FAILURES)
    advice = (
        "The package index could not be reached or lacks these versions: check pip's and "
        "uv's index settings (PIP_INDEX_URL, UV_INDEX_URL) and the network"
        if index
        else "Fix the cause shown in the log"
    )
    return (
        f"Building the TFX venv failed at '{step}' (exit {returncode}). Log: {log}. "
        f"{advice}, then rerun with --with-peers (the venv is built again from scratch).\n"
        + "\n".join(f"  | {line}" for line in tail)
    )
