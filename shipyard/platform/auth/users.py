"""The user half of `Accounts`: adding, listing, disabling users and checking passwords."""

from __future__ import annotations

import functools
import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import func, insert, select, update

from shipyard.errors import AlreadyExistsError, InvalidParameterError, NotFoundError
from shipyard.platform.auth import passwords
from shipyard.platform.auth.audit import append
from shipyard.platform.auth.names import check_user_name, taken_once
from shipyard.platform.auth.records import User
from shipyard.store.sql.tables import users

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Row

    from shipyard.platform.auth.records import Actor, OidcIdentity
    from shipyard.platform.database import Database

__all__ = ["UserQueries"]

_USER: Final = select(
    users.c.id,
    users.c.name,
    users.c.superuser,
    users.c.disabled,
    users.c.password_hash,
    users.c.email,
    users.c.created_at,
)


@functools.cache
def _dummy_hash() -> str:
    """A hash to check against when the name is unknown: a miss costs what a wrong password does."""
    return passwords.hash_password(secrets.token_urlsafe(16))


def user_of(row: Row[*tuple[Any, ...]]) -> User:
    """The `User` of a row of `_USER`."""
    return User(
        name=row.name,
        superuser=row.superuser,
        disabled=row.disabled,
        has_password=row.password_hash is not None,
        email=row.email,
        created_at=row.created_at,
    )


class UserQueries:
    """Users: the `Accounts` methods about them."""

    _database: Database

    def add_user(
        self,
        name: str,
        *,
        actor: Actor,
        password: str | None = None,
        superuser: bool = False,
        email: str | None = None,
    ) -> User:
        """Add a user, with no role in any project.

        Args:
            name: The user's name.
            actor: Who adds it, for the audit log.
            password: Its password, hashed with argon2id (None: it logs in with OIDC only,
                or with tokens made for it on the server host).
            superuser: Whether it administers the server.
            email: Its e-mail address.

        Raises:
            InvalidParameterError: The name or password is not allowed.
            AlreadyExistsError: A user has this name already.
        """
        check_user_name(name)
        hashed = None if password is None else passwords.hash_password(password)
        now = datetime.now(UTC)
        with taken_once("user", name), self._database.write() as conn:
            if conn.scalar(select(users.c.id).where(users.c.name == name)) is not None:
                raise AlreadyExistsError(f"A user named {name!r} exists already.")
            conn.execute(
                insert(users).values(
                    name=name,
                    password_hash=hashed,
                    superuser=superuser,
                    disabled=False,
                    email=email,
                    created_at=now,
                )
            )
            append(conn, actor, "user.add", target=name, detail={"superuser": superuser})
        return User(name, superuser, False, hashed is not None, email, now)

    def get_user(self, name: str) -> User:
        """Return the user named `name`.

        Raises:
            NotFoundError: There is none.
        """
        with self._database.read() as conn:
            return user_of(self._user_row(conn, name))

    def list_users(self) -> list[User]:
        """Return every user, by name."""
        with self._database.read() as conn:
            return [user_of(row) for row in conn.execute(_USER.order_by(users.c.name))]

    def set_disabled(self, name: str, disabled: bool, *, actor: Actor) -> User:
        """Disable a user (its password and tokens stop working at once) or enable it again.

        Raises:
            NotFoundError: There is no such user.
        """
        with self._database.write() as conn:
            self._user_row(conn, name)
            conn.execute(update(users).where(users.c.name == name).values(disabled=disabled))
            append(conn, actor, "user.disable" if disabled else "user.enable", target=name)
            return user_of(self._user_row(conn, name))

    def set_password(self, name: str, password: str, *, actor: Actor) -> None:
        """Set a user's password.

        Raises:
            InvalidParameterError: The password is not allowed.
            NotFoundError: There is no such user.
        """
        hashed = passwords.hash_password(password)
        with self._database.write() as conn:
            self._user_row(conn, name)
            conn.execute(update(users).where(users.c.name == name).values(password_hash=hashed))
            append(conn, actor, "user.password", target=name)

    def check_password(self, name: str, password: str) -> User | None:
        """Return the user if `password` is its password and it is enabled, else None.

        The time taken does not tell whether the user exists.
        """
        with self._database.read() as conn:
            row = conn.execute(_USER.where(users.c.name == name)).first()
        stored = row.password_hash if row is not None else None
        matches = passwords.verify_password(stored or _dummy_hash(), password)
        if row is None or stored is None or not matches or row.disabled:
            return None
        if passwords.needs_rehash(stored):
            with self._database.write() as conn:
                rehashed = passwords.hash_password(password)
                conn.execute(
                    update(users).where(users.c.id == row.id).values(password_hash=rehashed)
                )
        return user_of(row)

    def oidc_user(self, identity: OidcIdentity, *, actor: Actor) -> User:
        """Return the user an identity provider vouches for, linking or adding it first.

        The user linked to the issuer and subject (`sub`) is the one. Else a user without
        such a link whose e-mail address is the identity's verified one is linked to it. Else
        a user is added, without a password and with no role in any project, named after the
        identity's `preferred_username`, e-mail address or subject (with `-2`, `-3`... if
        that name is taken).
        """
        by_subject = (users.c.oidc_issuer == identity.issuer) & (
            users.c.oidc_subject == identity.subject
        )
        with self._database.write() as conn:
            row = conn.execute(_USER.where(by_subject)).first()
            if row is not None:
                return user_of(row)
            if identity.email is not None and identity.email_verified:
                unlinked = (users.c.email == identity.email) & users.c.oidc_subject.is_(None)
                row = conn.execute(_USER.where(unlinked).order_by(users.c.id)).first()
            if row is None:
                name = _free_name(conn, identity.names())
                conn.execute(
                    insert(users).values(
                        name=name,
                        superuser=False,
                        disabled=False,
                        email=identity.email,
                        created_at=datetime.now(UTC),
                    )
                )
                detail = {"issuer": identity.issuer, "subject": identity.subject}
                append(conn, actor, "user.add", target=name, detail=detail)
            else:
                name = row.name
                append(conn, actor, "user.link", target=name, detail={"issuer": identity.issuer})
            conn.execute(
                update(users)
                .where(users.c.name == name)
                .values(oidc_issuer=identity.issuer, oidc_subject=identity.subject)
            )
            return user_of(self._user_row(conn, name))

    def count_users(self) -> int:
        """Return how many users there are."""
        with self._database.read() as conn:
            return conn.scalar(select(func.count()).select_from(users)) or 0

    def _user_row(self, conn: Connection, name: str) -> Row[*tuple[Any, ...]]:
        row = conn.execute(_USER.where(users.c.name == name)).first()
        if row is None:
            raise NotFoundError(
                f"No user named {name!r}.", hint="List them with: shipyard users list"
            )
        return row


def _free_name(conn: Connection, wanted: list[str]) -> str:
    """The first of `wanted` that can name a user and is free, else it with `-2`, `-3`..."""
    allowed = [name for name in wanted if _allowed(name)]
    for suffix in ("", *(f"-{n}" for n in range(2, 100))):
        for name in allowed:
            candidate = name[: 128 - len(suffix)] + suffix
            if conn.scalar(select(users.c.id).where(users.c.name == candidate)) is None:
                return candidate
    return f"oidc-{secrets.token_hex(8)}"


def _allowed(name: str) -> bool:
    try:
        check_user_name(name)
    except InvalidParameterError:
        return False
    return True
