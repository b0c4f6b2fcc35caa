"""`shipyard --version`: the version, where it runs from and what is installed."""

from __future__ import annotations

import platform
import sys
from pathlib import Path

import shipyard
from shipyard._version import __version__
from shipyard.extras import EXTRA_MODULES, installed_extras


def version_line() -> str:
    """Return `shipyard VERSION from DIR (Python X.Y.Z, extras: ...)`, as pip prints its own.

    Example:
        >>> version_line()
        'shipyard 0.1.0 from /srv/.venv/lib/.../shipyard (Python 3.11.7; extras: serve; '
        'not installed: data, train, postgres)'
    """
    installed = installed_extras()
    missing = [extra for extra in EXTRA_MODULES if extra not in installed]
    extras = f"extras: {', '.join(installed) or 'none'}"
    if missing:
        extras += f"; not installed: {', '.join(missing)}"
    where = Path(shipyard.__file__).parent
    return (
        f"shipyard {__version__} from {where} "
        f"(Python {platform.python_version()} at {sys.executable}; {extras})"
    )
