"""OIDC logins under way, kept in the platform's database (`oidc_logins`).

A login begins at one server process (`GET /api/oidc/login` draws the state, nonce and PKCE
verifier) and may finish at another (`/api/oidc/callback`, wherever the load balancer sends
the browser back): both read the same rows, so no sticky sessions are needed. A login may be
finished once, within `PENDING_S` of its start; the row is deleted when it is taken, and
older rows as new logins begin. At most `MAX_PENDING` logins are kept: past that, the oldest
make room (an anonymous client may begin as many as it likes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

from sqlalchemy import delete, func, insert, select

from shipyard.store.sql.tables import oidc_logins

if TYPE_CHECKING:
    from collections.abc import Callable

    from shipyard.platform.database import Database

__all__ = ["MAX_PENDING", "PENDING_S", "OidcLogins", "PendingLogin"]

PENDING_S: Final = 600.0
MAX_PENDING: Final = 10_000


@dataclass(frozen=True)
class PendingLogin:
    """What the callback of a login needs from its start.

    Attributes:
        nonce: The nonce the ID token must carry.
        verifier: The PKCE code verifier.
        redirect_url: The redirect URL sent to the provider (the token request repeats it).
        then: Where the browser goes once signed in (a path of this server).
    """

    nonce: str
    verifier: str
    redirect_url: str
    then: str


def _now() -> datetime:
    return datetime.now(UTC)


class OidcLogins:
    """The OIDC logins under way, in the database every server process shares.

    Args:
        database: The platform's database.
        clock: The UTC clock (tests pass their own).

    Example:
        >>> logins = OidcLogins(database)
        >>> logins.remember(state, PendingLogin(nonce, verifier, redirect_url, "/"))
        >>> logins.take(state).verifier == verifier   # at any process, once
        True
    """

    def __init__(self, database: Database, *, clock: Callable[[], datetime] = _now) -> None:
        self._database = database
        self._clock = clock

    def remember(self, state: str, pending: PendingLogin) -> None:
        """Keep a login begun now under `state` (deleting the expired ones)."""
        now = self._clock()
        table = oidc_logins.c
        with self._database.write() as conn:
            conn.execute(delete(oidc_logins).where(table.started_at <= now - _LIFETIME))
            kept = conn.execute(select(func.count()).select_from(oidc_logins)).scalar_one()
            if kept >= MAX_PENDING:
                oldest = (
                    select(table.state).order_by(table.started_at).limit(kept - MAX_PENDING + 1)
                )
                conn.execute(delete(oidc_logins).where(table.state.in_(oldest.scalar_subquery())))
            conn.execute(
                insert(oidc_logins).values(
                    state=state,
                    nonce=pending.nonce,
                    verifier=pending.verifier,
                    redirect_url=pending.redirect_url,
                    next_path=pending.then,
                    started_at=now,
                )
            )

    def take(self, state: str) -> PendingLogin | None:
        """The login begun under `state`, taken so it cannot be finished again; None if
        there is none (never begun, finished already, or begun over `PENDING_S` ago)."""
        table = oidc_logins.c
        with self._database.write() as conn:
            row = conn.execute(select(oidc_logins).where(table.state == state)).first()
            if row is None:
                return None
            # Of two callbacks racing for one state, one deletes the row; the other finds none.
            if conn.execute(delete(oidc_logins).where(table.state == state)).rowcount != 1:
                return None
        if row.started_at <= self._clock() - _LIFETIME:
            return None
        return PendingLogin(row.nonce, row.verifier, row.redirect_url, row.next_path)


_LIFETIME: Final = timedelta(seconds=PENDING_S)
