"""What the admin commands of the platform server share: its accounts, and who acts.

`shipyard users|projects|grant|revoke|tokens|audit` run on the server host, on the server's
store (`--store`, `SHIPYARD_STORE`, or the project's): whoever can run them can read the
database anyway, so they may do everything, and the audit log names them `host:LOGIN`.
"""

from __future__ import annotations

import getpass
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

    from shipyard.platform.auth.accounts import Accounts
    from shipyard.platform.auth.records import Actor


def host_actor() -> Actor:
    """The user of this host, as the audit log names it: `host:LOGIN`."""
    from shipyard.platform.auth.records import Actor

    try:
        login = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container), no login environment
        login = "unknown"
    return Actor(f"host:{login}")


@contextmanager
def open_accounts(store: str | None) -> Iterator[Accounts]:
    """Open the accounts in the store `store` names (see `shipyard.config`), migrated."""
    from shipyard.config import load_settings
    from shipyard.platform.auth.accounts import Accounts
    from shipyard.platform.database import Database

    with Database(load_settings(store=store).store_url) as database:
        yield Accounts(database)
