"""`shipyard train DATA --label COL`: the whole seed demo in one command.

It builds the pipeline ingest → statistics → schema → validation → transform → train →
evaluate → push in code and runs it with the normal runner, so it is cached, recorded and
inspectable like any other run (`shipyard runs show`, `shipyard lineage`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shipyard.cli.options import ArtifactRootOption, DataArgument, JsonOption, StoreOption
from shipyard.cli.parameter_type import ComponentParameter

if TYPE_CHECKING:
    from collections.abc import Callable

    from shipyard.dsl import Pipeline
    from shipyard.runners import Run
    from shipyard.runners.outcome import RunOutcome

ESTIMATORS = ("linear", "dnn", "wide_deep", "boosted_trees")
TASK_FIELDS = ("task", "task_reason", "positive_class", "positive_class_reason")


def _limits(parameter: str, base: Callable[[str], Any]) -> ComponentParameter:
    """The option takes the limits `train` declares on `parameter`."""
    return ComponentParameter("shipyard.components:train", parameter, base)


def train_command(
    ctx: typer.Context,
    data: DataArgument,
    label: Annotated[str, typer.Option("--label", help="The column to predict.")],
    task: Annotated[
        str,
        typer.Option(
            "--task",
            help="auto, classification, regression (or binary, multiclass). auto: strings, "
            "two distinct numbers and at most 10 integer codes are classification, other "
            "numbers regression.",
        ),
    ] = "auto",
    positive_class: Annotated[
        str | None,
        typer.Option(
            "--positive-class",
            help="The class binary metrics are computed for. Default: 1/true/yes-like, "
            "else the larger number, else the later name.",
            show_default=False,
        ),
    ] = None,
    features: Annotated[
        list[str] | None,
        typer.Option(
            "--features",
            help="The only columns the model reads besides the label (comma-separated, "
            "repeatable).",
            show_default=False,
        ),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option(
            "--exclude",
            help="Columns the model must not read, e.g. leaky outcomes or identifiers "
            "(comma-separated, repeatable).",
            show_default=False,
        ),
    ] = None,
    model: Annotated[
        str,
        typer.Option("--model", help="The estimator: linear, dnn, wide_deep or boosted_trees."),
    ] = "dnn",
    hidden_units: Annotated[
        str, typer.Option("--hidden-units", help="Layer sizes of the DNN, comma-separated.")
    ] = "100,70,50,25",
    epochs: Annotated[
        int | None,
        typer.Option(
            "--epochs",
            parser=_limits("epochs", int),
            help="Most passes over the data (default: enough for about 2,000 optimizer "
            "steps); early stopping may end sooner.",
        ),
    ] = None,
    learning_rate: Annotated[
        float | None,
        typer.Option(
            "--learning-rate",
            parser=_limits("learning_rate", float),
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
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            parser=_limits("workers", int),
            help="Train in N processes with PyTorch DDP (gloo on CPU, NCCL on CUDA); the "
            "metrics are those of one process. Boosted trees: LightGBM's data-parallel learner.",
        ),
    ] = 1,
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
            "of this pipeline (repeatable), e.g. accuracy=0.01. Default: the primary metric "
            "(AUC, accuracy or R²) by 0.01; METRIC=none turns the comparison off.",
        ),
    ] = None,
    min_metric: Annotated[
        list[str] | None,
        typer.Option(
            "--min-metric",
            help="METRIC=VALUE: bless only a model with at least this value (repeatable), "
            "e.g. auc=0.75.",
        ),
    ] = None,
    max_metric: Annotated[
        list[str] | None,
        typer.Option(
            "--max-metric",
            help="METRIC=VALUE: bless only a model with at most this value (repeatable), "
            "e.g. rmse=300.",
        ),
    ] = None,
    allow_degenerate: Annotated[
        bool,
        typer.Option(
            "--allow-degenerate",
            help="Bless a classifier that predicts one class for every row.",
        ),
    ] = False,
    batch_size: Annotated[
        int, typer.Option("--batch-size", parser=_limits("batch_size", int))
    ] = 256,
    seed: Annotated[int, typer.Option("--seed", help="Fixes initialisation and order.")] = 0,
    model_name: Annotated[
        str | None, typer.Option("--model-name", help="Default: the data file's stem.")
    ] = None,
    push_to: Annotated[
        Path, typer.Option("--push-to", help="Model repository: BASE/NAME/VERSION/.")
    ] = Path("models"),
    canary: Annotated[
        float | None,
        typer.Option(
            "--canary",
            metavar="PERCENT",
            help="Push as a canary taking PERCENT % of the unlabeled requests, beside the "
            "stable version, in the model config PUSH_TO/models.yaml (serve it with "
            "--model-config; promote it with shipyard promote).",
            show_default=False,
        ),
    ] = None,
    infra_validate: Annotated[
        bool,
        typer.Option(
            "--infra-validate",
            help="Before pushing, serve the model in a shipyard serve process and send it "
            "eval rows; push only if every answer is well-formed and fast enough.",
        ),
    ] = False,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Execute every node.")] = False,
    store: StoreOption = None,
    artifact_root: ArtifactRootOption = None,
    json_output: JsonOption = False,
) -> None:
    """Train, evaluate and push a model from a data file, and say where it went."""
    from shipyard.cli.command_line import given_options, repeat_command
    from shipyard.cli.evaluation import print_evaluation, print_task
    from shipyard.cli.output import EXIT_FAILED, console, exit_on_interrupt, print_json
    from shipyard.cli.train_checks import check_train_options
    from shipyard.components.train.schedules import SCHEDULES
    from shipyard.errors import InvalidParameterError
    from shipyard.extras import require_extra
    from shipyard.runners import run
    from shipyard.runners.display import RichDisplay, print_outcome
    from shipyard.runners.outcome import run_outcome

    require_extra("train", needed_by="shipyard train")
    if model not in ESTIMATORS:
        raise InvalidParameterError(
            f"--model must be one of {', '.join(ESTIMATORS)}. Got {model!r} instead."
        )
    if lr_schedule not in SCHEDULES:
        raise InvalidParameterError(
            f"--lr-schedule must be one of {', '.join(SCHEDULES)}. Got {lr_schedule!r} instead."
        )
    regression = _regression_limits(max_regression)
    thresholds = _thresholds(min_metric or [], max_metric or [])
    try:
        units = tuple(int(part) for part in hidden_units.split(",") if part.strip())
    except ValueError:
        raise InvalidParameterError(
            f"--hidden-units takes comma-separated layer sizes such as 100,70,50,25. "
            f"Got {hidden_units!r} instead."
        ) from None
    source = Path(data).expanduser().resolve()
    columns = check_train_options(
        ctx,
        data,
        label=label,
        features=features,
        exclude=exclude,
        slices=slices or (),
        task=task,
        positive_class=positive_class,
    )
    name = model_name or source.name.split(".")[0]
    pipeline = train_pipeline(
        source,
        label=label,
        estimator=model,
        train_options=_train_options(
            model,
            given_options(ctx),
            hidden_units=units,
            epochs=epochs,
            learning_rate=learning_rate,
            lr_schedule=lr_schedule,
            mixed_precision=mixed_precision,
            workers=workers,
            batch_size=batch_size,
            seed=seed,
        ),
        model_name=name,
        push_to=push_to.expanduser().resolve(),
        canary_percent=canary,
        infra_validation=infra_validate,
        thresholds=thresholds,
        max_regression=regression,
        allow_degenerate=allow_degenerate,
        slices=tuple(slices or ()),
        task=task,
        positive_class=positive_class,
        features=columns.features,
        exclude=columns.exclude,
    )
    with exit_on_interrupt():  # Ctrl-C: the display printed the resume command
        result = run(
            pipeline,
            cache=not no_cache,
            store=store,
            artifact_root=artifact_root,
            progress=False,
            # The evaluation below shows the blessing; the display a failed run's outcome.
            hooks=[RichDisplay(resume_hint=repeat_command(ctx), show_outcome=False)],
        )
    outcome = run_outcome(result)
    summary = train_summary(result, name, outcome)
    err = console(stderr=True)
    if json_output:
        print_json(summary)
    elif not result.ok:
        print_outcome(err, outcome)
    else:
        outputs = result["evaluate"].outputs
        print_evaluation(err, outputs["evaluation"].load(), outputs["blessing"].load())
        print_task(err, summary)
        if summary["baseline_id"] is not None:
            err.print(f"Compared with the last blessed model (artifact {summary['baseline_id']}).")
        # The models pushed and the reports; the evaluation above showed metrics and blessing.
        print_outcome(err, dataclasses.replace(outcome, blessings=(), metrics={}))
        err.print(
            f"Training curves: tensorboard --logdir {summary['tensorboard_dir']}", soft_wrap=True
        )
        if summary["label"] is not None:
            share = "" if summary["label"] == "stable" else f" ({summary['canary_percent']:g} %)"
            err.print(
                f"Version {summary['version']} is {summary['label']}{share} in "
                f"{push_to.expanduser().resolve() / 'models.yaml'}; serve it with --model-config.",
                soft_wrap=True,
                markup=False,
            )
    if not result.ok:
        raise typer.Exit(EXIT_FAILED)


def train_summary(result: Run, name: str, outcome: RunOutcome) -> dict[str, Any]:
    """The machine-readable outcome: model, version, directories, metrics, blessing, push.

    The push and the blessing come from the run's `outcome` (`run_outcome(result)`), as the
    end of every run prints them.
    """
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
        "label": None,
        "canary_percent": None,
        "infra_blessed": None,
        "baseline_id": None,
        "blessing_checks": [],
        "blessing_notes": [],
        "evaluation_report": None,
        "tensorboard_dir": None,
        **dict.fromkeys(TASK_FIELDS),
        "failed": {node.name: str(node.error) for node in result.failed},
    }
    if not result.ok:
        return summary
    model = result["train"].outputs["model"]
    evaluation = result["evaluate"].outputs["evaluation"]
    from shipyard.artifacts import Model, ModelEvaluation, ModelRun

    [pushed] = outcome.models
    [blessing] = outcome.blessings
    summary.update(
        baseline_id=blessing.baseline_id,
        blessing_checks=[
            {key: check[key] for key in ("metric", "kind", "passed", "reason")}
            for check in blessing.checks
        ],
        blessing_notes=list(blessing.notes),
        evaluation_report=str(evaluation.path / ModelEvaluation.HTML_FILENAME),
        tensorboard_dir=str(
            result["train"].outputs["model_run"].path / ModelRun.TENSORBOARD_DIRNAME
        ),
        exported_dir=str(model.path),
        metrics=dict(evaluation.properties.get("metrics", {})),
        blessed=blessing.blessed,
        pushed=pushed.pushed,
        pushed_path=pushed.path,
        version=pushed.version,
    )
    release = result["push"].outputs["pushed"].properties
    summary.update(label=release.get("label"), canary_percent=release.get("canary_percent"))
    if "infra_validate" in result.nodes:
        infra = result["infra_validate"].outputs["infra_blessing"].properties
        summary["infra_blessed"] = infra.get("blessed")
    signature = model.signature() if isinstance(model, Model) else {}
    summary.update({key: signature.get(key) for key in TASK_FIELDS})
    return summary


def train_pipeline(source: Path, *, model_name: str, **options: Any) -> Pipeline:
    """The standard tabular pipeline for one data file, named `train-MODEL_NAME`.

    The prefix keeps its baseline (the latest model blessed by a pipeline of that name)
    apart from a user's own pipeline of the data file's name, such as the demo's.
    Paths must be absolute.
    """
    from shipyard.pipelines import tabular_pipeline

    return tabular_pipeline(
        f"train-{model_name}",
        source,
        model_name=model_name,
        on_anomaly="warn",  # the schema was inferred from this very file: report, don't block
        description=f"shipyard train {source.name}",
        **options,
    )


def _train_options(estimator: str, given: set[str], **options: Any) -> dict[str, Any]:
    """The command's training options that apply to `estimator` (its defaults cover all).

    Raises:
        InvalidParameterError: The user gave an option that does not apply to `estimator`.
    """
    from shipyard.components import train
    from shipyard.errors import InvalidParameterError

    applicable = train.applicable({"estimator": estimator, **options})
    ignored = sorted(name for name in options if name in given and name not in applicable)
    if ignored:
        flags = ", ".join("--" + name.replace("_", "-") for name in ignored)
        raise InvalidParameterError(
            f"{flags} {'does' if len(ignored) == 1 else 'do'} not apply to --model "
            f"{estimator}. Leave {'it' if len(ignored) == 1 else 'them'} out, or choose a "
            f"model {'it applies' if len(ignored) == 1 else 'they apply'} to."
        )
    return {name: value for name, value in applicable.items() if name != "estimator"}


def _regression_limits(values: list[str] | None) -> dict[str, float] | None:
    """Parse `--max-regression accuracy=0.01` options; None keeps the default limit."""
    if not values:
        return None
    if any(text.strip().lower() in {"none", "off"} for text in values):
        return {}
    return _metric_values("--max-regression", values, example="accuracy=0.01")


def _thresholds(minimums: list[str], maximums: list[str]) -> dict[str, dict[str, float]]:
    """Parse `--min-metric auc=0.75` and `--max-metric rmse=300` into thresholds."""
    thresholds: dict[str, dict[str, float]] = {}
    for flag, bound, values, example in (
        ("--min-metric", "min", minimums, "auc=0.75"),
        ("--max-metric", "max", maximums, "rmse=300"),
    ):
        for metric, value in _metric_values(flag, values, example=example).items():
            thresholds.setdefault(metric, {})[bound] = value
    return thresholds


def _metric_values(flag: str, values: list[str], *, example: str) -> dict[str, float]:
    """Parse `METRIC=NUMBER` option values."""
    from shipyard.errors import InvalidParameterError

    parsed: dict[str, float] = {}
    for text in values:
        metric, _, number = text.partition("=")
        try:
            value: float | None = float(number)
        except ValueError:
            value = None
        if value is None or not metric.strip():
            raise InvalidParameterError(
                f"{flag} takes METRIC=NUMBER such as {example}. Got {text!r}."
            )
        parsed[metric.strip()] = value
    return parsed
