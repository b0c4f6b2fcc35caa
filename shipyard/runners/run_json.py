"""A run as JSON: the one shape of `shipyard run --json`, `shipyard runs show --json` and the UI.

```
{"id", "pipeline", "state", "started_at", "ended_at", "duration_s", "store",
 "parameters": {name: value},                  # the pipeline function's arguments
 "properties": {...},                          # host, pid, user, file, nodes, cache
 "nodes": {name: {"component", "state", "execution_id", "started_at", "duration_s",
                  "cached_from", "parameters", "inputs": {port: artifact},
                  "outputs": {port: artifact}, "error"}},
 "outcome": {"models", "blessings", "metrics", "reports"}}   # see runners/outcome.py
```

Nodes are in pipeline order; a node that never started (the run was interrupted) has state
"pending" and no execution. The listing of runs (`shipyard runs --json`) gives each run's
flat fields plus its parameters, headline metrics, blessing and pushed models, and the
trigger that started it (`shipyard schedule`: its name, kind, reason and firing), or None.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Final

from shipyard.runners.execution import artifact_from_record
from shipyard.runners.outcome import OUTCOME_TYPES, RunOutcome, outcome_of
from shipyard.runners.queries import artifact_summary, execution_summary, run_summary
from shipyard.store import RunQuery

if TYPE_CHECKING:
    from shipyard.runners.project import Project
    from shipyard.store import RunOutput, RunRecord

RUN_JSON_KEYS = (
    "id",
    "pipeline",
    "state",
    "started_at",
    "ended_at",
    "duration_s",
    "store",
    "parameters",
    "properties",
    "nodes",
    "outcome",
)
"""The keys of a run's JSON, in order."""

SORT_CHOICES: Final = "started_at, duration_s or metrics.NAME, with a leading '-' for largest first"
"""What a run listing's sort may be (`shipyard runs --sort`, the API's `sort`)."""
SORT_PATTERN: Final = r"^-?(started_at|duration_s|metrics\.[A-Za-z0-9_][A-Za-z0-9_.:-]{0,99})$"
"""`SORT_CHOICES` as a regular expression (the API's OpenAPI document declares it)."""
_SORT: Final = re.compile(SORT_PATTERN)


def describe_run(project: Project, run_id: str) -> dict[str, Any]:
    """A run with its nodes, their inputs and outputs, and its outcome.

    Args:
        project: Where the run is recorded.
        run_id: A run id, or a prefix matching one run.

    Raises:
        NotFoundError: No run matches `run_id`, or several do.

    Example:
        >>> with Project.open(create=False) as project:
        ...     describe_run(project, "2026-01-05T12-03")["outcome"]["models"]
    """
    store = project.store
    run = store.get_run(run_id)
    nodes = {name: _node_entry(None) for name in run.properties.get("nodes", [])}
    for execution in store.list_executions(run.id):
        entry = _node_entry(execution_summary(execution))
        for event in store.events_of_execution(execution.id):
            entry[f"{event.kind}s"][event.name] = artifact_summary(
                store.get_artifact(event.artifact_id)
            )
        nodes[execution.node] = entry
    values = {
        **run_summary(run),
        "store": store.url,
        "parameters": run.properties.get("parameters", {}),
        "nodes": nodes,
        "outcome": run_outcome_from_store(project, run).to_json(),
    }
    return {key: values[key] for key in RUN_JSON_KEYS}


def list_runs(
    project: Project, *, pipeline: str | None = None, limit: int = 20
) -> list[dict[str, Any]]:
    """The newest runs, each with its parameters, headline metrics, blessing, models and
    the trigger that started it."""
    return find_runs(project, RunQuery(pipeline=pipeline, limit=limit))[0]


def parse_sort(text: str) -> tuple[str, bool] | None:
    """Read a listing's sort, `-metrics.accuracy`, as `("metrics.accuracy", True)`
    (largest first); None when it is none of `SORT_CHOICES`."""
    if not _SORT.fullmatch(text):
        return None
    return text.removeprefix("-"), text.startswith("-")


def find_runs(project: Project, query: RunQuery) -> tuple[list[dict[str, Any]], int]:
    """The runs `query` selects as `list_runs` gives them, and how many match in all.

    The store filters, sorts and pages (by the metrics `runners.outcome.end_run` records);
    the outcomes of the page's runs are read in one query.

    Raises:
        InvalidParameterError: The query is not valid (see `MetadataStore.find_runs`).
    """
    store = project.store
    page = store.find_runs(query)
    outputs: dict[str, list[RunOutput]] = {run.id: [] for run in page.runs}
    for output in store.outputs_of_runs(outputs, type_names=OUTCOME_TYPES):
        outputs[output.run_id].append(output)
    listed = []
    for run in page.runs:
        planned = {name: index for index, name in enumerate(run.properties.get("nodes", []))}
        ordered = sorted(outputs[run.id], key=lambda o: planned.get(o.node, len(planned)))
        outcome = outcome_of(
            (o.node, o.port, artifact_from_record(o.artifact, project.storage)) for o in ordered
        )
        listed.append(
            {
                **run_summary(run),
                "parameters": run.properties.get("parameters", {}),
                "metrics": outcome.headline_metrics,
                "blessed": outcome.blessed,
                "models": [
                    {"name": m.name, "version": m.version, "path": m.path}
                    for m in outcome.models
                    if m.pushed
                ],
                "trigger": run.properties.get("trigger"),
            }
        )
    return listed, page.total


def run_outcome_from_store(project: Project, run: RunRecord) -> RunOutcome:
    """The outcome of a recorded run (see `runners.outcome`), from its output artifacts."""
    store = project.store
    planned = {name: index for index, name in enumerate(run.properties.get("nodes", []))}
    executions = sorted(
        store.list_executions(run.id), key=lambda e: planned.get(e.node, len(planned))
    )
    return outcome_of(
        (execution.node, event.name, artifact_from_record(record, project.storage))
        for execution in executions
        for event in store.events_of_execution(execution.id)
        if event.kind == "output"
        for record in [store.get_artifact(event.artifact_id)]
    )


def _node_entry(execution: dict[str, Any] | None) -> dict[str, Any]:
    if execution is None:
        return {
            "component": None,
            "state": "pending",
            "execution_id": None,
            "started_at": None,
            "duration_s": None,
            "cached_from": None,
            "parameters": {},
            "inputs": {},
            "outputs": {},
            "error": None,
        }
    return {
        "component": execution["component"],
        "state": execution["state"],
        "execution_id": execution["id"],
        "started_at": execution["started_at"],
        "duration_s": execution["duration_s"],
        "cached_from": execution["cached_from"],
        "parameters": execution["parameters"],
        "inputs": {},
        "outputs": {},
        "error": execution["error"],
    }
