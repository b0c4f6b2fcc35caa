"""The platform server's own pages: `/`, the projects the signed-in user may read.

Each project's pages are its web UI's (`project_uis`); these share its page shell.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse

from shipyard.platform.access import Action
from shipyard.platform.auth.middleware import principal_of
from shipyard.platform.project_uis import project_ui_path
from shipyard.ui.html import PAGE_CONTEXT, PageContext, escape, link, page

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import BaseRoute

    from shipyard.platform.auth.accounts import Accounts

__all__ = ["page_routes"]


def page_routes(accounts: Accounts) -> list[BaseRoute]:
    """The routes of the server's own pages (see the module's docstring)."""
    from starlette.routing import Route

    async def projects(request: Request) -> Response:
        principal = principal_of(request)
        every = await run_in_threadpool(accounts.list_projects)
        readable = [p for p in every if principal.may(Action.READ, p.name)]
        if not readable:
            body = (
                "<h1>Projects</h1><p class=muted>You have no role in any project yet: ask a "
                "project's admin to grant you one (<code>shipyard grant "
                f"{escape(principal.name)} --project P --role viewer</code>).</p>"
            )
        else:
            rows = "".join(
                f"<tr><th scope=row>{link(project_ui_path(p.name), p.name)}</th>"
                f"<td>{escape(_role(principal.roles.get(p.name), principal.superuser))}</td></tr>"
                for p in readable
            )
            body = (
                "<h1>Projects</h1><table class=grid data-projects><caption>The projects you "
                "may read</caption><thead><tr><th scope=col>Project</th><th scope=col>Your role"
                f"</th></tr></thead><tbody>{rows}</tbody></table>"
            )
        token = PAGE_CONTEXT.set(PageContext(user=principal.name))
        try:
            return HTMLResponse(page("Projects", body, sections=False))
        finally:
            PAGE_CONTEXT.reset(token)

    return [Route("/", projects, methods=["GET"])]


def _role(role: object, superuser: bool) -> str:
    if role is not None:
        return str(role)
    return "server administrator" if superuser else ""
