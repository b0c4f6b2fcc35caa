"""`shipyard train DATA --label COL`: the whole seed demo in one command.

It builds the pipeline ingest → statistics → schema → validation → transform → train →
evaluate → push in code and runs it with the normal runner, so it is cached, recorded and
inspectable like any other run (`shipyard runs show`, `shipyard lineage`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shipyard.cli.options import ArtifactRootOption, DataArgument, JsonOption, StoreOption

if TYPE_CHECKING:
    from shipyard.dsl import Pipeline
    from shipyard.runners import Run

ESTIMATORS = ("linear", "dnn", "wide_deep", "boosted_trees")


def train_command(
    data: DataArgument,
    label: Annotated[str, typer.Option("--label", help="The column to predict.")],
    model: Annotated[
        str,
        typer.Option("--model", help="The estimator: linear, dnn, wide_deep or boosted_trees."),
    ] = "dnn",
    hidden_units: Annotated[
        str, typer.Option("--hidden-units", help="Layer sizes of the DNN, comma-separated.")
    ] = "100,70,50,25",
    epochs: Annotated[
        int,
        typer.Option(
            "--epochs", min=1, help="Most passes over the data; early stopping may end sooner."
        ),
    ] = 50,
    learning_rate: Annotated[
        float | None,
        typer.Option(
            "--learning-rate",
            min=0.0,
            help="The learning rate (default: 1e-3 for networks, 0.1 for boosted trees).",
        ),
    ] = None,
    lr_schedule: Annotated[
        str, typer.Option("--lr-schedule", help="constant, cosine, linear or step.")
    ] = "constant",
    mixed_precision: Annotated[
        bool,
        typer.Option("--mixed-precision", help="bfloat16 on CPU, float16 on CUDA, where safe."),
    ] = False,
    slices: Annotated[
        list[str] | None,
        typer.Option(
            "--slice", help="A column to report the eval metrics by, value by value (repeatable)."
        ),
    ] = None,
    max_regression: Annotated[
        list[str] | None,
        typer.Option(
            "--max-regression",
            help="METRIC=DELTA: the most a metric may get worse than the last blessed model "
            "of this pipeline (repeatable), e.g. accuracy=0.01.",
        ),
    ] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 256,
    seed: Annotated[int, typer.Option("--seed", help="Fixes initialisation and order.")] = 0,
    model_name: Annotated[
        str | None, typer.Option("--model-name", help="Default: the data file's stem.")
    ] = None,
    push_to: Annotated[
        Path, typer.Option("--push-to", help="Model repository: BASE/NAME/VERSION/.")
    ] = Path("models"),
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Execute every node.")] = False,
    store: StoreOption = None,
    artifact_root: ArtifactRootOption = None,
    json_output: JsonOption = False,
) -> None:
    """Train, evaluate and push a model from a data file, and say where it went."""
    from shipyard.cli.evaluation import print_evaluation
    from shipyard.cli.output import EXIT_FAILED, console, print_json
    from shipyard.components.train.schedules import SCHEDULES
    from shipyard.errors import InvalidParameterError
    from shipyard.runners import run
    from shipyard.runners.display import RichDisplay

    if model not in ESTIMATORS:
        raise InvalidParameterError(
            f"--model must be one of {', '.join(ESTIMATORS)}. Got {model!r} instead."
        )
    if lr_schedule not in SCHEDULES:
        raise InvalidParameterError(
            f"--lr-schedule must be one of {', '.join(SCHEDULES)}. Got {lr_schedule!r} instead."
        )
    regression = _metric_bounds(max_regression or [])
    try:
        units = tuple(int(part) for part in hidden_units.split(",") if part.strip())
    except ValueError:
        raise InvalidParameterError(
            f"--hidden-units takes comma-separated layer sizes such as 100,70,50,25. "
            f"Got {hidden_units!r} instead."
        ) from None
    source = Path(data).expanduser().resolve()
    name = model_name or source.name.split(".")[0]
    pipeline = seed_pipeline(
        source,
        label=label,
        estimator=model,
        hidden_units=units,
        epochs=epochs,
        learning_rate=learning_rate,
        lr_schedule=lr_schedule,
        mixed_precision=mixed_precision,
        batch_size=batch_size,
        seed=seed,
        name=name,
        push_to=push_to.expanduser().resolve(),
        max_regression=regression,
        slices=tuple(slices or ()),
    )
    result = run(
        pipeline,
        cache=not no_cache,
        store=store,
        artifact_root=artifact_root,
        progress=False,
        hooks=[RichDisplay(resume_hint=f"shipyard train {data} --label {label}")],
    )
    summary = train_summary(result, name)
    if json_output:
        print_json(summary)
    elif result.ok:
        metrics = ", ".join(f"{k} {v:.4g}" for k, v in summary["metrics"].items() if v is not None)
        where = (
            f"pushed to {summary['pushed_path']} (version {summary['version']})"
            if summary["pushed"]
            else "not pushed: it was not blessed"
        )
        err = console(stderr=True)
        outputs = result["evaluate"].outputs
        print_evaluation(err, outputs["evaluation"].load(), outputs["blessing"].load())
        err.print(f"Model {name}: {where}. Eval: {metrics}.")
        if summary["baseline_id"] is not None:
            err.print(f"Compared with the last blessed model (artifact {summary['baseline_id']}).")
        err.print(f"Training curves: tensorboard --logdir {summary['tensorboard_dir']}")
    if not result.ok:
        raise typer.Exit(EXIT_FAILED)


def seed_pipeline(
    source: Path,
    *,
    label: str,
    estimator: str,
    hidden_units: tuple[int, ...],
    epochs: int,
    learning_rate: float | None,
    lr_schedule: str,
    mixed_precision: bool,
    batch_size: int,
    seed: int,
    name: str,
    push_to: Path,
    max_regression: dict[str, float],
    slices: tuple[str, ...] = (),
) -> Pipeline:
    """The seed demo's pipeline for one data file. Paths must be absolute."""
    from shipyard.components import (
        compute_statistics,
        evaluate,
        infer_schema,
        ingest,
        push,
        train,
        transform,
        validate_examples,
    )
    from shipyard.dsl import Pipeline, latest_blessed_model

    raw = ingest(source=str(source))
    statistics = compute_statistics(examples=raw.outputs.examples)
    schema = infer_schema(statistics=statistics.outputs.statistics, label=label)
    validated = validate_examples(
        statistics=statistics.outputs.statistics,
        schema=schema.outputs.schema,
        on_anomaly="warn",  # the schema was inferred from this very file: report, don't block
    )
    transformed = transform(
        examples=raw.outputs.examples, schema=schema.outputs.schema, label=label
    ).after(validated)
    trained = train(
        transformed=transformed.outputs.transformed,
        transform_graph=transformed.outputs.transform_graph,
        schema=schema.outputs.schema,
        estimator=estimator,
        label=label,
        hidden_units=hidden_units,
        epochs=epochs,
        learning_rate=learning_rate,
        lr_schedule=lr_schedule,
        mixed_precision=mixed_precision,
        batch_size=batch_size,
        seed=seed,
    )
    evaluated = evaluate(
        examples=raw.outputs.examples,
        model=trained.outputs.model,
        baseline=latest_blessed_model(),
        slices=slices,
        max_regression=max_regression or None,
    )
    pushed = push(
        model=trained.outputs.model,
        blessing=evaluated.outputs.blessing,
        name=name,
        base=str(push_to),
    )
    return Pipeline(name, nodes=[pushed], description=f"shipyard train {source.name}")


def train_summary(result: Run, name: str) -> dict[str, Any]:
    """The machine-readable outcome: model, version, directories, metrics, blessing, push."""
    summary: dict[str, Any] = {
        "run": result.id,
        "state": result.state,
        "model_name": name,
        "version": None,
        "exported_dir": None,
        "metrics": {},
        "blessed": None,
        "pushed": False,
        "pushed_path": None,
        "baseline_id": None,
        "tensorboard_dir": None,
        "failed": {node.name: str(node.error) for node in result.failed},
    }
    if not result.ok:
        return summary
    model = result["train"].outputs["model"]
    evaluation = result["evaluate"].outputs["evaluation"]
    from shipyard.artifacts import ModelRun

    pushed = result["push"].outputs["pushed"].load()
    blessing = result["evaluate"].outputs["blessing"]
    summary.update(
        baseline_id=blessing.properties.get("baseline_id"),
        tensorboard_dir=str(
            result["train"].outputs["model_run"].path / ModelRun.TENSORBOARD_DIRNAME
        ),
        exported_dir=str(model.path),
        metrics=dict(evaluation.properties.get("metrics", {})),
        blessed=bool(blessing.properties.get("blessed")),
        pushed=pushed.pushed,
        pushed_path=pushed.path,
        version=pushed.version,
    )
    return summary


def _metric_bounds(values: list[str]) -> dict[str, float]:
    """Parse `--max-regression accuracy=0.01` options."""
    from shipyard.errors import InvalidParameterError

    bounds: dict[str, float] = {}
    for text in values:
        metric, _, delta = text.partition("=")
        try:
            value: float | None = float(delta)
        except ValueError:
            value = None
        if value is None or not metric.strip():
            raise InvalidParameterError(
                f"--max-regression takes METRIC=DELTA such as accuracy=0.01. Got {text!r}."
            )
        bounds[metric.strip()] = value
    return bounds
