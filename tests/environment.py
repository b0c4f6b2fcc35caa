"""The environment of the Shipyard processes a test starts."""

from __future__ import annotations

import os
from pathlib import Path

import shipyard

KEPT = ("SHIPYARD_CEILING_DIRECTORIES",)
"""Settings a child keeps: the suite's guard against a store found above its directories."""

CHECKOUT = Path(shipyard.__file__).resolve().parent.parent
"""The directory holding the `shipyard` package these tests import."""


def child_environment(*, checkout_first: bool = False) -> dict[str, str]:
    """This process's environment without the caller's `SHIPYARD_*` settings (store, home,
    artifact root...), so a child finds the store its test made, and only that one.

    Args:
        checkout_first: Put `CHECKOUT` first on PYTHONPATH, so a child running a script with
            `python -c` imports the same `shipyard` (and `tests`) as this process.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_") or k in KEPT}
    if checkout_first:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(CHECKOUT), env.get("PYTHONPATH")]))
    return env
