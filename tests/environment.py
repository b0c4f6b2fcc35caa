"""The environment of the Shipyard processes a test starts."""

from __future__ import annotations

import os

KEPT = ("SHIPYARD_CEILING_DIRECTORIES",)
"""Settings a child keeps: the suite's guard against a store found above its directories."""


def child_environment() -> dict[str, str]:
    """This process's environment without the caller's `SHIPYARD_*` settings (store, home,
    artifact root...), so a child finds the store its test made, and only that one."""
    return {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_") or k in KEPT}
