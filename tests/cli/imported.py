"""Which modules a `shipyard` command imported: to keep start-up light, by test."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from tests.cli.command import shipyard

if TYPE_CHECKING:
    import subprocess
    from pathlib import Path

_SITECUSTOMIZE = """
import atexit, json, os, sys

def _record_imports():
    with open(os.environ["SHIPYARD_TEST_IMPORTS"], "w") as out:
        json.dump(sorted(sys.modules), out)

atexit.register(_record_imports)
"""


def imported_modules(
    cwd: Path, *args: str, scratch: Path
) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run `shipyard ARGS` in `cwd` and return its outcome and the modules it had imported
    when it exited (a `sitecustomize.py` written under `scratch` records them)."""
    site = scratch / "imports-site"
    site.mkdir(parents=True, exist_ok=True)
    (site / "sitecustomize.py").write_text(_SITECUSTOMIZE)
    record = scratch / "imports.json"
    done = shipyard(cwd, *args, env={"SHIPYARD_TEST_IMPORTS": str(record)}, site=site)
    return done, set(json.loads(record.read_text()))


def loaded(modules: set[str], *packages: str) -> list[str]:
    """Return those of `packages` that are among `modules`, or any module inside them."""
    return sorted(
        package
        for package in packages
        if any(name == package or name.startswith(f"{package}.") for name in modules)
    )
