"""The `boosted_trees` estimator: LightGBM gradient boosting, exported by our own converter.

Trees read the transformed features as one float32 matrix, ids as categorical features whose
every split isolates a single category. Training records one history row per boosting round
with the keys `loop.fit` uses, stops early on the eval loss and keeps the best round. The
export (`tree_onnx`) has the inputs and outputs of `export.export_network`, so
`export.compose` merges it with the transform graph the same way.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shipyard.components.train.loop import EpochCallback, TrainingResult
from shipyard.dsl.context import current_task
from shipyard.errors import DataError, InvalidParameterError

if TYPE_CHECKING:
    import numpy as np
    import onnx

    from shipyard.components.labels import Task
    from shipyard.components.train.data import Problem, Split
    from shipyard.components.train.distributed_trees import TreesNetwork

logger = logging.getLogger("shipyard.components.train")

_INT32_MAX = 2**31 - 1
_METRICS = {
    "binary": ("binary_logloss", "binary_error"),
    "multiclass": ("multi_logloss", "multi_error"),
    "regression": ("l2", "l2"),
}


@dataclass(frozen=True)
class TreesConfig:
    """How to grow the trees.

    Attributes:
        num_trees: Boosting rounds at most (one tree per class and round for multiclass).
        learning_rate: The shrinkage of each tree.
        num_leaves: Leaves per tree at most.
        max_depth: Depth per tree at most; -1 for no limit.
        min_data_in_leaf: Rows per leaf at least.
        l2_regularization: The L2 penalty on leaf values.
        early_stopping_patience: Stop after this many rounds without a lower eval loss (the
            train loss without an eval split) and keep the best round; None: keep every round.
        seed: LightGBM's seed; the same data, seed and `threads` give the same model.
        threads: LightGBM's threads (None: OpenMP's default).

    Raises:
        InvalidParameterError: A value is out of range.
    """

    num_trees: int = 100
    learning_rate: float = 0.1
    num_leaves: int = 31
    max_depth: int = -1
    min_data_in_leaf: int = 20
    l2_regularization: float = 0.0
    early_stopping_patience: int | None = 10
    seed: int = 0
    threads: int | None = None

    def __post_init__(self) -> None:
        patience, threads = self.early_stopping_patience, self.threads
        checks = [
            ("num_trees", "an int >= 1", self.num_trees, self.num_trees >= 1),
            (
                "learning_rate",
                "a finite number > 0",
                self.learning_rate,
                math.isfinite(self.learning_rate) and self.learning_rate > 0,
            ),
            (
                "num_leaves",
                "an int in [2, 131072]",
                self.num_leaves,
                2 <= self.num_leaves <= 131_072,
            ),
            (
                "max_depth",
                "-1 (no limit) or an int >= 1",
                self.max_depth,
                self.max_depth == -1 or self.max_depth >= 1,
            ),
            ("min_data_in_leaf", "an int >= 1", self.min_data_in_leaf, self.min_data_in_leaf >= 1),
            (
                "l2_regularization",
                "a finite number >= 0",
                self.l2_regularization,
                math.isfinite(self.l2_regularization) and self.l2_regularization >= 0,
            ),
            (
                "early_stopping_patience",
                "None or an int >= 1",
                patience,
                patience is None or patience >= 1,
            ),
            ("seed", f"an int in [0, {_INT32_MAX}]", self.seed, 0 <= self.seed <= _INT32_MAX),
            ("threads", "None or an int >= 1", threads, threads is None or threads >= 1),
        ]
        for name, expected, got, ok in checks:
            if not ok:
                raise InvalidParameterError(
                    f"The {name!r} parameter of train must be {expected}. Got {got!r} instead."
                )


@dataclass(frozen=True)
class TrainedTrees:
    """A trained ensemble: LightGBM's dump and model text, cut at the kept round.

    Attributes:
        model: `Booster.dump_model()` of the kept rounds: what the converter reads.
        text: `Booster.model_to_string()` of the kept rounds: LightGBM's own format.
        task: `binary`, `multiclass` or `regression`.
        rounds: The boosting rounds kept.
    """

    model: dict[str, Any]
    text: str
    task: Task
    rounds: int

    def predict(self, split: Split) -> np.ndarray:
        """Predict with LightGBM: probabilities `[N, C]` or predictions `[N]` (float64)."""
        import lightgbm
        import numpy as np

        booster = lightgbm.Booster(model_str=self.text)
        scores = np.asarray(booster.predict(features_matrix(split)), dtype=np.float64)
        if self.task == "binary":
            return np.stack([1.0 - scores, scores], axis=1)
        return scores


def features_matrix(split: Split) -> np.ndarray:
    """Return the features as one float32 matrix `[N, F]`, ids cast to float as in ONNX."""
    import numpy as np

    if not split.features:
        return np.zeros((split.rows, 0), dtype=np.float32)
    return np.concatenate(
        [f.numpy().astype(np.float32).reshape(-1, 1) for f in split.features], axis=1
    )


def fit_trees(
    problem: Problem,
    train: Split,
    evaluation: Split | None,
    config: TreesConfig,
    *,
    on_epoch: EpochCallback | None = None,
) -> tuple[TrainedTrees, TrainingResult]:
    """Train a LightGBM ensemble; keep the round of the best eval loss when stopping early.

    The loss is LightGBM's log loss (classification) or the mean squared error on the
    standardized label (regression), on the same scale as `loop.evaluate`'s.

    Args:
        problem: The features, label and task.
        train: The rows to fit.
        evaluation: The rows to monitor and stop early on (None: monitor the train loss).
        config: The trees' parameters.
        on_epoch: Called after each round with its history row and the result so far, as
            `loop.fit` calls it after each epoch.

    Returns:
        The kept ensemble, and the history (one row per round) and metrics of the kept round.

    Raises:
        DataError: The train split has no rows, or training diverged.

    Example:
        >>> trees, result = fit_trees(problem, train_split, eval_split, TreesConfig())
        >>> result.metrics["eval_accuracy"]
    """
    import lightgbm
    import numpy as np

    from shipyard.components.train.distributed import current_group

    if train.rows == 0:
        raise DataError("the train split has no rows to grow trees on.")
    evaluated = evaluation is not None and evaluation.rows > 0
    network: TreesNetwork | None = None
    quiet: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
    group = current_group()
    if group is not None:  # LightGBM's data-parallel training (distributed_trees)
        from shipyard.components.train.distributed_trees import join_network, stdout_to_stderr

        quiet = stdout_to_stderr()
        network, train, evaluation = join_network(group, train, evaluation, threads=config.threads)
    categorical = [i for i, f in enumerate(problem.features) if f.kind != "float"]
    train_set = lightgbm.Dataset(
        features_matrix(train),
        train.label.numpy().astype(np.float64),
        categorical_feature=categorical,
        free_raw_data=True,
    )
    sets, names = [train_set], ["train"]
    if evaluation is not None and evaluation.rows:
        sets.append(
            lightgbm.Dataset(
                features_matrix(evaluation),
                evaluation.label.numpy().astype(np.float64),
                categorical_feature=categorical,
                reference=train_set,
            )
        )
        names.append("eval")
    params = {**_params(problem, config), **(network.params if network is not None else {})}
    monitor = _Monitor(problem, config, evaluated=evaluated, on_epoch=on_epoch, network=network)
    with quiet:
        booster = lightgbm.train(
            params,
            train_set,
            num_boost_round=config.num_trees,
            valid_sets=sets,
            valid_names=names,
            callbacks=[monitor],
        )
        if network is not None:
            booster.free_network()
    # LightGBM calls back after rounds that found no split, without adding trees
    result = monitor.finish(booster.current_iteration())
    kept = int(result.metrics["epochs"])
    trees = TrainedTrees(
        model=booster.dump_model(num_iteration=kept),
        text=booster.model_to_string(num_iteration=kept),
        task=problem.task,
        rounds=kept,
    )
    return trees, result


def _params(problem: Problem, config: TreesConfig) -> dict[str, Any]:
    loss, error = _METRICS[problem.task]
    params: dict[str, Any] = {
        "objective": problem.task,
        "metric": [loss] if loss == error else [loss, error],
        "learning_rate": config.learning_rate,
        "num_leaves": config.num_leaves,
        "max_depth": config.max_depth,
        "min_data_in_leaf": config.min_data_in_leaf,
        "lambda_l2": config.l2_regularization,
        # every categorical split tests one category: the ONNX graph stays small
        "max_cat_to_onehot": _INT32_MAX,
        "seed": config.seed,
        "deterministic": True,
        "force_col_wise": True,
        "num_threads": config.threads or 0,
        "verbosity": -1,
    }
    if problem.task == "multiclass":
        params["num_class"] = len(problem.classes)
    return params


class _Monitor:
    """A LightGBM callback: records each round's metrics and stops early like `loop.fit`."""

    def __init__(
        self,
        problem: Problem,
        config: TreesConfig,
        *,
        evaluated: bool,
        on_epoch: EpochCallback | None,
        network: TreesNetwork | None = None,
    ) -> None:
        self.problem = problem
        self.network = network
        self.config = config
        self.evaluated = evaluated
        self.on_epoch = on_epoch
        self.result = TrainingResult(device="cpu")
        self.best_loss = math.inf
        self.best_scores: list[Any] = []
        self.patience_left = config.early_stopping_patience

    def __call__(self, env: Any) -> None:
        import lightgbm

        evaluations = list(env.evaluation_result_list or [])
        if self.network is None:
            current_task().check_interrupted()  # Ctrl-C: stop after this round (no checkpoint)
        else:
            evaluations = self._agree(self.network, evaluations)
        epoch = int(env.iteration) + 1
        row = self._row(epoch, evaluations)
        result = self.result
        result.history.append(row)
        result.steps = epoch
        if epoch % max(1, self.config.num_trees // 10) == 0 or epoch == self.config.num_trees:
            logger.info(
                "round %d/%d: %s",
                epoch,
                self.config.num_trees,
                ", ".join(f"{k} {v:.4g}" for k, v in row.items() if k != "epoch"),
            )
        stop = self._early_stopping(row, evaluations)
        if self.on_epoch is not None:
            self.on_epoch(row, result)
        if stop:
            logger.info("early stopping at round %d (best round %d)", epoch, result.best_epoch)
            raise lightgbm.EarlyStopException(result.best_epoch - 1, self.best_scores)

    def _agree(self, network: TreesNetwork, evaluations: list[Any]) -> list[Any]:
        """In a group: the metrics of all ranks' rows; every rank stops on rank 0's Ctrl-C."""
        from shipyard.components.train.distributed_trees import agree

        task = current_task()
        metrics = list(dict.fromkeys(_METRICS[self.problem.task]))
        combined, stop = agree(network, evaluations, metrics, stop=task.interrupted)
        if stop:  # the same error on every rank, wherever the request was seen
            dataclasses.replace(task, stop_requested=lambda: True).check_interrupted()
        return combined

    def _row(self, epoch: int, evaluations: list[Any]) -> dict[str, float]:
        scores = {(str(e[0]), str(e[1])): float(e[2]) for e in evaluations}
        loss, error = _METRICS[self.problem.task]
        regression = self.problem.task == "regression"
        scale = self.problem.label_std**2 if regression else 1.0
        row: dict[str, float] = {"epoch": epoch, "train_loss": scores[("train", loss)] / scale}
        if self.evaluated:
            row["eval_loss"] = scores[("eval", loss)] / scale
            if regression:
                row["eval_rmse"] = math.sqrt(scores[("eval", loss)])
            else:
                row["eval_accuracy"] = 1.0 - scores[("eval", error)]
        monitored = row.get("eval_loss", row["train_loss"])
        if not math.isfinite(monitored):
            raise DataError(
                f"training diverged at round {epoch}: the loss is {monitored}; lower the "
                f"learning rate (now {self.config.learning_rate})."
            )
        row["learning_rate"] = self.config.learning_rate
        return row

    def _early_stopping(self, row: dict[str, float], scores: list[Any]) -> bool:
        """Track the best round; return whether patience ran out."""
        monitored = row["eval_loss"] if self.evaluated else row["train_loss"]
        if monitored < self.best_loss - 1e-7:
            self.best_loss, self.result.best_epoch = monitored, int(row["epoch"])
            self.best_scores = scores
            self.patience_left = self.config.early_stopping_patience
        elif self.patience_left is not None:
            self.patience_left -= 1
            if self.patience_left <= 0:
                self.result.stopped_early = True
        return self.result.stopped_early

    def finish(self, rounds: int) -> TrainingResult:
        """Set the metrics of the kept round (the best, or the last) among `rounds` built."""
        result = self.result
        kept = len(result.history)
        if self.config.early_stopping_patience is not None and result.best_epoch:
            kept = result.best_epoch
        kept = min(kept, rounds)
        result.metrics = {
            k: v for k, v in result.history[kept - 1].items() if k not in ("epoch", "learning_rate")
        }
        result.metrics["epochs"] = kept
        result.metrics["steps"] = result.steps
        return result


def export_trees(trees: TrainedTrees, problem: Problem) -> onnx.ModelProto:
    """Export the ensemble to ONNX with the inputs and outputs of `export.export_network`.

    Raises:
        DataError: The model holds a split ONNX cannot express.
    """
    from shipyard.components.train.tree_onnx import ensemble_to_onnx

    return ensemble_to_onnx(trees.model, problem)


def trees_weights(trees: TrainedTrees) -> bytes:
    """Serialize the ensemble's node and leaf arrays as safetensors (no pickle)."""
    from safetensors.numpy import save

    from shipyard.components.train.tree_onnx import MODES, flatten

    arrays = flatten(trees.model)
    tensors = {
        field.name: getattr(arrays, field.name)
        for field in dataclasses.fields(arrays)
        if field.name != "n_targets"
    }
    # one metadata key: safetensors writes several keys in no fixed order
    about = {
        "modes": list(MODES),
        "n_targets": arrays.n_targets,
        "objective": str(trees.model.get("objective", "")),
        "rounds": trees.rounds,
    }
    metadata = {"shipyard.boosted_trees": json.dumps(about, sort_keys=True)}
    return save(tensors, metadata=metadata)
