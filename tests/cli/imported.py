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
    with open(f"{os.environ['SHIPYARD_TEST_IMPORTS']}.{os.getpid()}", "w") as out:
        json.dump(sorted(sys.modules), out)

def _exit(status, _exit=os._exit):  # workers end with os._exit, skipping atexit
    _record_imports()
    _exit(status)

atexit.register(_record_imports)
os._exit = _exit
"""


def imported_modules(
    cwd: Path, *args: str, scratch: Path
) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run `shipyard ARGS` in `cwd` and return its outcome and the modules that it, or any
    Python process it started (the warm worker), had imported when it exited (a
    `sitecustomize.py` written under `scratch` records each process's)."""
    site = scratch / "imports-site"
    site.mkdir(parents=True, exist_ok=True)
    (site / "sitecustomize.py").write_text(_SITECUSTOMIZE)
    record = scratch / "imports.json"
    done = shipyard(cwd, *args, env={"SHIPYARD_TEST_IMPORTS": str(record)}, site=site)
    records = list(scratch.glob(f"{record.name}.*"))
    assert records, f"no process recorded its imports under {scratch}"
    return done, set().union(*(json.loads(path.read_text()) for path in records))


def loaded(modules: set[str], *packages: str) -> list[str]:
    """Return those of `packages` that are among `modules`, or any module inside them."""
    return sorted(
        package
        for package in packages
        if any(name == package or name.startswith(f"{package}.") for name in modules)
    )


def modules_after(code: str) -> set[str]:
    """Return the modules a fresh Python process (this checkout first) holds after `code`."""
    import subprocess
    import sys

    from tests.environment import child_environment

    script = f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))\n"
    env = child_environment(checkout_first=True)
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())
