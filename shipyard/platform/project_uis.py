"""Every project's web UI under `/projects/P/`, to the principals who may read P.

`ProjectUIs` is the ASGI app the server mounts at `/projects`. A request for
`/projects/P/...` is answered by project P's own UI app (`shipyard.ui.create_app`), served
with the ASGI `root_path` `/projects/P`, so its pages, forms, scripts and `/api/...` all
live under that prefix. Each project's store is opened at its first request and kept open
until the server stops. A project the principal may not read, or that does not exist,
answers 404 either way, so names of other projects are never disclosed; the refusals (a
project one has no role in) are written to the audit log, as the API's are.
"""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse
from starlette.websockets import WebSocketClose

from shipyard.errors import NotFoundError
from shipyard.platform.access import Action, Hidden
from shipyard.platform.auth.denials import record_denial
from shipyard.platform.auth.middleware import principal_of
from shipyard.platform.auth.names import PROJECT_PATTERN
from shipyard.ui.html import PAGE_CONTEXT, PageContext, escape, page
from shipyard.ui.problems import problem

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.types import Receive, Scope, Send

    from shipyard.platform.auth.accounts import Accounts
    from shipyard.platform.auth.audit import AuditLog
    from shipyard.runners import Project

__all__ = ["PROJECTS_PREFIX", "ProjectUIs", "project_ui_path"]

PROJECTS_PREFIX = "/projects"


def project_ui_path(project: str) -> str:
    """The path of project `project`'s web UI on the server."""
    return f"{PROJECTS_PREFIX}/{project}/"


class ProjectUIs:
    """The web UIs of the server's projects (see the module's docstring).

    Args:
        open_project: Opens a project's store and artifacts by the project's name.
        accounts: Which projects exist.
        audit: Where refusals are written.
        models_dir_of: The model repository the models page of a project lists (never the
            server's working directory, which every project would see).

    Example:
        >>> uis = ProjectUIs(lambda name: Project.open(store=store_of(name)), accounts, audit,
        ...                  models_dir_of=lambda name: root / name / "models")
        >>> routes.append(Mount("/projects", app=uis))
        >>> ...
        >>> uis.close()
    """

    def __init__(
        self,
        open_project: Callable[[str], Project],
        accounts: Accounts,
        audit: AuditLog,
        *,
        models_dir_of: Callable[[str], Path],
    ) -> None:
        self._open_project = open_project
        self._accounts = accounts
        self._audit = audit
        self._models_dir_of = models_dir_of
        self._apps: dict[str, tuple[Starlette, Project]] = {}
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request to its project's UI app, or answer 404."""
        if scope["type"] != "http":  # the UIs have no WebSockets (they stream with SSE)
            await WebSocketClose()(scope, receive, send)
            return
        mounted = scope.get("root_path", "")
        rest = scope["path"].removeprefix(mounted)  # "/P/runs/..."
        name, _, inner = rest.removeprefix("/").partition("/")
        api = inner.startswith("api/")
        request = Request(scope)
        principal = principal_of(request)
        if not re.fullmatch(PROJECT_PATTERN, name):
            await _missing(scope["path"], api=api)(scope, receive, send)
            return
        if not principal.may(Action.READ, name):
            await record_denial(self._audit, request, Hidden(f"no role in project '{name}'"))
            await _missing(scope["path"], api=api)(scope, receive, send)
            return
        try:
            made = self._apps.get(name)  # opened before: no thread hop for the lookup
            app = made[0] if made is not None else await run_in_threadpool(self._app_of, name)
        except NotFoundError:
            await _missing(scope["path"], api=api)(scope, receive, send)
            return
        if not inner and not rest.endswith("/"):
            await RedirectResponse(project_ui_path(name), 307)(scope, receive, send)
            return
        token = PAGE_CONTEXT.set(PageContext(project=name, user=principal.name))
        try:
            await app({**scope, "root_path": f"{mounted}/{name}"}, receive, send)
        finally:
            PAGE_CONTEXT.reset(token)

    def _app_of(self, name: str) -> Starlette:
        """The UI app of project `name`, made (and its store opened) at the first call.

        Raises:
            NotFoundError: There is no project `name`.
        """
        with self._lock:
            made = self._apps.get(name)
            if made is None:
                self._accounts.get_project(name)
                from shipyard.ui.api import ModelSources
                from shipyard.ui.app import create_app

                project = self._open_project(name)
                models = ModelSources(self._models_dir_of(name))
                made = self._apps[name] = (create_app(project, models=models), project)
            return made[0]

    def close(self) -> None:
        """Close the stores opened so far."""
        with self._lock:
            for _, project in self._apps.values():
                project.close()
            self._apps.clear()


def _missing(path: str, *, api: bool) -> Response:
    """The 404 of a project one may not read or that does not exist: a problem document for
    the API, a page for a browser."""
    detail = f"Nothing at {path}."
    if api:
        return problem(404, detail)
    body = f"<h1>Not found</h1><p class=alert role=alert>{escape(detail)}</p>"
    return HTMLResponse(page("Not found", body, sections=False), status_code=404)
