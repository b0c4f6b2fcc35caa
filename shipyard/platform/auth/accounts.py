"""`Accounts`: users, their tokens, projects and grants, in the platform's database.

Every change is written with its audit-log entry in one transaction (`audit.append`). The
methods check their input but not who may call them: the HTTP routes ask the `Principal`
(`shipyard.platform.auth.routes`), and the CLI on the server host may do everything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipyard.platform.auth.projects import ProjectQueries
from shipyard.platform.auth.tokens import TokenQueries
from shipyard.platform.auth.users import UserQueries

if TYPE_CHECKING:
    from shipyard.platform.database import Database

__all__ = ["Accounts"]


class Accounts(UserQueries, TokenQueries, ProjectQueries):
    """Users, tokens, projects and grants.

    Args:
        database: The platform's database.

    Example:
        >>> accounts = Accounts(Database("sqlite:///.shipyard/store.db"))
        >>> host = Actor("host:root")
        >>> accounts.add_user("ana", actor=host, password="correct horse")
        >>> accounts.add_project("taxi", actor=host)
        >>> accounts.grant("ana", "taxi", Role.RUNNER, actor=host)
        >>> made = accounts.create_token("ana", actor=host, expires_in=timedelta(days=30))
        >>> accounts.authenticate(made.secret).may(Action.SUBMIT, "taxi")
        True
    """

    def __init__(self, database: Database) -> None:
        self._database = database

    @property
    def database(self) -> Database:
        """The database the accounts are in."""
        return self._database
