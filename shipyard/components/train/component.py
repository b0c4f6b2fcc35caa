"""The `train` component (TFX Trainer): a canned PyTorch estimator, exported as a `Model`."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from shipyard.artifacts import Examples, Model, ModelRun, Schema, TransformGraph
from shipyard.artifacts.schema import SERVING
from shipyard.components.labels import TaskChoice
from shipyard.components.train.budget import default_learning_rate, resolve_budget
from shipyard.components.train.schedules import Schedule
from shipyard.dsl import Out, component
from shipyard.dsl.constraints import NOT_NONE, AppliesTo, Ge, Gt, Interval
from shipyard.dsl.context import current_task
from shipyard.errors import NotFoundError

if TYPE_CHECKING:
    import onnx

    from shipyard.components.train.data import Problem, Split
    from shipyard.components.train.launch import Relay as _RankRecorder
    from shipyard.components.train.loop import LoopConfig, TrainingResult
    from shipyard.components.train.recorder import EpochRecorder
    from shipyard.components.transform.fitted import FittedTransform

Estimator = Literal["linear", "dnn", "wide_deep", "boosted_trees"]

# Which estimator each option applies to: passing one the chosen estimator does not use is
# an error when the pipeline is built, instead of an option silently ignored.
_NETWORKS = AppliesTo(estimator=("linear", "dnn", "wide_deep"))
_DEEP = AppliesTo(estimator=("dnn", "wide_deep"), run_fn_file=None)
_TREES = AppliesTo(estimator="boosted_trees")
_CUSTOM = AppliesTo(run_fn_file=NOT_NONE)

TRAIN_SPLIT = "train"
EVAL_SPLIT = "eval"


# What a training imports that takes long (PyTorch about 2 s of CPU): under the default
# engine they are imported in a worker process while the nodes upstream run, and the node
# runs there (docs/engines.md, "The warm worker").
_SLOW_IMPORTS = (
    "torch",
    "safetensors.torch",
    "onnx",
    "onnxruntime",
    "pyarrow.parquet",
    "shipyard.components.train.estimators",
    "shipyard.components.train.loop",
    "shipyard.components.train.network_onnx",
    "shipyard.components.transform.fitted",
)


@component(preload=_SLOW_IMPORTS)
def train(
    transformed: Examples,
    transform_graph: TransformGraph,
    model: Out[Model],
    model_run: Out[ModelRun],
    schema: Schema | None = None,
    *,
    estimator: Estimator = "dnn",
    task: TaskChoice = "auto",
    label: str | None = None,
    positive_class: str | None = None,
    hidden_units: Annotated[tuple[Annotated[int, Ge(1)], ...], _DEEP] = (100, 70, 50, 25),
    activation: Annotated[Literal["relu", "tanh", "gelu"], _DEEP] = "relu",
    dropout: Annotated[float, Interval(ge=0, lt=1), _DEEP] = 0.0,
    batch_norm: Annotated[bool, _DEEP] = False,
    optimizer: Annotated[Literal["adam", "sgd", "adamw"], _NETWORKS] = "adam",
    learning_rate: Annotated[float, Gt(0)] | None = None,
    lr_schedule: Annotated[Schedule, _NETWORKS] = "constant",
    warmup_steps: Annotated[int, Ge(0), _NETWORKS] = 0,
    batch_size: Annotated[int, Ge(1), _NETWORKS] = 256,
    epochs: Annotated[Annotated[int, Ge(1)] | None, _NETWORKS] = None,
    max_steps: Annotated[Annotated[int, Ge(1)] | None, _NETWORKS] = None,
    early_stopping_patience: Annotated[int, Ge(1)] | Literal["auto"] | None = "auto",
    seed: Annotated[int, Ge(0)] = 0,
    device: Annotated[str, _NETWORKS] = "auto",
    mixed_precision: Annotated[bool, _NETWORKS] = False,
    workers: Annotated[int, Ge(1)] = 1,
    num_trees: Annotated[int, Ge(1), _TREES] = 100,
    num_leaves: Annotated[int, Ge(2), _TREES] = 31,
    max_depth: Annotated[Literal[-1] | Annotated[int, Ge(1)], _TREES] = -1,
    min_data_in_leaf: Annotated[int, Ge(1), _TREES] = 20,
    run_fn_file: Annotated[Path | None, _NETWORKS] = None,
    run_fn: Annotated[str, _CUSTOM] = "run_fn",
    hyperparameters: Annotated[dict[str, Any] | None, _CUSTOM] = None,
) -> None:
    """Train a model on the transformed examples and export it.

    The exported `model.onnx` is the transform graph composed with the trained model: it
    takes raw columns (the label excepted) and returns `class_ids`, `probabilities` and
    `class_labels` (classification) or `predictions` (regression). `model_run` keeps the
    per-epoch history and TensorBoard event files (`tensorboard --logdir PATH`).

    Args:
        transformed: The transformed examples (a `train` split; `eval` for early stopping
            and metrics).
        transform_graph: The fitted transform; it names the label and its vocabulary.
        model: Receives the exported model directory.
        model_run: Receives the training history and TensorBoard logs.
        schema: The data schema; its SERVING view is copied to `schema.yaml`.
        estimator: `linear`, `dnn` or `wide_deep` (PyTorch), or `boosted_trees` (LightGBM).
            Options of other estimators are errors when the pipeline is built: the network
            options (`optimizer` to `mixed_precision`, `run_fn_file`) apply to `linear`,
            `dnn` and `wide_deep`; `hidden_units`, `activation`, `dropout` and `batch_norm`
            to `dnn` and `wide_deep` without `run_fn_file`; `num_trees` to
            `min_data_in_leaf` to `boosted_trees`; `run_fn` and `hyperparameters` need
            `run_fn_file`.
        task: `auto` applies the rule of `shipyard.components.labels`: class names, two
            distinct numbers or a few integer codes are classification, other numbers
            regression. `classification`, `binary`, `multiclass` or `regression` override it.
        label: The label's transform output (default: the one the transform recorded).
        positive_class: The class binary metrics are computed for (default: by the rule of
            `shipyard.components.labels`: `1`/`true`/`yes`-like, else the larger number, else
            the later name). It is recorded in the signature, and `evaluate` uses it.
        hidden_units: The widths of the DNN's hidden layers.
        activation: The DNN's activation.
        dropout: The dropout rate after each hidden layer.
        batch_norm: Batch normalization after each hidden layer.
        optimizer: `adam`, `sgd` (momentum 0.9) or `adamw`.
        learning_rate: The optimizer's learning rate, or the trees' shrinkage (default:
            0.01 for `linear`, 1e-3 for the other networks, 0.1 for trees).
        lr_schedule: `constant`, `cosine`, `linear` (decay to 0) or `step` (÷10 at half
            and at three quarters of the steps).
        warmup_steps: Steps of linear warm-up before the schedule.
        batch_size: Rows per step.
        epochs: Passes over the train split at most (None: enough for about 2,000
            optimizer steps, within 10 to 1,000 epochs, see `budget.default_epochs`: 1,000
            epochs of 2 steps on 271 rows, 23 epochs of 88 steps on 22,478 rows).
        max_steps: Stop after this many steps in all (None: no limit).
        early_stopping_patience: Stop after this many epochs (boosting rounds) without a
            lower eval loss and keep the best (None: train every epoch, keep the last).
            `auto`: the epochs of about 100 optimizer steps, 3 at least, for networks
            (`budget.default_patience`); 10 rounds for boosted trees.
        seed: The seed of initialization and shuffling: the same seed gives the same
            weights on the same machine.
        device: `auto` (CUDA when available), `cpu`, `cuda`, `cuda:1`, ...
        mixed_precision: Compute in bfloat16 (CPU) or float16 (CUDA) where safe.
        workers: Train in this many processes under PyTorch DDP (gloo on CPU, NCCL on CUDA,
            where rank r uses `cuda:r`), launched on this machine; `batch_size` stays the
            batch of one step over all workers, each taking its share, so the steps and
            metrics are those of one worker (within the tolerance of docs/training.md).
            Rank 0 checkpoints, reports progress and exports. Under `torchrun` or a
            Kubeflow PyTorchJob (`RANK`, `WORLD_SIZE`, `MASTER_ADDR`, `MASTER_PORT` set),
            the execution joins that group instead and this value is not used. Boosted
            trees train with LightGBM's own data-parallel learner over sockets instead, each
            worker holding its share of the rows (`distributed_trees`, docs/training.md).
        num_trees: Boosting rounds at most (`boosted_trees`).
        num_leaves: Leaves per tree at most (`boosted_trees`).
        max_depth: Depth per tree at most, -1 for no limit (`boosted_trees`).
        min_data_in_leaf: Rows per leaf at least (`boosted_trees`).
        run_fn_file: A Python file whose `run_fn(context)` builds and trains a PyTorch
            module (custom training, see `shipyard.components.train.custom`); it replaces
            the canned estimator.
        run_fn: The function's name in `run_fn_file`.
        hyperparameters: Handed to `run_fn` as `context.hyperparameters`.

    An interrupted training (a crash, Ctrl-C, `kill -9`) resumes from the last epoch's
    checkpoint when the pipeline runs again with the same code, parameters and inputs.

    Raises:
        NotFoundError: `transformed` has no train split, or `run_fn_file` does not exist.
        InvalidParameterError: The label does not fit the task. (Parameter limits and
            options given for another estimator fail earlier, when the pipeline is built.)
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
    trees = estimator == "boosted_trees" and run_fn_file is None
    rate = learning_rate if learning_rate is not None else default_learning_rate(estimator)
    import onnx

    from shipyard.artifacts.model import ExportedModel
    from shipyard.components.train import export
    from shipyard.components.train.loop import LoopConfig  # the loop loads when it runs
    from shipyard.components.train.recorder import EpochRecorder
    from shipyard.components.transform.fitted import FittedTransform

    fitted = FittedTransform.from_spec(transform_graph.spec(), source=transform_graph.uri)
    data = _read_data(transformed, fitted, label=label, task=task, positive_class=positive_class)
    kind = "custom" if run_fn_file is not None else estimator
    epochs, patience = resolve_budget(
        data.train.rows, batch_size, epochs=epochs, patience=early_stopping_patience, estimator=kind
    )
    parameters: dict[str, Any] = {
        "estimator": kind,
        "task": task,
        "label": label,
        "positive_class": positive_class,
        "hidden_units": list(hidden_units),
        "activation": activation,
        "dropout": dropout,
        "batch_norm": batch_norm,
        "optimizer": optimizer,
        "learning_rate": rate,
        "lr_schedule": lr_schedule,
        "warmup_steps": warmup_steps,
        "batch_size": batch_size,
        "epochs": epochs,
        "max_steps": max_steps,
        "early_stopping_patience": patience,
        "seed": seed,
        "device": device,
        "mixed_precision": mixed_precision,
        "workers": workers,
    }
    if trees:
        parameters.update(
            num_trees=num_trees,
            num_leaves=num_leaves,
            max_depth=max_depth,
            min_data_in_leaf=min_data_in_leaf,
        )
    if run_fn_file is not None:
        parameters.update(
            run_fn_file=str(run_fn_file), run_fn=run_fn, hyperparameters=hyperparameters
        )
    config = LoopConfig(
        optimizer=optimizer,
        learning_rate=rate,
        lr_schedule=lr_schedule,
        warmup_steps=warmup_steps,
        batch_size=batch_size,
        epochs=epochs,
        max_steps=max_steps,
        early_stopping_patience=patience if data.eval is not None else None,
        seed=seed,
        device=device,
        mixed_precision=mixed_precision,
    )
    with EpochRecorder(
        model_run.tensorboard_dir, epochs=num_trees if trees else epochs
    ) as recorder:
        if trees:
            trained = _train_trees(data, parameters, recorder)
        else:
            trained = _train_network(
                data,
                config,
                parameters,
                recorder,
                output_dir=model_run.path,
                run_fn_file=run_fn_file,
                run_fn=run_fn,
                hyperparameters=hyperparameters or {},
                workers=workers,
            )
    problem = data.problem
    merged = export.compose(
        onnx.load_from_string(transform_graph.read_onnx()), trained.graph, problem
    )
    result = trained.result
    card = {
        "name": model.name or "model",
        **export.task_fields(problem),
        "estimator": parameters["estimator"],
        "label": problem.label,
        "classes": problem.classes,
        "features": [dataclasses.asdict(f) for f in problem.features],
        "data": {
            "examples": transformed.name or transformed.uri,
            "rows_train": data.train.rows,
            "rows_eval": data.eval.rows if data.eval is not None else 0,
        },
        "metrics": result.metrics,
        "training": {
            "device": result.device,
            "best_epoch": result.best_epoch,
            "stopped_early": result.stopped_early,
            "resumed_from_epoch": result.resumed_from_epoch,
            "workers": trained.workers,
            "launcher": trained.launcher,
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
            weights=trained.weights,
            signature=export.signature(merged, problem, export.optional_columns(fitted)),
            card=card,
            schema_yaml=_serving_schema(schema),
        )
    )
    model_run.save(recorder.history)
    model.properties["history"] = result.history
    model.properties["metrics"] = result.metrics
    model.properties["estimator"] = parameters["estimator"]


@dataclass(frozen=True)
class _Data:
    problem: Problem
    train: Split
    eval: Split | None


@dataclass(frozen=True)
class _Trained:
    graph: onnx.ModelProto
    weights: bytes
    result: TrainingResult
    workers: int = 1  # the processes that trained it (DDP's world size)
    # how its ranks started: "processes" (train's own), "ray_train" (a Ray Train
    # TorchTrainer), "environment" (torchrun, a PyTorchJob); None for one process
    launcher: str | None = None


def _read_data(
    transformed: Examples,
    fitted: FittedTransform,
    *,
    label: str | None,
    task: TaskChoice,
    positive_class: str | None,
) -> _Data:
    from shipyard.components.train.data import describe_problem, to_tensors

    if TRAIN_SPLIT not in transformed.splits:
        raise NotFoundError(
            f"train needs a {TRAIN_SPLIT!r} split, but {transformed.uri} has "
            f"{', '.join(transformed.splits) or 'no splits'}."
        )
    train_table = transformed.read(TRAIN_SPLIT)
    problem = describe_problem(
        fitted, train_table, label=label, task=task, positive_class=positive_class
    )
    evaluation = (
        to_tensors(problem, transformed.read(EVAL_SPLIT), split=EVAL_SPLIT)
        if EVAL_SPLIT in transformed.splits
        else None
    )
    return _Data(problem, to_tensors(problem, train_table, split=TRAIN_SPLIT), evaluation)


def _train_network(
    data: _Data,
    config: LoopConfig,
    parameters: dict[str, Any],
    recorder: EpochRecorder | _RankRecorder,
    *,
    output_dir: Path,
    run_fn_file: Path | None,
    run_fn: str,
    hyperparameters: dict[str, Any],
    workers: int = 1,
) -> _Trained:
    """Train a canned estimator, or the user's `run_fn`; export the network with its head.

    With the `torch.distributed` environment set (torchrun, PyTorchJob, or a rank that
    `launch.run_workers` started), join that group and train under DDP; else, with
    `workers` > 1, start that many ranks (a Ray Train `TorchTrainer` on the Ray engine, else
    processes on this machine) and return rank 0's result.
    """
    from shipyard.components.train import export
    from shipyard.components.train.distributed import current_group, environment_group, joined
    from shipyard.components.train.estimators import Head, build_estimator
    from shipyard.components.train.loop import fit, pick_device, seed_everything
    from shipyard.components.train.network_onnx import check_export, network_to_onnx

    arguments: dict[str, Any] = {
        "data": data,
        "config": config,
        "parameters": parameters,
        "output_dir": output_dir,
        "run_fn_file": run_fn_file,
        "run_fn": run_fn,
        "hyperparameters": hyperparameters,
    }
    if current_group() is None and environment_group() is not None:
        with joined(config.device):
            trained = _train_network(recorder=recorder, **arguments)
        return dataclasses.replace(trained, launcher="environment")
    if current_group() is None and workers > 1 and current_task().engine == "ray":
        from shipyard.components.train.ray_trainer import run_ray_trainer

        trained = run_ray_trainer(
            workers, _train_network, arguments, recorder=recorder, device=config.device
        )
        return dataclasses.replace(trained, launcher="ray_train")
    if current_group() is None and workers > 1:
        from shipyard.components.train.launch import run_workers

        trained = run_workers(workers, _train_network, arguments, recorder=recorder)
        return dataclasses.replace(trained, launcher="processes")
    group = current_group()
    problem = data.problem
    checkpoint_dir = current_task().checkpoint_dir
    seed_everything(config.seed)
    if run_fn_file is None:
        network = build_estimator(
            parameters["estimator"],
            problem.features,
            problem.outputs,
            hidden_units=list(parameters["hidden_units"]),
            activation=parameters["activation"],
            dropout=parameters["dropout"],
            batch_norm=parameters["batch_norm"],
        )
        result = fit(
            network,
            problem,
            data.train,
            data.eval,
            config,
            checkpoint_dir=checkpoint_dir,
            on_epoch=recorder,
        )
    else:
        from shipyard.components.train.custom import run_custom

        network, result = run_custom(
            data.problem,
            data.train,
            data.eval,
            config,
            recorder,
            output_dir=output_dir,
            checkpoint_dir=checkpoint_dir,
            run_fn_file=run_fn_file,
            run_fn=run_fn,
            hyperparameters=hyperparameters,
            device=group.device if group is not None else pick_device(config.device),
        )
    head = Head(
        network,
        classification=problem.task != "regression",
        mean=problem.label_mean,
        std=problem.label_std,
    )
    graph = network_to_onnx(head, problem) or export.export_network(head, problem)
    rows = data.eval if data.eval is not None and data.eval.rows else data.train
    check_export(graph, head, rows.features)
    return _Trained(
        graph,
        export.weights_bytes(network),
        result,
        workers=group.world_size if group is not None else 1,
    )


def _train_trees(
    data: _Data, parameters: dict[str, Any], recorder: EpochRecorder | _RankRecorder
) -> _Trained:
    """Grow the trees; in a group (torchrun, or `workers` > 1 launched here) with LightGBM's
    data-parallel learner, each rank on its share of the rows, rank 0's model exported."""
    from shipyard.components.train.boosted_trees import (
        TreesConfig,
        export_trees,
        fit_trees,
        trees_weights,
    )
    from shipyard.components.train.distributed import current_group, environment_group, joined

    arguments: dict[str, Any] = {"data": data, "parameters": parameters}
    if current_group() is None and environment_group() is not None:
        with joined("cpu"):  # the group's gloo backend carries the metrics of each round
            return _train_trees(recorder=recorder, **arguments)
    if current_group() is None and parameters["workers"] > 1:
        from shipyard.components.train.launch import run_workers

        return run_workers(parameters["workers"], _train_trees, arguments, recorder=recorder)
    group = current_group()

    config = TreesConfig(
        num_trees=parameters["num_trees"],
        learning_rate=parameters["learning_rate"],
        num_leaves=parameters["num_leaves"],
        max_depth=parameters["max_depth"],
        min_data_in_leaf=parameters["min_data_in_leaf"],
        early_stopping_patience=parameters["early_stopping_patience"]
        if data.eval is not None
        else None,
        seed=parameters["seed"],
    )
    trees, result = fit_trees(data.problem, data.train, data.eval, config, on_epoch=recorder)
    return _Trained(
        export_trees(trees, data.problem),
        trees_weights(trees),
        result,
        workers=group.world_size if group is not None else 1,
    )


def _serving_schema(schema: Schema | None) -> str | None:
    if schema is None:
        return None
    data = schema.load()
    serving = {n: f for n, f in data.features.items() if SERVING not in f.not_in}
    return dataclasses.replace(data, features=serving).to_yaml()
