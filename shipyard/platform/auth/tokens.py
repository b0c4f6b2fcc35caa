"""The token half of `Accounts`: making, listing, revoking tokens and authenticating with one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import insert, select, update

from shipyard.errors import InvalidParameterError, NotFoundError
from shipyard.platform.access import Principal, Role, Unauthenticated
from shipyard.platform.auth.audit import append
from shipyard.platform.auth.bearer import hash_token, new_token, new_token_id
from shipyard.platform.auth.records import ApiToken, NewToken
from shipyard.store.sql.tables import api_tokens, grants, projects, users

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Row

    from shipyard.platform.auth.records import Actor, TokenKind
    from shipyard.platform.database import Database

__all__ = ["TokenQueries"]

# last_used_at is written at most this often per token: a busy client does not write each time.
LAST_USED_RESOLUTION: Final = timedelta(seconds=60)
_TOKEN: Final = select(
    api_tokens.c.id,
    users.c.name.label("user"),
    api_tokens.c.name,
    api_tokens.c.kind,
    api_tokens.c.created_at,
    api_tokens.c.expires_at,
    api_tokens.c.last_used_at,
    api_tokens.c.revoked_at,
).select_from(api_tokens.join(users, users.c.id == api_tokens.c.user_id))
_AUTHENTICATE: Final = select(
    api_tokens.c.id,
    api_tokens.c.user_id,
    api_tokens.c.expires_at,
    api_tokens.c.last_used_at,
    api_tokens.c.revoked_at,
    users.c.name.label("user"),
    users.c.superuser,
    users.c.disabled,
).select_from(api_tokens.join(users, users.c.id == api_tokens.c.user_id))
_ROLES: Final = select(projects.c.name, grants.c.role).select_from(
    grants.join(projects, projects.c.id == grants.c.project_id)
)


class TokenQueries:
    """API tokens: the `Accounts` methods about them."""

    _database: Database

    def create_token(
        self,
        user: str,
        *,
        actor: Actor,
        name: str = "token",
        expires_in: timedelta | None = None,
        kind: TokenKind = "personal",
    ) -> NewToken:
        """Make a token for `user`; its secret is in the result, and nowhere else afterwards.

        Args:
            user: The user it authenticates.
            actor: Who makes it, for the audit log.
            name: What the token is for (`laptop`, `ci`), 1 to 255 characters.
            expires_in: How long it works (None: until revoked).
            kind: `personal`, or `login` for the token a password login gets.

        Raises:
            InvalidParameterError: The name is empty or too long, or `expires_in` is not
                positive.
            NotFoundError: There is no such user.
        """
        if not 0 < len(name) <= 255:
            raise InvalidParameterError(
                f"A token's name must have 1 to 255 characters. Got {len(name)} instead."
            )
        if expires_in is not None and expires_in <= timedelta(0):
            raise InvalidParameterError(
                f"A token's lifetime must be positive. Got {expires_in} instead."
            )
        secret, token_id, now = new_token(), new_token_id(), datetime.now(UTC)
        expires_at = None if expires_in is None else now + expires_in
        with self._database.write() as conn:
            user_id = conn.scalar(select(users.c.id).where(users.c.name == user))
            if user_id is None:
                raise NotFoundError(
                    f"No user named {user!r} to make a token for.",
                    hint="List them with: shipyard users list",
                )
            conn.execute(
                insert(api_tokens).values(
                    id=token_id,
                    user_id=user_id,
                    name=name,
                    kind=kind,
                    token_hash=hash_token(secret),
                    created_at=now,
                    expires_at=expires_at,
                )
            )
            detail = {"name": name, "kind": kind, "expires_at": _iso(expires_at)}
            append(conn, actor, "token.create", target=f"{user}/{token_id}", detail=detail)
        return NewToken(secret, ApiToken(token_id, user, name, kind, now, expires_at, None, None))

    def list_tokens(self, user: str | None = None) -> list[ApiToken]:
        """Return the tokens of `user` (None: everyone's), oldest first, revoked ones too."""
        query = _TOKEN.order_by(api_tokens.c.created_at, api_tokens.c.id)
        if user is not None:
            query = query.where(users.c.name == user)
        with self._database.read() as conn:
            return [ApiToken(**row._mapping) for row in conn.execute(query)]

    def get_token(self, token_id: str) -> ApiToken:
        """Return the token with id `token_id`.

        Raises:
            NotFoundError: There is none.
        """
        with self._database.read() as conn:
            return self._token(conn, token_id)

    def revoke_token(self, token_id: str, *, actor: Actor) -> ApiToken:
        """Revoke a token: requests with it are refused from now on (revoking twice is no error).

        Raises:
            NotFoundError: There is no token with this id.
        """
        with self._database.write() as conn:
            found = self._token(conn, token_id)
            if found.revoked_at is None:
                conn.execute(
                    update(api_tokens)
                    .where(api_tokens.c.id == token_id)
                    .values(revoked_at=datetime.now(UTC))
                )
            append(conn, actor, "token.revoke", target=f"{found.user}/{token_id}")
            return self._token(conn, token_id)

    def authenticate(self, token: str) -> Principal:
        """Return the principal a token stands for, with its roles as they are now.

        Raises:
            Unauthenticated: The token is unknown, revoked or expired, or its user disabled.
        """
        now = datetime.now(UTC)
        with self._database.read() as conn:
            row = conn.execute(
                _AUTHENTICATE.where(api_tokens.c.token_hash == hash_token(token))
            ).first()
            refused = _refusal(row, now)
            if refused is not None:
                raise Unauthenticated(refused)
            assert row is not None
            roles = {
                name: Role(role)
                for name, role in conn.execute(_ROLES.where(grants.c.user_id == row.user_id))
            }
        if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
            with self._database.write() as conn:
                conn.execute(
                    update(api_tokens).where(api_tokens.c.id == row.id).values(last_used_at=now)
                )
        return Principal(row.user, roles, superuser=row.superuser, token_id=row.id)

    def _token(self, conn: Connection, token_id: str) -> ApiToken:
        row = conn.execute(_TOKEN.where(api_tokens.c.id == token_id)).first()
        if row is None:
            raise NotFoundError(
                f"No token with id {token_id!r}.", hint="List them with: shipyard tokens list"
            )
        return ApiToken(**row._mapping)


def _refusal(row: Row[*tuple[Any, ...]] | None, now: datetime) -> str | None:
    """Why a token's row does not authenticate (None: it does)."""
    if row is None:
        return "The token is not known to this server (mistyped, or made for another server)."
    if row.revoked_at is not None:
        return f"The token {row.id} was revoked at {_iso(row.revoked_at)}."
    if row.expires_at is not None and row.expires_at <= now:
        return f"The token {row.id} expired at {_iso(row.expires_at)}; make a new one."
    if row.disabled:
        return f"The user {row.user!r} is disabled."
    return None


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
