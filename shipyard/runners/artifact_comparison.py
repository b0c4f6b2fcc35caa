"""What runs' artifacts hold, side by side: schemas and evaluations diffed, statistics compared.

`compare_runs` adds this module's dict under `artifacts`: for every node output that each
compared run has, of the same type, one entry `NODE/PORT` with the artifacts' ids and:

- a `Schema`: each feature's summary per run (the schema artifact's own preview: type,
  presence, domain or range), None where a run's schema lacks it; `changed` lists the
  features that differ (added, removed or changed);
- a `ModelEvaluation`: each overall metric per run, and each slice's count and metrics per
  run (None where a run did not evaluate that slice); `changed_slices` lists the slices
  whose figures differ;
- a `Statistics`: per split every run has, each feature's rows, missing share, mean, std
  (numbers) and distinct values (strings) per run; the overlaid charts are
  `statistics_datasets`' to draw (the UI's `/compare/statistics` page).

An artifact whose files cannot be read gets `error` in place of its figures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from shipyard.artifacts import ModelEvaluation, Schema, Statistics
from shipyard.errors import DataError, NotFoundError

if TYPE_CHECKING:
    from shipyard.artifacts.statistics import DatasetStatistics
    from shipyard.runners.project import Project

COMPARED_TYPES: Final = ("Schema", "ModelEvaluation", "Statistics")


def compare_artifacts(project: Project, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The diffs of the compared runs' schemas, evaluations and statistics (see the module).

    Args:
        project: Where the runs are recorded.
        runs: The runs' JSON (`run_json.describe_run`), in the compared order.
    """
    found: dict[str, Any] = {}
    for node, port, artifacts in _common_outputs(runs):
        kind = artifacts[0]["type"]
        entry: dict[str, Any] = {"type": kind, "artifacts": [a["id"] for a in artifacts]}
        try:
            paths = [project.storage.localize(a["uri"]) for a in artifacts]
            if kind == "Schema":
                entry |= _schemas([Schema(p).preview().get("features", {}) for p in paths])
            elif kind == "ModelEvaluation":
                entry |= _evaluations([ModelEvaluation(p).load() for p in paths])
            else:
                entry |= _statistics([Statistics(p).load() for p in paths])
        except (OSError, NotFoundError, DataError) as exc:
            entry["error"] = f"cannot read the artifacts' files: {exc}"
        found[f"{node}/{port}"] = entry
    return found


def statistics_datasets(
    project: Project, runs: list[dict[str, Any]], key: str
) -> dict[str, DatasetStatistics]:
    """Each run's statistics of output `key` (`NODE/PORT`), split by split, named
    `RUN split` for `statistics_report`, which overlays them.

    Raises:
        NotFoundError: Not every run has statistics at `key`.
    """
    for node, port, artifacts in _common_outputs(runs):
        if f"{node}/{port}" == key and artifacts[0]["type"] == "Statistics":
            loaded = [Statistics(project.storage.localize(a["uri"])).load() for a in artifacts]
            splits = [s for s in loaded[0] if all(s in other for other in loaded)]
            return {
                f"{run['id']} {split}": stats[split]
                for split in splits
                for run, stats in zip(runs, loaded, strict=True)
            }
    raise NotFoundError(f"Not every compared run has statistics at {key!r}.")


def _common_outputs(
    runs: list[dict[str, Any]],
) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """The outputs of a compared type that every run has, with the same type."""
    common = []
    for node, entry in runs[0]["nodes"].items():
        for port, artifact in entry["outputs"].items():
            if artifact["type"] not in COMPARED_TYPES:
                continue
            others = [run["nodes"].get(node, {}).get("outputs", {}).get(port) for run in runs]
            if all(o is not None and o["type"] == artifact["type"] for o in others):
                common.append((node, port, others))
    return common


def _differs(values: list[Any]) -> bool:
    return any(value != values[0] for value in values)


def _schemas(features: list[dict[str, Any]]) -> dict[str, Any]:
    names = list(dict.fromkeys(name for schema in features for name in schema))
    side = {name: [schema.get(name) for schema in features] for name in names}
    return {"features": side, "changed": [name for name, v in side.items() if _differs(v)]}


def _evaluations(results: list[Any]) -> dict[str, Any]:
    metrics = list(dict.fromkeys(name for result in results for name in result.metrics))
    slices: dict[str, dict[str, Any]] = {}
    for index, result in enumerate(results):
        for piece in result.slices:
            entry = slices.setdefault(
                piece["name"], {"count": [None] * len(results), "metrics": {}}
            )
            entry["count"][index] = piece["count"]
            for name, value in (piece.get("metrics") or {}).items():
                entry["metrics"].setdefault(name, [None] * len(results))[index] = value
    return {
        "metrics": {name: [r.metrics.get(name) for r in results] for name in metrics},
        "slices": slices,
        "changed_slices": [
            name
            for name, entry in slices.items()
            if _differs(entry["count"]) or any(_differs(v) for v in entry["metrics"].values())
        ],
    }


def _statistics(loaded: list[dict[str, DatasetStatistics]]) -> dict[str, Any]:
    splits = [s for s in loaded[0] if all(s in other for other in loaded)]
    found: dict[str, Any] = {}
    for split in splits:
        datasets = [stats[split] for stats in loaded]
        names = list(dict.fromkeys(n for d in datasets for n in d.features))
        found[split] = {
            "rows": [d.num_rows for d in datasets],
            "features": {name: _feature_figures(datasets, name) for name in names},
        }
    return {"splits": found}


def _feature_figures(datasets: list[DatasetStatistics], name: str) -> dict[str, list[Any]]:
    features = [d.features.get(name) for d in datasets]
    figures: dict[str, list[Any]] = {
        "missing_share": [None if f is None else round(f.missing_fraction, 6) for f in features]
    }
    if any(f is not None and f.numeric is not None for f in features):
        for measure in ("mean", "std"):
            figures[measure] = [
                None if f is None or f.numeric is None else getattr(f.numeric, measure)
                for f in features
            ]
    if any(f is not None and f.string is not None for f in features):
        figures["distinct"] = [
            None if f is None or f.string is None else f.string.distinct for f in features
        ]
    return figures
