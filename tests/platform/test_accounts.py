"""Users, tokens, projects and grants in the platform's database (SQLite; PostgreSQL too)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select, update

from shipyard.errors import AlreadyExistsError, InvalidParameterError, NotFoundError
from shipyard.platform.access import Action, Role, Unauthenticated
from shipyard.platform.auth.bearer import hash_token
from shipyard.store.sql.tables import api_tokens, users
from tests.platform.conftest import HOST

if TYPE_CHECKING:
    from shipyard.platform.auth.accounts import Accounts
    from shipyard.platform.auth.audit import AuditLog


def test_a_user_logs_in_with_its_password_only_while_enabled(accounts: Accounts) -> None:
    accounts.add_user("ana", actor=HOST, password="correct horse")
    with accounts.database.read() as conn:
        stored = conn.scalar(select(users.c.password_hash))
    assert stored is not None and stored.startswith("$argon2id$")
    assert accounts.check_password("ana", "correct horse") == accounts.get_user("ana")
    assert accounts.check_password("ana", "wrong horse") is None
    assert accounts.check_password("bob", "correct horse") is None
    accounts.set_disabled("ana", True, actor=HOST)
    assert accounts.check_password("ana", "correct horse") is None


def test_names_taken_and_names_not_allowed_are_refused(accounts: Accounts) -> None:
    accounts.add_user("ana", actor=HOST)
    with pytest.raises(AlreadyExistsError, match="'ana' exists already"):
        accounts.add_user("ana", actor=HOST)
    with pytest.raises(InvalidParameterError, match=r"Got '\.\./x' instead"):
        accounts.add_user("../x", actor=HOST)
    accounts.add_project("taxi", actor=HOST)
    with pytest.raises(AlreadyExistsError, match="'taxi' exists already"):
        accounts.add_project("taxi", actor=HOST)
    with pytest.raises(InvalidParameterError, match="Got 'Taxi' instead"):
        accounts.add_project("Taxi", actor=HOST)
    assert [user.name for user in accounts.list_users()] == ["ana"]


def test_a_token_stands_for_its_user_with_the_roles_granted_now(accounts: Accounts) -> None:
    accounts.add_user("ana", actor=HOST)
    accounts.add_project("taxi", actor=HOST)
    accounts.add_project("fraud", actor=HOST)
    made = accounts.create_token("ana", actor=HOST, name="laptop")
    with accounts.database.read() as conn:
        assert conn.scalar(select(api_tokens.c.token_hash)) == hash_token(made.secret)
        assert made.secret not in str(conn.execute(select(api_tokens)).all())
    assert accounts.authenticate(made.secret).roles == {}
    accounts.grant("ana", "taxi", Role.VIEWER, actor=HOST)
    accounts.grant("ana", "taxi", Role.RUNNER, actor=HOST)  # one role per user per project
    principal = accounts.authenticate(made.secret)
    assert principal.roles == {"taxi": Role.RUNNER}
    assert principal.token_id == made.token.id and not principal.superuser
    assert principal.may(Action.SUBMIT, "taxi") and not principal.may(Action.READ, "fraud")
    assert accounts.revoke("ana", "taxi", actor=HOST)
    assert not accounts.revoke("ana", "taxi", actor=HOST)
    assert accounts.authenticate(made.secret).roles == {}


def test_revoked_expired_and_unknown_tokens_and_disabled_users_are_refused(
    accounts: Accounts,
) -> None:
    accounts.add_user("ana", actor=HOST)
    revoked = accounts.create_token("ana", actor=HOST)
    accounts.revoke_token(revoked.token.id, actor=HOST)
    with pytest.raises(Unauthenticated, match=f"{revoked.token.id} was revoked"):
        accounts.authenticate(revoked.secret)
    expiring = accounts.create_token("ana", actor=HOST, expires_in=timedelta(days=1))
    accounts.authenticate(expiring.secret)
    with accounts.database.write() as conn:
        past = datetime.now(UTC) - timedelta(seconds=1)
        conn.execute(update(api_tokens).values(expires_at=past))
    with pytest.raises(Unauthenticated, match="expired at"):
        accounts.authenticate(expiring.secret)
    with pytest.raises(Unauthenticated, match="not known"):
        accounts.authenticate("shp_" + "a" * 43)
    working = accounts.create_token("ana", actor=HOST)
    accounts.set_disabled("ana", True, actor=HOST)
    with pytest.raises(Unauthenticated, match="'ana' is disabled"):
        accounts.authenticate(working.secret)
    accounts.set_disabled("ana", False, actor=HOST)
    assert accounts.authenticate(working.secret).name == "ana"


def test_tokens_are_listed_with_their_state_and_last_use(accounts: Accounts) -> None:
    accounts.add_user("ana", actor=HOST)
    accounts.add_user("bob", actor=HOST, superuser=True)
    made = accounts.create_token("ana", actor=HOST, name="ci", expires_in=timedelta(days=30))
    accounts.create_token("bob", actor=HOST)
    assert accounts.list_tokens("ana")[0].last_used_at is None
    accounts.authenticate(made.secret)
    [listed] = accounts.list_tokens("ana")
    now = datetime.now(UTC)
    assert listed.name == "ci" and listed.state(now) == "active"
    assert listed.last_used_at is not None and listed.last_used_at <= now
    assert listed.expires_at is not None
    assert listed.expires_at - listed.created_at == timedelta(days=30)
    assert [token.user for token in accounts.list_tokens()] == ["ana", "bob"]
    assert accounts.revoke_token(made.token.id, actor=HOST).state(now) == "revoked"
    with pytest.raises(NotFoundError, match="No token with id 'nope'"):
        accounts.revoke_token("nope", actor=HOST)
    with pytest.raises(InvalidParameterError, match="lifetime must be positive"):
        accounts.create_token("ana", actor=HOST, expires_in=timedelta(0))
    with pytest.raises(NotFoundError, match="No user named 'eve'"):
        accounts.create_token("eve", actor=HOST)


def test_grants_name_existing_users_and_projects(accounts: Accounts) -> None:
    accounts.add_user("ana", actor=HOST)
    accounts.add_project("taxi", actor=HOST)
    with pytest.raises(NotFoundError, match="No project named 'fraud'"):
        accounts.grant("ana", "fraud", Role.ADMIN, actor=HOST)
    with pytest.raises(NotFoundError, match="No user named 'eve'"):
        accounts.grant("eve", "taxi", Role.ADMIN, actor=HOST)
    accounts.grant("ana", "taxi", Role.EDITOR, actor=HOST)
    [grant] = accounts.list_grants(project="taxi")
    assert (grant.user, grant.role, grant.granted_by) == ("ana", Role.EDITOR, HOST.name)
    assert accounts.list_grants(user="bob") == []


def test_every_change_is_audited_in_its_transaction(accounts: Accounts, audit: AuditLog) -> None:
    accounts.add_user("ana", actor=HOST, password="correct horse")
    accounts.add_project("taxi", actor=HOST)
    accounts.grant("ana", "taxi", Role.ADMIN, actor=HOST)
    made = accounts.create_token("ana", actor=HOST)
    accounts.revoke_token(made.token.id, actor=HOST)
    accounts.revoke("ana", "taxi", actor=HOST)
    accounts.set_disabled("ana", True, actor=HOST)
    with pytest.raises(AlreadyExistsError):
        accounts.add_user("ana", actor=HOST)  # refused: nothing changed, nothing audited
    events = audit.events()
    assert [(e.action, e.target) for e in events] == [
        ("user.add", "ana"),
        ("project.add", "taxi"),
        ("grant", "ana"),
        ("token.create", f"ana/{made.token.id}"),
        ("token.revoke", f"ana/{made.token.id}"),
        ("revoke", "ana"),
        ("user.disable", "ana"),
    ]
    assert {e.actor for e in events} == {HOST.name}
    assert events[2].project == "taxi" and events[2].detail == {"role": "admin"}
    assert all(e.outcome == "ok" for e in events)
    assert made.secret not in repr(events)


def test_of_users_added_at_once_under_one_name_one_is_added_the_rest_told_so(
    accounts: Accounts,
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def add(_: int) -> str:
        try:
            accounts.add_user("ana", actor=HOST)
        except AlreadyExistsError:
            return "taken"
        return "added"

    with ThreadPoolExecutor(8) as pool:
        outcomes = sorted(pool.map(add, range(8)))
    assert outcomes == ["added"] + ["taken"] * 7
    assert [user.name for user in accounts.list_users()] == ["ana"]
