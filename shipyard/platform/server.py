"""The platform server's app (`shipyard server`): the REST API, its OpenAPI document, the
projects' web UIs (`/projects/P/`, listed at `/`).

Errors are RFC 9457 problem documents (`shipyard.ui.problems`): a field or parameter that
cannot be used is a 400 naming it, a package over the limit a 413, a request without
credentials a 401, a role that may not a 403, a job that does not exist (or is in a project
the principal may not read) a 404, a request the job's state does not allow a 409.
"""

from __future__ import annotations

import json
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from shipyard.errors import AlreadyExistsError, InvalidParameterError, NotFoundError
from shipyard.platform.auth.denials import error_response
from shipyard.platform.auth.oidc import OIDC_PATHS
from shipyard.platform.jobs.api import job_routes
from shipyard.platform.jobs.packages import PackageRejected
from shipyard.platform.jobs.queue import JobConflict
from shipyard.platform.openapi import server_openapi
from shipyard.platform.pages import LOGIN_PAGE, PAGE_ASSETS, page_routes
from shipyard.platform.project_uis import PROJECTS_PREFIX
from shipyard.ui.problems import BadParameter, problem

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable
    from contextlib import AbstractAsyncContextManager

    from starlette.requests import Request

    from shipyard.platform.auth.layer import AuthLayer
    from shipyard.platform.jobs.api import JobService
    from shipyard.platform.models.supervisor import EndpointSupervisor
    from shipyard.platform.project_uis import ProjectUIs

__all__ = ["create_server_app"]


def create_server_app(
    jobs: JobService,
    auth: AuthLayer,
    *,
    projects: ProjectUIs | None = None,
    endpoints: EndpointSupervisor | None = None,
) -> Starlette:
    """Return the server's app: every request authenticated, each change audited.

    Args:
        jobs: The queue, packages, accounts and audit log the jobs API works with.
        auth: The auth API's routes (OIDC login's too if configured) and its middleware.
        projects: The projects' web UIs, served at `/projects/P/` to those who may read P
            and listed at `/`, with the sign-in page at `/login` where a browser without a
            session is sent (None: no UI, no pages).
        endpoints: The endpoints' supervisor, whose registry and endpoints the models API
            serves (None: no models API). The app's lifespan starts it (adopting or
            restarting the endpoints that were serving) and closes it (stopping them).

    Example:
        >>> auth = auth_layer(queue.database)
        >>> app = create_server_app(JobService(queue, packages, auth.accounts, auth.audit), auth)
        >>> uvicorn.run(app, host="127.0.0.1", port=8000)
    """
    oidc = any(getattr(route, "path", None) in OIDC_PATHS for route in auth.routes)
    document = json.dumps(
        server_openapi(ui=projects is not None, oidc=oidc, models=endpoints is not None)
    )

    async def openapi(request: Request) -> Response:
        return Response(document, media_type="application/json")

    routes = [
        Route("/api/openapi.json", openapi),
        *auth.routes,
        *job_routes(),
    ]
    if endpoints is not None:
        from shipyard.platform.models.routes import model_routes

        routes.extend(model_routes(endpoints.registry, endpoints, jobs.audit))
    if projects is not None:
        from shipyard.ui.app import STATIC_DIR

        routes.extend(page_routes(auth.accounts, oidc=oidc))
        routes.append(Mount(PROJECTS_PREFIX, app=projects))
        routes.append(Mount("/static", StaticFiles(directory=STATIC_DIR)))
    app = Starlette(
        routes=routes,
        lifespan=None if endpoints is None else _supervising(endpoints),
        middleware=[
            auth.middleware if projects is None else auth.serving_pages(LOGIN_PAGE, PAGE_ASSETS)
        ],
        exception_handlers={
            **auth.exception_handlers,
            BadParameter: _expected,
            InvalidParameterError: _expected,
            NotFoundError: _expected,
            AlreadyExistsError: _expected,
            PackageRejected: _rejected,
            JobConflict: _conflict,
            404: _no_route,
            405: _no_method,
        },
    )
    app.state.jobs = jobs
    return app


def _supervising(
    endpoints: EndpointSupervisor,
) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    """The lifespan that runs the endpoints' supervisor while the server serves."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await run_in_threadpool(endpoints.start)
        try:
            yield
        finally:
            await run_in_threadpool(endpoints.close)

    return lifespan


async def _expected(request: Request, exc: Exception) -> Response:
    answer = error_response(exc)
    assert answer is not None
    return answer


async def _rejected(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PackageRejected)
    return problem(413 if exc.too_large else 400, str(exc))


async def _conflict(request: Request, exc: Exception) -> Response:
    return problem(409, str(exc))


async def _no_route(request: Request, exc: Exception) -> Response:
    return problem(404, f"Nothing at {request.url.path}.")


async def _no_method(request: Request, exc: Exception) -> Response:
    return problem(405, f"{request.method} is not allowed on {request.url.path}.")
