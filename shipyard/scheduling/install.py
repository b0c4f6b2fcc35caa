"""Install the scheduler: a systemd unit running it for good, or a cron line running `--once`.

The unit stops the scheduler with SIGTERM only (`KillMode=mixed`): the scheduler stops its
runs itself, which record themselves interrupted, and the next start resumes them.
"""

from __future__ import annotations

import shlex
import sys
from typing import TYPE_CHECKING

from shipyard.scheduling.scheduler import STOP_WAIT_S

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["cron_line", "systemd_unit"]


def _command(triggers: Path, store: str | None, *extra: str) -> str:
    words = [sys.executable, "-m", "shipyard", "schedule", str(triggers), *extra]
    if store is not None:
        words += ["--store", store]
    return shlex.join(words)


def systemd_unit(triggers: Path, store: str | None) -> str:
    """Return a systemd service unit that runs `shipyard schedule TRIGGERS` and restarts it.

    Args:
        triggers: The triggers file (absolute).
        store: The store URL given, if any.

    Example:
        >>> print(systemd_unit(Path("/srv/ml/triggers.yaml"), None))
    """
    return f"""\
# Save as ~/.config/systemd/user/shipyard-schedule.service, then:
#   systemctl --user daemon-reload && systemctl --user enable --now shipyard-schedule
[Unit]
Description=Shipyard scheduler for {triggers}
After=network-online.target

[Service]
Type=simple
WorkingDirectory={triggers.parent}
ExecStart={_command(triggers, store)}
Environment=PYTHONUNBUFFERED=1
Restart=on-failure
RestartSec=10
KillMode=mixed
KillSignal=SIGTERM
TimeoutStopSec={int(STOP_WAIT_S) + 10}

[Install]
WantedBy=default.target
"""


def cron_line(triggers: Path, store: str | None) -> str:
    """Return a crontab line that runs `shipyard schedule TRIGGERS --once` every minute.

    A minute's run that is still waiting for its runs holds the triggers' leases, so the
    next minute's finds nothing to evaluate and ends at once.
    """
    log = triggers.parent / ".shipyard" / "schedule.log"
    command = _command(triggers, store, "--once")
    return (
        "# Add with `crontab -e`; every minute, evaluate the triggers once and run what fires:\n"
        f"* * * * * cd {shlex.quote(str(triggers.parent))} && {command} "
        f">> {shlex.quote(str(log))} 2>&1\n"
    )
