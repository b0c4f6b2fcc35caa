"""The platform server's own pages: `/login`, the sign-in form, and `/`, the projects the
signed-in user may read.

Each project's pages are its web UI's (`project_uis`); these share its page shell. The
sign-in form posts the name and password to `POST /api/login` as JSON (with `ui.js`), which
sets the session cookie, then goes on to the page the browser first asked for (`?next=`, a
path of this server only). "Sign in with OIDC" starts `GET /api/oidc/login?next=...`.

Why a form posting to the login is safe from other sites: the session cookie is taken for
reading only (a change needs `Authorization: Bearer`), and a login that sets the cookie must
come as `application/json`, which a page of another site cannot send without the server's
CORS consent (it gives none), so no other site can sign a browser in as someone else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse

from shipyard.platform.access import Action
from shipyard.platform.auth.login import local_path
from shipyard.platform.auth.middleware import principal_of
from shipyard.platform.project_uis import project_ui_path
from shipyard.ui.html import PAGE_CONTEXT, PageContext, escape, link, page

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import BaseRoute

    from shipyard.platform.auth.accounts import Accounts

__all__ = ["LOGIN_PAGE", "PAGE_ASSETS", "page_routes"]

LOGIN_PAGE: Final = "/login"
PAGE_ASSETS: Final = frozenset({"/static/ui.css", "/static/ui.js"})
"""What the sign-in page loads before anyone has signed in."""


def page_routes(accounts: Accounts, *, oidc: bool = False) -> list[BaseRoute]:
    """The routes of the server's own pages (see the module's docstring).

    Args:
        accounts: The projects and who may read them.
        oidc: Whether the sign-in page offers OIDC login.
    """
    from starlette.routing import Route

    async def login(request: Request) -> Response:
        then = local_path(request.query_params.get("next"))
        oidc_start = "/api/oidc/login?" + urlencode({"next": then})
        oidc_link = f"<p>or {link(oidc_start, 'Sign in with OIDC')}</p>" if oidc else ""
        body = (
            "<h1>Sign in</h1>"
            f'<form class=sign-in method=post data-login="/api/login" data-next="{escape(then)}">'
            "<label>User name <input name=name autocomplete=username required autofocus></label>"
            "<label>Password <input name=password type=password autocomplete=current-password "
            "required></label>"
            "<p class=alert role=alert hidden></p>"
            "<button type=submit>Sign in</button></form>"
            f"{oidc_link}"
            "<noscript><p class=alert>Signing in needs JavaScript.</p></noscript>"
        )
        return HTMLResponse(page("Sign in", body, sections=False))

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

    return [Route("/", projects, methods=["GET"]), Route(LOGIN_PAGE, login, methods=["GET"])]


def _role(role: object, superuser: bool) -> str:
    if role is not None:
        return str(role)
    return "server administrator" if superuser else ""
