"""Model quality of the canned estimators' defaults, against scikit-learn and LightGBM.

Every canned estimator (`linear`, `dnn`, `wide_deep`, `boosted_trees`) is trained with the
`train` component's defaults on every shipped data set, through the pipeline users run:
ingest (Shipyard's hash split, 80/20) -> statistics -> inferred schema -> transform (the
default preprocessing) -> train -> evaluate on the raw eval split. On the very same rows (the
ingest artifact's Parquet splits) the peers are trained with their defaults:
scikit-learn's LogisticRegression (max_iter raised to 1,000 so it converges) or
LinearRegression on standardized numbers and one-hot categories, scikit-learn's
HistGradientBoosting and LightGBM on the numbers and the categories as categorical features.

The metric is the eval split's accuracy (classification) or R² (regression), in points
(x 100); AUC and RMSE are printed too. Each repeat uses another seed (Shipyard's `seed`,
the peers' `random_state`); the split stays the same. The figures are medians over the
repeats, and so are the training times (the `train` node's wall time for Shipyard; `fit`
for the peers). Goals, checked at the end: `linear` within 1 point of the linear peer,
`boosted_trees` within 1 % of LightGBM, `dnn` within 2 points of the best model.

    python benchmarks/model_quality.py [--repeats 3] [--datasets penguins,taxi,census,churn]
        [--estimators linear,dnn,wide_deep,boosted_trees] [--max-rows N] [-p epochs=20]

Needs scikit-learn (the `dev` extra). Data: /work/shared/data when present, else the
examples' copies (penguins, taxi, census).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

import shipyard
from shipyard.components import compute_statistics, evaluate, infer_schema, ingest, train, transform
from shipyard.dsl import Pipeline

if TYPE_CHECKING:
    from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path("/work/shared/data")
ESTIMATORS = ("linear", "dnn", "wide_deep", "boosted_trees")
PEERS = ("sklearn_linear", "sklearn_hgb", "lightgbm")


@dataclass(frozen=True)
class Dataset:
    """A shipped data set and the column to predict."""

    name: str
    file: str
    label: str

    def path(self) -> Path:
        shared = SHARED / self.file
        if shared.is_file():
            return shared
        for candidate in (ROOT / "examples").glob(f"*/data/{self.file}"):
            return candidate
        raise FileNotFoundError(f"{self.file} is neither in {SHARED} nor under examples/")


DATASETS = {
    "penguins": Dataset("penguins", "penguins.csv", "species"),
    "taxi": Dataset("taxi", "chicago_taxi_tips.csv", "tip"),
    "census": Dataset("census", "cps1988_wages.csv", "wage"),
    "churn": Dataset("churn", "telco_churn.csv", "churn"),
}


@dataclass(frozen=True)
class Score:
    """One model's eval metrics and training time."""

    main: float  # accuracy or R², in points
    extra: float | None  # AUC (binary) or RMSE (regression)
    seconds: float


def source_file(dataset: Dataset, max_rows: int | None, workdir: Path) -> Path:
    """The data file, or the first `max_rows` rows of it written next to the run."""
    path = dataset.path()
    if max_rows is None:
        return path
    table = pa_csv.read_csv(path)
    if table.num_rows <= max_rows:
        return path
    out = workdir / f"{dataset.name}-{max_rows}.csv"
    pa_csv.write_csv(table.slice(0, max_rows), out)
    return out


def pipeline(
    source: Path, label: str, estimators: list[str], seed: int, overrides: dict[str, Any]
) -> Pipeline:
    """The standard tabular pipeline, with one train and evaluate node per estimator."""
    raw = ingest(source=source)
    stats = compute_statistics(examples=raw.outputs.examples)
    schema = infer_schema(statistics=stats.outputs.statistics, label=label)
    prepared = transform(examples=raw.outputs.examples, schema=schema.outputs.schema, label=label)
    nodes = []
    for estimator in estimators:
        trained = train(
            transformed=prepared.outputs.transformed,
            transform_graph=prepared.outputs.transform_graph,
            schema=schema.outputs.schema,
            estimator=estimator,  # type: ignore[arg-type]
            label=label,
            seed=seed,
            **overrides,
        ).with_options(name=f"train_{estimator}")
        nodes.append(
            evaluate(examples=raw.outputs.examples, model=trained.outputs.model).with_options(
                name=f"evaluate_{estimator}"
            )
        )
    return Pipeline("model_quality", nodes=nodes)


def run_shipyard(
    source: Path,
    label: str,
    estimators: list[str],
    seed: int,
    overrides: dict[str, Any],
    workdir: Path,
) -> tuple[dict[str, Score], pa.Table, pa.Table]:
    """Run the pipeline; return each estimator's score and the raw train and eval splits."""
    result = shipyard.run(
        pipeline(source, label, estimators, seed, overrides),
        store=f"sqlite:///{workdir}/store.db",
        artifact_root=str(workdir / "artifacts"),
        max_workers=1,
        progress=False,
    )
    if not result.ok:
        raise RuntimeError(f"{[(n.name, str(n.error)) for n in result.failed]}")
    scores = {}
    for estimator in estimators:
        metrics = result[f"evaluate_{estimator}"].outputs["evaluation"].load().metrics
        scores[estimator] = Score(
            main=100 * (metrics["r2"] if "r2" in metrics else metrics["accuracy"]),  # type: ignore[operator]
            extra=metrics.get("rmse", metrics.get("auc")),
            seconds=float(result[f"train_{estimator}"].duration_s or 0.0),
        )
    examples = result["ingest"].outputs["examples"]
    return scores, examples.read("train"), examples.read("eval")


def _columns(table: pa.Table, label: str) -> tuple[list[str], list[str]]:
    numbers, categories = [], []
    for field in table.schema:
        if field.name == label:
            continue
        kind = field.type
        numeric = pa.types.is_integer(kind) or pa.types.is_floating(kind)
        (numbers if numeric or pa.types.is_boolean(kind) else categories).append(field.name)
    return numbers, categories


def _matrix(table: pa.Table, names: list[str], *, numeric: bool) -> NDArray[Any]:
    if not names:
        return np.zeros((table.num_rows, 0))
    columns = []
    for name in names:
        values = table.column(name).to_numpy(zero_copy_only=False)
        if numeric:
            columns.append(np.asarray(values, dtype=np.float64))
        else:
            columns.append(np.array(["" if v is None else str(v) for v in values], dtype=object))
    return np.column_stack(columns)


def run_peers(
    train_rows: pa.Table, eval_rows: pa.Table, label: str, seed: int, threads: int
) -> dict[str, Score]:
    """Fit the peers on the raw train split; score them on the raw eval split."""
    import lightgbm
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

    train_rows = train_rows.filter(pa.compute.is_valid(train_rows.column(label)))
    eval_rows = eval_rows.filter(pa.compute.is_valid(eval_rows.column(label)))
    numbers, categories = _columns(train_rows, label)
    regression = pa.types.is_floating(train_rows.schema.field(label).type)

    def features(table: pa.Table) -> NDArray[Any]:
        return np.concatenate(
            [
                _matrix(table, numbers, numeric=True),
                _matrix(table, categories, numeric=False),
            ],
            axis=1,
        ).astype(object)

    def target(table: pa.Table) -> NDArray[Any]:
        values = table.column(label).to_numpy(zero_copy_only=False)
        return np.asarray(values, dtype=np.float64 if regression else str)

    x_train, x_eval = features(train_rows), features(eval_rows)
    y_train, y_eval = target(train_rows), target(eval_rows)
    number_index = list(range(len(numbers)))
    category_index = list(range(len(numbers), len(numbers) + len(categories)))
    one_hot = ColumnTransformer(
        [
            ("numbers", make_pipeline(SimpleImputer(), StandardScaler()), number_index),
            ("categories", OneHotEncoder(handle_unknown="ignore"), category_index),
        ]
    )
    ordinal = ColumnTransformer(
        [
            ("numbers", "passthrough", number_index),
            (
                "categories",
                OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan),
                category_index,
            ),
        ]
    )
    categorical = [i in category_index for i in range(x_train.shape[1])]
    encoded_train = ordinal.fit_transform(x_train).astype(np.float64)
    encoded_eval = ordinal.transform(x_eval).astype(np.float64)
    if regression:
        models: dict[str, Any] = {
            "sklearn_linear": make_pipeline(one_hot, LinearRegression()),
            "sklearn_hgb": HistGradientBoostingRegressor(
                categorical_features=categorical, random_state=seed
            ),
            "lightgbm": lightgbm.LGBMRegressor(random_state=seed, n_jobs=threads, verbose=-1),
        }
    else:
        models = {
            "sklearn_linear": make_pipeline(
                one_hot, LogisticRegression(max_iter=1000, random_state=seed)
            ),
            "sklearn_hgb": HistGradientBoostingClassifier(
                categorical_features=categorical, random_state=seed
            ),
            "lightgbm": lightgbm.LGBMClassifier(random_state=seed, n_jobs=threads, verbose=-1),
        }
    scores = {}
    for name, model in models.items():
        trees = name != "sklearn_linear"
        fit_x, eval_x = (encoded_train, encoded_eval) if trees else (x_train, x_eval)
        started = time.perf_counter()
        if name == "lightgbm":
            model.fit(fit_x, y_train, categorical_feature=category_index or "auto")
        else:
            model.fit(fit_x, y_train)
        seconds = time.perf_counter() - started
        scores[name] = _score(model, eval_x, y_eval, regression=regression, seconds=seconds)
    return scores


def _score(
    model: Any, x: NDArray[Any], y: NDArray[Any], *, regression: bool, seconds: float
) -> Score:
    from sklearn.metrics import accuracy_score, r2_score, roc_auc_score

    predicted = model.predict(x)
    if regression:
        rmse = float(np.sqrt(np.mean((y - predicted) ** 2)))
        return Score(100 * float(r2_score(y, predicted)), rmse, seconds)
    auc = None
    if len(model.classes_) == 2:
        auc = float(roc_auc_score(y == model.classes_[1], model.predict_proba(x)[:, 1]))
    return Score(100 * float(accuracy_score(y, predicted)), auc, seconds)


def median_scores(runs: list[dict[str, Score]]) -> dict[str, Score]:
    """The median of each model's figures over the repeats."""
    merged = {}
    for name in runs[0]:
        extras = [r[name].extra for r in runs if r[name].extra is not None]
        merged[name] = Score(
            main=float(np.median([r[name].main for r in runs])),
            extra=float(np.median(extras)) if extras else None,
            seconds=float(np.median([r[name].seconds for r in runs])),
        )
    return merged


def goals(scores: dict[str, Score], regression: bool) -> list[str]:
    """The goals, met or missed, for one data set."""
    lines = []
    unit = "R²" if regression else "accuracy"
    if "linear" in scores:
        gap = scores["sklearn_linear"].main - scores["linear"].main
        lines.append(f"linear {gap:+.2f} points of {unit} behind the linear peer (goal <= 1)")
    if "boosted_trees" in scores:
        peer = scores["lightgbm"].main
        gap = 100 * (peer - scores["boosted_trees"].main) / abs(peer) if peer else 0.0
        lines.append(f"boosted_trees {gap:+.2f} % behind LightGBM (goal <= 1 %)")
    if "dnn" in scores:
        best = max(score.main for score in scores.values())
        gap = best - scores["dnn"].main
        lines.append(f"dnn {gap:+.2f} points of {unit} behind the best (goal <= 2)")
    return lines


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """`-p epochs=20` pairs as train keyword arguments (values read as JSON when they can)."""
    overrides: dict[str, Any] = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    return overrides


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--estimators", default=",".join(ESTIMATORS))
    parser.add_argument("--max-rows", type=int, default=None)
    parser.add_argument("-p", dest="overrides", action="append", default=[])
    parser.add_argument(
        "--threads", type=int, default=1, help="OpenMP threads of LightGBM and scikit-learn"
    )
    args = parser.parse_args()
    # before LightGBM or scikit-learn start OpenMP: spinning threads on a shared 2-core
    # machine make every model many times slower, Shipyard's trees (LightGBM) included
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    estimators = args.estimators.split(",")
    overrides = parse_overrides(args.overrides)
    report: list[str] = [
        "| data set | rows | model | accuracy or R² | AUC or RMSE | train s |",
        "|---|---|---|---|---|---|",
    ]
    checks: list[str] = []
    started = time.perf_counter()
    for name in args.datasets.split(","):
        dataset = DATASETS[name]
        runs = []
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            source = source_file(dataset, args.max_rows, workdir)
            for seed in range(args.repeats):
                scores, train_rows, eval_rows = run_shipyard(
                    source, dataset.label, estimators, seed, overrides, workdir
                )
                scores.update(run_peers(train_rows, eval_rows, dataset.label, seed, args.threads))
                runs.append(scores)
                print(name, seed, {k: round(v.main, 2) for k, v in scores.items()}, flush=True)
        merged = median_scores(runs)
        regression = pa.types.is_floating(train_rows.schema.field(dataset.label).type)
        rows = f"{train_rows.num_rows:,} / {eval_rows.num_rows:,}"
        for model, score in merged.items():
            extra = "" if score.extra is None else f"{score.extra:.4g}"
            report.append(
                f"| {name} | {rows} | {model} | {score.main:.2f} | {extra} | {score.seconds:.2f} |"
            )
        checks += [f"{name}: {line}" for line in goals(merged, regression)]
    print("\n".join(report))
    print("\n".join(checks))
    print(f"total {time.perf_counter() - started:.0f} s, {args.repeats} repeat(s)")


if __name__ == "__main__":
    main()
