"""Fill an MLflow tracking store with N runs of 5 parameters and 5 metrics (run in MLflow's venv).

The first run is written through MLflow's own store API (`SqlAlchemyStore`: `create_run`,
`log_batch`, `update_run_info`), exactly as `mlflow.start_run` and `mlflow.log_*` leave it.
The other runs copy that run's rows in every table it wrote (runs, tags, params, metrics,
latest_metrics), with their own id, name, times and values, in one transaction: the same
rows MLflow would write, in seconds rather than the minutes 10,000 API calls take.

Prints one JSON line: the experiment id and the names of the runs that come first by
`metrics.accuracy DESC` and by `attributes.start_time DESC`.

    python mlflow_runs.py --db sqlite:///mlflow.db --artifacts DIR --runs 10000
"""

from __future__ import annotations

import argparse
import json
import random
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from mlflow.entities import ExperimentTag, Metric, Param, RunStatus, RunTag
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

METRICS = ("accuracy", "auc", "f1_macro", "log_loss", "r2")
START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z, as benchmarks/ui.py's runs
RUN_TABLES = ("runs", "tags", "params", "metrics", "latest_metrics")


def parameters(rng: random.Random) -> dict[str, str]:
    """The 5 parameters benchmarks/ui.py gives its runs."""
    return {
        "learning_rate": str(round(rng.uniform(1e-4, 0.1), 5)),
        "epochs": str(rng.randint(5, 100)),
        "batch_size": str(rng.choice([16, 32, 64, 128])),
        "hidden_units": rng.choice(["16,8", "32,16", "64,32"]),
        "source": f"data/span-{rng.randint(1, 30)}.csv",
    }


def run_name(index: int) -> str:
    """The run's name: its start time and index, as benchmarks/ui.py names its runs."""
    began = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=index)
    return f"{began:%Y-%m-%dT%H-%M-%S}-{index:04x}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--artifacts", required=True)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    store = SqlAlchemyStore(args.db, args.artifacts)
    kind = ExperimentTag("mlflow.experimentKind", "custom_model_development")
    experiment = store.create_experiment("bench", tags=[kind])

    def values(index: int) -> tuple[int, int, dict[str, str], dict[str, float]]:
        started = START_MS + index * 60_000
        return (
            started,
            started + rng.randint(5_000, 30_000),
            parameters(rng),
            {m: rng.random() for m in METRICS},
        )

    started, ended, params, metrics = values(0)
    tags = [RunTag("mlflow.user", "bench"), RunTag("mlflow.source.name", "train.py"),
            RunTag("mlflow.source.type", "LOCAL")]  # fmt: skip
    first = store.create_run(experiment, "bench", started, tags, run_name(0))
    template = first.info.run_id
    store.log_batch(
        template,
        metrics=[Metric(k, v, ended, 0) for k, v in metrics.items()],
        params=[Param(k, v) for k, v in params.items()],
        tags=[],
    )
    store.update_run_info(template, RunStatus.FINISHED, ended, run_name(0))
    names = {"accuracy": (metrics["accuracy"], run_name(0)), "start": (started, run_name(0))}

    meta = sa.MetaData()
    tables = {name: sa.Table(name, meta, autoload_with=store.engine) for name in RUN_TABLES}
    with store.engine.begin() as connection:
        rows = {
            name: [
                dict(row._mapping)
                for row in connection.execute(sa.select(table).where(table.c.run_uuid == template))
            ]
            for name, table in tables.items()
        }
        copies: dict[str, list[dict[str, object]]] = {name: [] for name in RUN_TABLES}
        for index in range(1, args.runs):
            started, ended, params, metrics = values(index)
            run_id, name = uuid.uuid4().hex, run_name(index)
            for row in rows["runs"]:
                artifact_uri = str(row["artifact_uri"]).replace(template, run_id)
                copies["runs"].append({**row, "run_uuid": run_id, "name": name,
                                       "start_time": started, "end_time": ended,
                                       "artifact_uri": artifact_uri})  # fmt: skip
            for row in rows["tags"]:
                value = name if row["key"] == "mlflow.runName" else row["value"]
                copies["tags"].append({**row, "run_uuid": run_id, "value": value})
            for row in rows["params"]:
                copies["params"].append({**row, "run_uuid": run_id, "value": params[row["key"]]})
            for table in ("metrics", "latest_metrics"):
                copies[table].extend(
                    {**row, "run_uuid": run_id, "value": metrics[row["key"]], "timestamp": ended}
                    for row in rows[table]
                )
            names["accuracy"] = max(names["accuracy"], (metrics["accuracy"], name))
            names["start"] = max(names["start"], (started, name))
        for name, table in tables.items():
            if copies[name]:
                connection.execute(table.insert(), copies[name])
    print(json.dumps({
        "experiment_id": experiment,
        "first_by_accuracy": names["accuracy"][1],
        "first_by_start": names["start"][1],
        "rows_per_run": {name: len(rows[name]) for name in RUN_TABLES},
    }))  # fmt: skip


if __name__ == "__main__":
    main()
