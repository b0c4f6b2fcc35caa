"""The JSON API under `/api/`: the dicts the CLI prints with `--json`, one serialisation.

- `GET /api/runs`: `shipyard runs --json` (`run_json.find_runs`), filtered, sorted and
  paginated by the query parameters of `run_params`; `X-Total-Count` says how many match.
- `GET /api/runs/{run_id}`: `shipyard runs show --json` (`run_json.describe_run`).
- `GET /api/runs/{run_id}/events`: server-sent events, one `run` event with the run's JSON
  whenever it changes, until the run has ended.
- `GET /api/artifacts/{artifact_id}`: `shipyard artifacts show --json` (`queries.show_artifact`).
- `GET /api/artifacts/{artifact_id}/lineage`: `shipyard lineage --json` (`queries.lineage`).
- `GET /api/compare?runs=A,B`: `shipyard runs compare A B --json` (`comparison.compare_runs`).
- `GET /api/models`: `shipyard models --json` (`promotion.listing.list_models`), with the
  server `shipyard ui --server` names.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from shipyard.promotion.listing import list_models
from shipyard.runners.comparison import compare_runs
from shipyard.runners.queries import DEFAULT_LINEAGE_DEPTH, lineage, show_artifact
from shipyard.runners.run_json import describe_run, find_runs
from shipyard.ui.problems import BadParameter
from shipyard.ui.run_params import parse_run_query

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from starlette.requests import Request

    from shipyard.runners import Project

EVENT_POLL_S: Final = 1.0
"""How often a live run's record is read again for its event stream."""
KEEPALIVE_S: Final = 15.0
MAX_LINEAGE_DEPTH: Final = 50
MAX_COMPARED: Final = 10
"""The most runs one comparison takes."""
MAX_ID: Final = 2**63 - 1
"""The largest id a store holds (a signed 64-bit integer)."""


def json_response(value: Any, **headers: str) -> Response:
    """A JSON answer of `value`, exactly as the CLI's `--json` writes it (key order kept)."""
    return Response(json.dumps(value), media_type="application/json", headers=headers or None)


def project_of(request: Request) -> Project:
    """The project the app serves."""
    project: Project = request.app.state.project
    return project


def compared_run_ids(request: Request, *, also: tuple[str, ...] = ()) -> list[str]:
    """The run ids of `?runs=A,B` (or `?runs=A&runs=B`, as the runs page's form sends them).

    Args:
        request: The request.
        also: The other parameters the route takes.

    Raises:
        BadParameter: Another parameter is given, or more than `MAX_COMPARED` runs.
    """
    for name in request.query_params:
        if name != "runs" and name not in also:
            raise BadParameter(name, "is not known; a comparison takes runs.")
    values = request.query_params.getlist("runs")
    ids = [run_id.strip() for value in values for run_id in value.split(",") if run_id.strip()]
    if len(ids) > MAX_COMPARED:
        raise BadParameter("runs", f"must name at most {MAX_COMPARED} runs. Got {len(ids)}.")
    return ids


async def compare_api(request: Request) -> Response:
    """Runs side by side: parameters, metrics, blessings, models and nodes."""
    ids = compared_run_ids(request)
    return json_response(await run_in_threadpool(compare_runs, project_of(request), ids))


@dataclass(frozen=True)
class ModelSources:
    """Where the models page finds models: as `shipyard models` takes them.

    Attributes:
        models_dir: The model repository push writes to.
        model_config: The model config holding the labels (None: `models_dir/models.yaml`).
        server: A running `shipyard serve`, for what it serves and its figures.
    """

    models_dir: Path
    model_config: Path | None = None
    server: str | None = None


def models_json(request: Request) -> dict[str, Any]:
    """`shipyard models --json` for the app's model sources (blocking: run it in a thread)."""
    sources: ModelSources = request.app.state.models
    store = project_of(request).store
    listings = list_models(
        sources.models_dir, model_config=sources.model_config, store=store, server=sources.server
    )
    return {"models": [listing.to_json() for listing in listings]}


async def models_api(request: Request) -> Response:
    """Every model's versions, labels, blessings, decisions and served figures."""
    for name in request.query_params:
        raise BadParameter(name, "is not known; the models listing takes no parameter.")
    return json_response(await run_in_threadpool(models_json, request))


def integer_path(request: Request, name: str) -> int:
    """A path parameter that must be an integer.

    Raises:
        BadParameter: It is not.
    """
    text = request.path_params[name]
    try:
        value = int(text)
    except ValueError:
        raise BadParameter(name, f"must be an integer. Got {text!r}.") from None
    if not 1 <= value <= MAX_ID:
        raise BadParameter(name, f"must be an integer from 1 to {MAX_ID}. Got {value}.")
    return value


async def list_runs_api(request: Request) -> Response:
    """One page of runs; `X-Total-Count` is the number of runs matching the filters."""
    query = parse_run_query(request.query_params)
    runs, total = await run_in_threadpool(find_runs, project_of(request), query)
    return json_response(runs, **{"X-Total-Count": str(total)})


async def run_api(request: Request) -> Response:
    """One run with its nodes and outcome."""
    run_id = request.path_params["run_id"]
    return json_response(await run_in_threadpool(describe_run, project_of(request), run_id))


async def run_events_api(request: Request) -> Response:
    """The run's JSON as server-sent events, whenever it changes, until the run has ended."""
    project = project_of(request)
    first = await run_in_threadpool(describe_run, project, request.path_params["run_id"])
    return StreamingResponse(
        _run_events(project, first),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _run_events(project: Project, run: dict[str, Any]) -> AsyncIterator[str]:
    sent = None
    quiet_s = 0.0
    while True:
        text = json.dumps(run)
        if text != sent:
            yield f"event: run\ndata: {text}\n\n"
            sent, quiet_s = text, 0.0
        elif quiet_s >= KEEPALIVE_S:
            yield ": still running\n\n"
            quiet_s = 0.0
        if run["state"] != "running":
            return
        await anyio.sleep(EVENT_POLL_S)
        quiet_s += EVENT_POLL_S
        run = await run_in_threadpool(describe_run, project, run["id"])


async def artifact_api(request: Request) -> Response:
    """One artifact, its producer and consumers, and a preview of its content."""
    artifact_id = integer_path(request, "artifact_id")
    return json_response(await run_in_threadpool(show_artifact, project_of(request), artifact_id))


async def lineage_api(request: Request) -> Response:
    """The upstream and downstream graph of an artifact."""
    artifact_id = integer_path(request, "artifact_id")
    for name in request.query_params:
        if name != "depth":
            raise BadParameter(name, "is not known; the lineage takes depth.")
    text = request.query_params.get("depth", str(DEFAULT_LINEAGE_DEPTH))
    if not text.isdigit() or not 1 <= int(text) <= MAX_LINEAGE_DEPTH:
        raise BadParameter(
            "depth", f"must be an integer >= 1 and <= {MAX_LINEAGE_DEPTH}. Got {text!r}."
        )
    found = await run_in_threadpool(lineage, project_of(request), artifact_id, depth=int(text))
    return json_response(found)
