"""Runs side by side: parameters, headline metrics, blessings, models and what each node made.

`shipyard runs compare RUN RUN` prints it; `--json` gives this module's dict. Each value is a
list with one entry per run, in the order the runs were given. It is built from each run's
JSON (`runners.run_json`), so the two never disagree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shipyard.errors import InvalidParameterError
from shipyard.runners.artifact_comparison import compare_artifacts
from shipyard.runners.run_json import describe_run

if TYPE_CHECKING:
    from collections.abc import Sequence

    from shipyard.runners.project import Project

MIN_RUNS = 2


def compare_runs(project: Project, run_ids: Sequence[str]) -> dict[str, Any]:
    """Compare recorded runs.

    Args:
        project: Where the runs are recorded.
        run_ids: Two or more run ids (or prefixes matching one run each).

    Returns:
        `runs` (each run's id, pipeline, state, start and duration); `parameters` and
        `metrics` (`{node: {metric: [...]}}`), with `changed_parameters`; `blessed` and
        `models` per run; `nodes`: per node its `states` and whether its `outputs` were
        the same content in every run ("same"), differed ("changed") or are missing in a
        run ("missing"); `artifacts`: the schemas and evaluations diffed and the
        statistics compared, per output every run has (`artifact_comparison`).

    Raises:
        InvalidParameterError: Fewer than two runs, or the same run twice.
        NotFoundError: A run id matches no run, or several.

    Example:
        >>> compare_runs(project, ["2026-01-05T12-03", "2026-01-06T09-40"])["metrics"]
        {'evaluate': {'accuracy': [0.97, 0.98]}}
    """
    if len(run_ids) < MIN_RUNS:
        raise InvalidParameterError(
            f"runs compare takes at least {MIN_RUNS} runs. Got {len(run_ids)} "
            f"({', '.join(run_ids) or 'none'}); list runs with `shipyard runs`."
        )
    runs = [describe_run(project, run_id) for run_id in run_ids]
    ids = [run["id"] for run in runs]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise InvalidParameterError(
            f"runs compare got run {', '.join(repeated)} more than once (from "
            f"{', '.join(run_ids)}); give different runs."
        )
    parameters = _side_by_side([run["parameters"] for run in runs])
    metrics: dict[str, dict[str, list[Any]]] = {}
    for node in _union(run["outcome"]["metrics"] for run in runs):
        metrics[node] = _side_by_side([run["outcome"]["metrics"].get(node, {}) for run in runs])
    return {
        "runs": [
            {key: run[key] for key in ("id", "pipeline", "state", "started_at", "duration_s")}
            for run in runs
        ],
        "parameters": parameters,
        "changed_parameters": [
            name for name, values in parameters.items() if any(v != values[0] for v in values)
        ],
        "metrics": metrics,
        "blessed": [_blessed(run) for run in runs],
        "models": [
            [
                {"name": m["name"], "version": m["version"], "path": m["path"]}
                for m in run["outcome"]["models"]
                if m["pushed"]
            ]
            for run in runs
        ],
        "nodes": {
            node: {
                "states": [run["nodes"].get(node, {}).get("state") for run in runs],
                "outputs": _outputs_verdict(
                    [run["nodes"].get(node, {}).get("outputs", {}) for run in runs]
                ),
            }
            for node in _union(run["nodes"] for run in runs)
        },
        "artifacts": compare_artifacts(project, runs),
    }


def _union(mappings: Any) -> list[str]:
    """The keys of several mappings, in first-seen order."""
    keys: dict[str, None] = {}
    for mapping in mappings:
        keys.update(dict.fromkeys(mapping))
    return list(keys)


def _side_by_side(values: list[dict[str, Any]]) -> dict[str, list[Any]]:
    return {key: [entry.get(key) for entry in values] for key in _union(values)}


def _blessed(run: dict[str, Any]) -> bool | None:
    blessings = run["outcome"]["blessings"]
    return all(b["blessed"] for b in blessings) if blessings else None


def _outputs_verdict(outputs: list[dict[str, Any]]) -> str:
    """same, changed or missing: whether every run's outputs of a node have the same content."""
    if any(not entry for entry in outputs):
        return "missing"
    contents = [
        {port: artifact["fingerprint"] for port, artifact in entry.items()} for entry in outputs
    ]
    return "same" if all(c == contents[0] for c in contents) else "changed"
