"""Serving a web app from a command (`shipyard ui`, `shipyard server`) with uvicorn."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.types import ASGIApp

GRACEFUL_SHUTDOWN_S = 2
"""How long open requests (event streams following a run or a job's logs) have to end when
the app stops: their pages and clients reconnect, to this server or the next."""


def run_web_app(app: ASGIApp, *, host: str, port: int) -> None:
    """Serve `app` on `host:port` until Ctrl-C or SIGTERM; no access log, warnings only."""
    import uvicorn

    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
