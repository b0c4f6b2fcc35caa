"""A run's node logs over the API: `shipyard runs logs --json`, and their live tail.

- `GET /api/runs/{run_id}/logs?node=`: `shipyard runs logs RUN [--node N] --json`
  (`runners.node_logs.run_logs`).
- `GET /api/runs/{run_id}/logs/events?node=`: server-sent events, a `log` event
  `{"node", "entries"}` with each node's records so far, then with the new ones as they are
  written, until the run has ended (one last read after it does).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Final

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from shipyard.runners.node_logs import read_node_log, run_logs
from shipyard.ui.api import KEEPALIVE_S, json_response, project_of
from shipyard.ui.problems import BadParameter

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from starlette.requests import Request

    from shipyard.runners import Project

LOG_POLL_S: Final = 0.5
"""How often a running run's logs are read again for the live tail."""


def _node_parameter(request: Request) -> str | None:
    for name in request.query_params:
        if name != "node":
            raise BadParameter(name, "is not known; a run's logs take node.")
    return request.query_params.get("node") or None


async def logs_api(request: Request) -> Response:
    """The run's node logs (one node's with `?node=`)."""
    node = _node_parameter(request)
    run_id = request.path_params["run_id"]
    return json_response(await run_in_threadpool(run_logs, project_of(request), run_id, node))


async def log_events_api(request: Request) -> Response:
    """The run's node logs as server-sent events, live until the run has ended."""
    node = _node_parameter(request)
    project = project_of(request)
    found = await run_in_threadpool(run_logs, project, request.path_params["run_id"], node)
    return StreamingResponse(
        _log_events(project, found["run"], found["pipeline"], list(found["nodes"])),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _log_events(
    project: Project, run_id: str, pipeline: str, nodes: list[str]
) -> AsyncIterator[str]:
    offsets = dict.fromkeys(nodes, 0)
    quiet_s = 0.0
    ended = False
    while True:
        # The state first: records written before the run ended are read after it.
        state = (await run_in_threadpool(project.store.get_run, run_id)).state
        ended = state != "running"
        sent = False
        for node in nodes:
            entries, offsets[node] = await run_in_threadpool(
                read_node_log, project.storage, pipeline, run_id, node, offset=offsets[node]
            )
            if entries:
                yield f"event: log\ndata: {json.dumps({'node': node, 'entries': entries})}\n\n"
                sent = True
        if ended:
            yield "event: end\ndata: {}\n\n"
            return
        if sent:
            quiet_s = 0.0
        elif quiet_s >= KEEPALIVE_S:
            yield ": still running\n\n"
            quiet_s = 0.0
        await anyio.sleep(LOG_POLL_S)
        quiet_s += LOG_POLL_S
