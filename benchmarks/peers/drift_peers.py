"""The drift peers of `benchmarks/monitoring.py --with-peers`: their venvs and command lines.

Each peer gets a venv of its own under `benchmarks/.peers/NAME/` (git-ignored), built once
by `servers.peer_venv` from `requirements-NAME.txt` (pinned versions, bytecode compiled) and
rebuilt when that file changes. Its script, `drift_NAME.py`, runs there as a fresh process
(`python -m peers.drift_NAME`, `benchmarks/` on `PYTHONPATH`) on the same Parquet files as
Shipyard; `drift_window.py` says what it prints.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from peers.servers import ROOT, peer_venv

if TYPE_CHECKING:
    from pathlib import Path

PEERS_DIR = ROOT / "benchmarks" / ".peers"
PYTHONPATH = ROOT / "benchmarks"
"""What the peer scripts need on the path (`peers.drift_window`): no Shipyard."""


@dataclass(frozen=True)
class DriftPeer:
    """One drift peer.

    Attributes:
        name: The name in the table.
        key: Its requirements file, venv and script: `requirements-KEY.txt`,
            `benchmarks/.peers/KEY`, `peers/drift_KEY.py`.
        report: What it writes per window, for the table.
        env: Added to its environment.
    """

    name: str
    key: str
    report: str
    env: dict[str, str] = field(default_factory=dict)


DRIFT_PEERS = (
    DriftPeer("Evidently", "evidently", "HTML report (save_html)"),
    DriftPeer(
        "whylogs",
        "whylogs",
        "HTML drift report (summary_drift_report)",
        {"WHYLOGS_NO_ANALYTICS": "True"},
    ),
    DriftPeer(
        "NannyML",
        "nannyml",
        "HTML drift plot (results.plot().write_html)",
        {"NML_DISABLE_USAGE_LOGGING": "1"},
    ),
)


def peer_python(peer: DriftPeer) -> Path | str:
    """The python of the peer's venv, built if needed; or why it could not be built."""
    try:
        bin_dir = peer_venv(peer.key, venv=PEERS_DIR / peer.key, shared=False)
    except (subprocess.CalledProcessError, OSError) as error:
        return f"could not install {PEERS_DIR / peer.key} (see pip's output above): {error}"
    python = bin_dir / "python"
    check = subprocess.run(
        [str(python), "-c", f"import peers.drift_{peer.key}"],
        env={**os.environ, "PYTHONPATH": str(PYTHONPATH), **peer.env},
        capture_output=True,
        text=True,
        check=False,
    )
    if check.returncode:
        return f"its venv {PEERS_DIR / peer.key} cannot import it: {check.stderr.strip()[-500:]}"
    return python


def peer_command(
    python: Path, peer: DriftPeer, reference: Path, current: list[Path], out: Path
) -> list[str]:
    """The command line checking each file of `current` against `reference`."""
    return [
        str(python), "-m", f"peers.drift_{peer.key}", "--reference", str(reference),
        "--out", str(out), *map(str, current),
    ]  # fmt: skip


def peer_result(stdout: str) -> dict[str, Any]:
    """The JSON line a peer script printed last."""
    result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    return result
