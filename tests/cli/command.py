"""Run the real `shipyard` command in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def shipyard(cwd: Path, *args: str, site: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run `shipyard ARGS` in `cwd`, without the caller's SHIPYARD_* settings.

    `site` goes first on PYTHONPATH: its `sitecustomize.py` runs before Shipyard starts.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    env["COLUMNS"] = "200"
    if site is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "shipyard", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
