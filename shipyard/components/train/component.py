"""The `train` component (TFX Trainer): a canned PyTorch estimator, exported as a `Model`."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Literal

from shipyard.artifacts import Examples, Model, Schema, TransformGraph
from shipyard.artifacts.schema import SERVING
from shipyard.dsl import Out, component
from shipyard.errors import InvalidParameterError, NotFoundError

if TYPE_CHECKING:
    from shipyard.components.transform.fitted import FittedTransform

TRAIN_SPLIT = "train"
EVAL_SPLIT = "eval"


@component
def train(
    transformed: Examples,
    transform_graph: TransformGraph,
    model: Out[Model],
    schema: Schema | None = None,
    *,
    estimator: Literal["linear", "dnn", "wide_deep"] = "dnn",
    task: Literal["auto", "binary", "multiclass", "regression"] = "auto",
    label: str | None = None,
    hidden_units: tuple[int, ...] = (100, 70, 50, 25),
    activation: Literal["relu", "tanh", "gelu"] = "relu",
    dropout: float = 0.0,
    batch_norm: bool = False,
    optimizer: Literal["adam", "sgd", "adamw"] = "adam",
    learning_rate: float = 1e-3,
    batch_size: int = 256,
    epochs: int = 10,
    max_steps: int | None = None,
    early_stopping_patience: int | None = 3,
    seed: int = 0,
    device: str = "auto",
) -> None:
    """Train a canned estimator on the transformed examples and export the model.

    The exported `model.onnx` is the transform graph composed with the network: it takes
    raw columns (the label excepted) and returns `class_ids`, `probabilities` and
    `class_labels` (classification) or `predictions` (regression).

    Args:
        transformed: The transformed examples (a `train` split; `eval` for early stopping
            and metrics).
        transform_graph: The fitted transform; it names the label and its vocabulary.
        model: Receives the exported model directory.
        schema: The data schema; its SERVING view is copied to `schema.yaml`.
        estimator: `linear`, `dnn` or `wide_deep`.
        task: `auto` (class ids with a vocabulary: binary or multiclass; floats:
            regression), or the task itself.
        label: The label's transform output (default: the one the transform recorded).
        hidden_units: The widths of the DNN's hidden layers.
        activation: The DNN's activation.
        dropout: The dropout rate after each hidden layer.
        batch_norm: Batch normalization after each hidden layer.
        optimizer: `adam`, `sgd` (momentum 0.9) or `adamw`.
        learning_rate: The optimizer's learning rate.
        batch_size: Rows per step.
        epochs: Passes over the train split.
        max_steps: Stop after this many steps in all (None: no limit).
        early_stopping_patience: Stop after this many epochs without a lower eval loss and
            keep the best epoch's weights (None: train every epoch, keep the last).
        seed: The seed of initialization and shuffling: the same seed gives the same
            weights on the same machine.
        device: `auto` (CUDA when available), `cpu`, `cuda`, `cuda:1`, ...

    Raises:
        NotFoundError: `transformed` has no train split.
        InvalidParameterError: A parameter is out of range, or the label does not fit the
            task.
        DataError: The label has one class, a feature holds NaN or infinity, or training
            diverged.

    Example:
        >>> trained = train(
        ...     transformed=prepared.outputs.transformed,
        ...     transform_graph=prepared.outputs.transform_graph,
        ...     estimator="dnn",
        ...     hidden_units=[16, 8],
        ... )
    """
    _check_parameters(
        learning_rate=learning_rate,
        batch_size=batch_size,
        epochs=epochs,
        max_steps=max_steps,
        early_stopping_patience=early_stopping_patience,
        dropout=dropout,
        hidden_units=hidden_units,
    )
    import onnx

    from shipyard.artifacts.model import ExportedModel
    from shipyard.components.train import export
    from shipyard.components.train.data import describe_problem, to_tensors
    from shipyard.components.train.estimators import Head, build_estimator
    from shipyard.components.train.loop import LoopConfig, fit, seed_everything
    from shipyard.components.transform.fitted import FittedTransform

    if TRAIN_SPLIT not in transformed.splits:
        raise NotFoundError(
            f"train needs a {TRAIN_SPLIT!r} split, but {transformed.uri} has "
            f"{', '.join(transformed.splits) or 'no splits'}."
        )
    fitted = FittedTransform.from_spec(transform_graph.load(), source=transform_graph.uri)
    train_table = transformed.read(TRAIN_SPLIT)
    problem = describe_problem(fitted, train_table, label=label, task=task)
    train_split = to_tensors(problem, train_table, split=TRAIN_SPLIT)
    eval_split = (
        to_tensors(problem, transformed.read(EVAL_SPLIT), split=EVAL_SPLIT)
        if EVAL_SPLIT in transformed.splits
        else None
    )
    config = LoopConfig(
        optimizer=optimizer,
        learning_rate=learning_rate,
        batch_size=batch_size,
        epochs=epochs,
        max_steps=max_steps,
        early_stopping_patience=early_stopping_patience if eval_split is not None else None,
        seed=seed,
        device=device,
    )
    seed_everything(seed)
    network = build_estimator(
        estimator,
        problem.features,
        problem.outputs,
        hidden_units=list(hidden_units),
        activation=activation,
        dropout=dropout,
        batch_norm=batch_norm,
    )
    result = fit(network, problem, train_split, eval_split, config)
    head = Head(
        network,
        classification=problem.task != "regression",
        mean=problem.label_mean,
        std=problem.label_std,
    )
    merged = export.compose(
        onnx.load_from_string(transform_graph.read_onnx()),
        export.export_network(head, problem),
        problem,
    )
    parameters: dict[str, Any] = {
        "estimator": estimator,
        "task": task,
        "label": label,
        "hidden_units": list(hidden_units),
        "activation": activation,
        "dropout": dropout,
        "batch_norm": batch_norm,
        "optimizer": optimizer,
        "learning_rate": learning_rate,
        "batch_size": batch_size,
        "epochs": epochs,
        "max_steps": max_steps,
        "early_stopping_patience": early_stopping_patience,
        "seed": seed,
        "device": device,
    }
    card = {
        "name": model.name or "model",
        "task": problem.task,
        "estimator": estimator,
        "label": problem.label,
        "classes": problem.classes,
        "features": [dataclasses.asdict(f) for f in problem.features],
        "data": {
            "examples": transformed.name or transformed.uri,
            "rows_train": train_split.rows,
            "rows_eval": eval_split.rows if eval_split is not None else 0,
        },
        "metrics": result.metrics,
        "training": {
            "device": result.device,
            "best_epoch": result.best_epoch,
            "stopped_early": result.stopped_early,
        },
        "parameters": parameters,
        "lineage": {
            "examples_id": transformed.id,
            "transform_graph_id": transform_graph.id,
            "schema_id": schema.id if schema is not None else None,
        },
    }
    model.save(
        ExportedModel(
            onnx=merged.SerializeToString(),
            weights=export.weights_bytes(network),
            signature=export.signature(merged, problem, _optional_columns(fitted)),
            card=card,
            schema_yaml=_serving_schema(schema),
        )
    )
    model.properties["history"] = result.history
    model.properties["metrics"] = result.metrics
    model.properties["estimator"] = estimator


def _check_parameters(
    *,
    learning_rate: float,
    batch_size: int,
    epochs: int,
    max_steps: int | None,
    early_stopping_patience: int | None,
    dropout: float,
    hidden_units: tuple[int, ...],
) -> None:
    problems = [
        ("learning_rate", "a number > 0", learning_rate, learning_rate > 0),
        ("batch_size", "an int >= 1", batch_size, batch_size >= 1),
        ("epochs", "an int >= 1", epochs, epochs >= 1),
        ("max_steps", "None or an int >= 1", max_steps, max_steps is None or max_steps >= 1),
        (
            "early_stopping_patience",
            "None or an int >= 1",
            early_stopping_patience,
            early_stopping_patience is None or early_stopping_patience >= 1,
        ),
        ("dropout", "a number in [0, 1)", dropout, 0 <= dropout < 1),
        (
            "hidden_units",
            "a list of ints >= 1",
            list(hidden_units),
            all(units >= 1 for units in hidden_units),
        ),
    ]
    for name, expected, got, ok in problems:
        if not ok:
            raise InvalidParameterError(
                f"The {name!r} parameter of train must be {expected}. Got {got!r} instead."
            )


def _optional_columns(fitted: FittedTransform) -> set[str]:
    """Raw columns read only through `impute`: serving may leave them missing."""
    consumers: dict[str, set[str]] = {}
    for node in fitted.nodes:
        for index in node.inputs:
            source = fitted.nodes[index]
            if source.op == "column":
                consumers.setdefault(str(source.options["name"]), set()).add(node.op)
    return {name for name, ops in consumers.items() if ops == {"impute"}}


def _serving_schema(schema: Schema | None) -> str | None:
    if schema is None:
        return None
    data = schema.load()
    serving = {n: f for n, f in data.features.items() if SERVING not in f.not_in}
    return dataclasses.replace(data, features=serving).to_yaml()
