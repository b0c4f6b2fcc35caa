"""The HTML routes: each page is built from the same dict its `/api/` twin returns."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from shipyard.errors import NotFoundError
from shipyard.runners.artifact_comparison import statistics_datasets
from shipyard.runners.comparison import compare_runs
from shipyard.runners.node_logs import run_logs
from shipyard.runners.queries import lineage, show_artifact
from shipyard.runners.run_json import describe_run, find_runs
from shipyard.ui.api import compared_run_ids, integer_path, models_json, project_of
from shipyard.ui.artifact_page import media_type, render_artifact_page, report_names, top_files
from shipyard.ui.compare_page import render_compare_page
from shipyard.ui.html import url
from shipyard.ui.lineage_page import render_lineage_page
from shipyard.ui.models_page import render_models_page
from shipyard.ui.problems import BadParameter
from shipyard.ui.run_page import render_run_page
from shipyard.ui.run_params import parse_run_query
from shipyard.ui.runs_page import COLUMNS_COOKIE, chosen_columns, render_runs_page
from shipyard.ui.schema_viewer import SORTS

if TYPE_CHECKING:
    from starlette.requests import Request


async def home_page(request: Request) -> Response:
    """The runs page is the home page."""
    return RedirectResponse(url("/runs"), status_code=302)


async def runs_page(request: Request) -> Response:
    """The runs table: filtered, sorted and paginated by the query, with the kept columns."""
    query = parse_run_query(request.query_params)
    runs, total = await run_in_threadpool(find_runs, project_of(request), query)
    chosen = chosen_columns(request.cookies.get(COLUMNS_COOKIE))
    return HTMLResponse(render_runs_page(query, runs, total, chosen))


async def run_page(request: Request) -> Response:
    """One run: graph, timeline, outcome, and nodes with their logs."""
    project = project_of(request)
    run = await run_in_threadpool(describe_run, project, request.path_params["run_id"])
    logs = await run_in_threadpool(run_logs, project, run["id"])
    return HTMLResponse(render_run_page(run, logs))


async def artifact_page(request: Request) -> Response:
    """One artifact with its reports."""
    project = project_of(request)
    artifact_id = integer_path(request, "artifact_id")
    sort = request.query_params.get("sort")
    if sort is not None and sort not in SORTS:
        raise BadParameter("sort", f"must be one of {', '.join(SORTS)}. Got {sort!r} instead.")
    artifact = await run_in_threadpool(show_artifact, project, artifact_id)
    reports = await run_in_threadpool(report_names, project.storage.local_path(artifact["uri"]))
    return HTMLResponse(render_artifact_page(artifact, reports, sort=sort))


async def artifact_file(request: Request) -> Response:
    """One file at the top of an artifact's directory, by name: a report, the schema's YAML,
    a model's files (only those `top_files` lists)."""
    project = project_of(request)
    artifact_id = integer_path(request, "artifact_id")
    record = await run_in_threadpool(project.store.get_artifact, artifact_id)
    directory = project.storage.local_path(record.uri)
    name = request.path_params["name"]
    if name not in await run_in_threadpool(top_files, directory):
        raise NotFoundError(f"Artifact {artifact_id} has no file {name!r}.")
    return FileResponse(directory / name, media_type=media_type(name))


async def lineage_page(request: Request) -> Response:
    """An artifact's lineage, upstream and downstream."""
    artifact_id = integer_path(request, "artifact_id")
    found = await run_in_threadpool(lineage, project_of(request), artifact_id)
    return HTMLResponse(render_lineage_page(found))


async def models_page(request: Request) -> Response:
    """Every model's versions, labels, blessings and decisions, and what a server serves."""
    models = await run_in_threadpool(models_json, request)
    return HTMLResponse(render_models_page(models, server=request.app.state.models.server))


async def compare_page(request: Request) -> Response:
    """Runs side by side (two or more, from the runs page's selection)."""
    ids = compared_run_ids(request)
    compared = await run_in_threadpool(compare_runs, project_of(request), ids)
    return HTMLResponse(render_compare_page(compared))


async def compared_statistics_page(request: Request) -> Response:
    """The statistics of one output of the compared runs, overlaid run over run (the
    statistics report, as `shipyard stats` draws datasets side by side)."""
    ids = compared_run_ids(request, also=("output",))
    output = request.query_params.get("output", "")
    if not output:
        raise BadParameter("output", "must name a statistics output, NODE/PORT.")
    project = project_of(request)
    runs = await run_in_threadpool(lambda: [describe_run(project, i) for i in ids])
    datasets = await run_in_threadpool(statistics_datasets, project, runs, output)
    from shipyard.artifacts.statistics_report import render_report

    title = f"Statistics of {output}: {', '.join(run['id'] for run in runs)}"
    return HTMLResponse(await run_in_threadpool(render_report, datasets, title=title))
