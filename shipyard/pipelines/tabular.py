"""`tabular_pipeline`: from a table of examples to a blessed, pushed model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from shipyard.components.evaluate.blessing import DEFAULT_MAX_REGRESSION

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from shipyard.dsl import Pipeline

__all__ = ["DEFAULT_MAX_REGRESSION", "tabular_pipeline"]


def tabular_pipeline(
    name: str,
    source: str | Path,
    *,
    label: str | None = None,
    schema: str | Path | None = None,
    estimator: str = "dnn",
    task: str = "auto",
    positive_class: str | None = None,
    features: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
    ingest_options: Mapping[str, Any] | None = None,
    transform_options: Mapping[str, Any] | None = None,
    train_options: Mapping[str, Any] | None = None,
    slices: Sequence[str | dict[str, Any]] = (),
    thresholds: Mapping[str, Mapping[str, float]] | None = None,
    max_regression: Mapping[str, float] | None = None,
    allow_degenerate: bool = False,
    on_anomaly: Literal["fail", "warn"] = "fail",
    model_name: str | None = None,
    push_to: str | Path = "models",
    infra_validation: bool = False,
    canary_percent: float | None = None,
    description: str = "",
) -> Pipeline:
    """Build the standard pipeline for a table of examples with a label.

    ingest → compute_statistics → schema (pinned with `import_schema` when `schema` is
    given, else inferred with `infer_schema`) → validate_examples → transform (fitted on
    train) → train → evaluate (on the raw eval split, against the latest model this pipeline
    blessed) → [infra_validate] → push (to `push_to/MODEL_NAME/VERSION/` when blessed).

    Relative paths (`source`, `schema`, `push_to`) resolve against the directory of the file
    that calls this function, like every path parameter of a node.

    Args:
        name: The pipeline's name; the baseline is the latest model blessed by a pipeline of
            this name, so two different pipelines must not share it.
        source: The data: a file, a glob, a directory or a `{SPAN}` pattern (see `ingest`).
        label: The column to predict. Optional when the pinned schema names it.
        schema: A curated schema YAML to pin (`shipyard schema DATA > schema.yaml`); None
            infers one from the train split.
        estimator: `linear`, `dnn`, `wide_deep` or `boosted_trees`.
        task: `auto` (the rule of `shipyard.components.labels`: class names, two distinct
            numbers or a few integer codes are classification), `classification`,
            `binary`, `multiclass` or `regression`.
        positive_class: The positive class of a binary label (None: the documented rule).
        features: The only columns the model reads besides the label (None: all).
        exclude: Columns the model never reads, such as outcomes recorded after the fact.
        ingest_options: More `ingest` parameters (`splits`, `split_key`, `span`, ...).
        transform_options: More `transform` parameters.
        train_options: More `train` parameters (`hidden_units`, `epochs`, ...).
        slices: Columns (or slice specs) to report the eval metrics by.
        thresholds: Absolute bounds the model must meet: `{"auc": {"min": 0.75}}`.
        max_regression: How much worse than the baseline each metric may get. None: the
            default tolerance on the task's primary metric (`DEFAULT_MAX_REGRESSION`);
            `{}` turns the comparison off.
        allow_degenerate: Bless a classifier that predicts one class for every row.
        on_anomaly: `fail` stops the run when validation finds anomalies; `warn` records
            them and goes on.
        model_name: The name pushed under (default: the pipeline's name).
        push_to: The model repository: models go to `push_to/MODEL_NAME/VERSION/`.
        infra_validation: Serve the model in a `shipyard serve` process on the eval rows
            before pushing it (`infra_validate`); push refuses it if it serves badly. Off
            by default: it adds about a second per run (the server's start-up).
        canary_percent: Push the model as a canary with this share of the unlabeled
            requests, in the model config `push_to/models.yaml` (see `push`).
        description: The pipeline's description.

    Returns:
        The checked pipeline; its nodes are named `ingest`, `compute_statistics`,
        `import_schema` or `infer_schema`, `validate_examples`, `transform`, `train`,
        `evaluate`, `infra_validate` (with `infra_validation`) and `push`.

    Raises:
        DefinitionError: An option is unknown to its component, or of the wrong type.

    Example:
        >>> pipeline = tabular_pipeline(
        ...     "penguins", "data/penguins.csv", schema="schema.yaml",
        ...     ingest_options={"splits": {"train": 8, "eval": 2}},
        ...     train_options={"hidden_units": (16, 8)},
        ...     slices=("island",), thresholds={"accuracy": {"min": 0.9}},
        ... )
    """
    from shipyard.components import (
        compute_statistics,
        evaluate,
        import_schema,
        infer_schema,
        infra_validate,
        ingest,
        push,
        train,
        transform,
        validate_examples,
    )
    from shipyard.dsl import Pipeline, latest_blessed_model

    raw = ingest(source=str(source), **dict(ingest_options or {}))
    statistics = compute_statistics(examples=raw.outputs.examples)
    pinned = (
        import_schema(path=str(schema))
        if schema is not None
        else infer_schema(statistics=statistics.outputs.statistics, label=label)
    )
    validated = validate_examples(
        statistics=statistics.outputs.statistics,
        schema=pinned.outputs.schema,
        examples=raw.outputs.examples,  # out-of-range values counted exactly
        on_anomaly=on_anomaly,
    )
    transform_parameters: dict[str, Any] = {
        "features": None if features is None else tuple(features),
        "exclude": tuple(exclude),
        **dict(transform_options or {}),
    }
    if label is not None:
        transform_parameters.setdefault("label", label)
    prepared = transform(
        examples=raw.outputs.examples, schema=pinned.outputs.schema, **transform_parameters
    ).after(validated)
    trained = train(
        transformed=prepared.outputs.transformed,
        transform_graph=prepared.outputs.transform_graph,
        schema=pinned.outputs.schema,
        estimator=estimator,
        task=task,
        positive_class=positive_class,
        **dict(train_options or {}),
    )
    checked = evaluate(
        examples=raw.outputs.examples,
        model=trained.outputs.model,
        baseline=latest_blessed_model(),
        slices=tuple(slices),
        thresholds={k: dict(v) for k, v in (thresholds or {}).items()} or None,
        max_regression=None if max_regression is None else dict(max_regression),
        allow_degenerate=allow_degenerate,
    )
    served = (
        infra_validate(model=trained.outputs.model, examples=raw.outputs.examples)
        if infra_validation
        else None
    )
    pushed = push(
        model=trained.outputs.model,
        blessing=checked.outputs.blessing,
        infra_blessing=None if served is None else served.outputs.infra_blessing,
        name=model_name or name,
        base=str(push_to),
        canary_percent=canary_percent,
    )
    return Pipeline(name, nodes=[pushed], description=description)
