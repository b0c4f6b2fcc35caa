"""The platform server's app (`shipyard server`): the REST API, its OpenAPI document, the UI.

Errors are RFC 9457 problem documents (`shipyard.ui.problems`): a field or parameter that
cannot be used is a 400 naming it, a package over the limit a 413, a request without
credentials a 401, a role that may not a 403, a job that does not exist (or is in a project
the principal may not read) a 404, a request the job's state does not allow a 409.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Mount, Route

from shipyard.errors import InvalidParameterError, NotFoundError
from shipyard.platform.access import Action, Forbidden, Hidden, Unauthenticated
from shipyard.platform.jobs.api import JobService, job_routes, principal_of
from shipyard.platform.jobs.packages import PackageRejected
from shipyard.platform.jobs.queue import JobConflict
from shipyard.platform.openapi import server_openapi
from shipyard.ui.problems import BadParameter, problem

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.types import ASGIApp, Receive, Scope, Send

    from shipyard.runners import Project

__all__ = ["create_server_app"]


def create_server_app(jobs: JobService, *, ui: tuple[str, Project] | None = None) -> Starlette:
    """Return the server's app over a job service.

    Args:
        jobs: The queue and the packages the jobs API works with.
        ui: A project's name and its opened store, whose web UI is served at `/` to those who
            may read the project (None: no UI).
    """
    routes = [Route("/api/openapi.json", _openapi), *job_routes()]
    if ui is not None:
        from shipyard.ui.app import create_app

        name, project = ui
        routes.append(Mount("/", app=_ReadersOnly(create_app(project), name)))
    app = Starlette(
        routes=routes,
        exception_handlers={
            BadParameter: _bad_parameter,
            PackageRejected: _rejected,
            InvalidParameterError: _invalid,
            JobConflict: _conflict,
            NotFoundError: _not_found,
            Unauthenticated: _unauthenticated,
            Forbidden: _forbidden,
            Hidden: _not_found,
            404: _no_route,
            405: _no_method,
        },
    )
    app.state.jobs = jobs
    return app


class _ReadersOnly:
    """Serves the UI of one project to principals who may read it."""

    def __init__(self, app: ASGIApp, project: str) -> None:
        self.app = app
        self.project = project

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            from starlette.requests import Request

            try:
                principal_of(Request(scope)).require(Action.READ, self.project)
            except (Unauthenticated, Hidden) as exc:
                status = 401 if isinstance(exc, Unauthenticated) else 404
                await problem(status, str(exc))(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _openapi(request: Request) -> Response:
    return Response(json.dumps(server_openapi()), media_type="application/json")


async def _bad_parameter(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BadParameter)
    return problem(400, str(exc), parameter=exc.name)


async def _rejected(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PackageRejected)
    return problem(413 if exc.too_large else 400, str(exc))


async def _conflict(request: Request, exc: Exception) -> Response:
    return problem(409, str(exc))


async def _invalid(request: Request, exc: Exception) -> Response:
    return problem(400, str(exc))


async def _not_found(request: Request, exc: Exception) -> Response:
    return problem(404, str(exc))


async def _unauthenticated(request: Request, exc: Exception) -> Response:
    answer = problem(401, str(exc))
    answer.headers["WWW-Authenticate"] = "Bearer"
    return answer


async def _forbidden(request: Request, exc: Exception) -> Response:
    return problem(403, str(exc))


async def _no_route(request: Request, exc: Exception) -> Response:
    return problem(404, f"Nothing at {request.url.path}.")


async def _no_method(request: Request, exc: Exception) -> Response:
    return problem(405, f"{request.method} is not allowed on {request.url.path}.")
