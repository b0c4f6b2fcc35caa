"""Custom training (TFX's `run_fn`): the user's function builds and trains any PyTorch module.

The user writes, in a Python file named by `train(run_fn_file=...)`::

    def run_fn(context: TrainContext) -> torch.nn.Module:
        network = MyNetwork(context.problem.features, context.problem.outputs)
        context.fit(network, epochs=20)        # our loop, or any loop of their own
        return network

The module takes one `[N, 1]` tensor per feature, in `context.problem.features` order (float
for numbers, int64 ids for categorical features), and returns `[N, outputs]` scores: logits
for classification, or the standardized label (`context.target(...)`) for regression. The
exported model adds the softmax, the class labels or the label's scale itself.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shipyard.components.train.loop import (
    EpochCallback,
    LoopConfig,
    TrainingResult,
    evaluate,
    fit,
)
from shipyard.errors import DefinitionError

if TYPE_CHECKING:
    from pathlib import Path

    import torch
    from torch import nn

    from shipyard.components.train.data import Problem, Split
    from shipyard.components.train.launch import Relay
    from shipyard.components.train.recorder import EpochRecorder


@dataclass
class TrainContext:
    """What a `run_fn` receives.

    Attributes:
        problem: The features (name, kind, cardinality), the label, the task and classes.
        train: The train split as tensors.
        eval: The eval split as tensors, or None.
        hyperparameters: The `hyperparameters` parameter of `train`, as given.
        config: The loop configuration from `train`'s parameters; `fit` starts from it.
        output_dir: A directory for the function's own files (kept in the ModelRun artifact).
        tensorboard_dir: Where TensorBoard event files go (`log` writes there).
        checkpoint_dir: Survives an interrupted execution; `fit` resumes from it.
        logger: A logger whose records show in the run's output.
        device: The device training should use (`cuda` when present, unless told).
    """

    problem: Problem
    train: Split
    eval: Split | None
    hyperparameters: dict[str, Any]
    config: LoopConfig
    output_dir: Path
    tensorboard_dir: Path
    checkpoint_dir: Path | None
    logger: logging.Logger
    device: str
    on_epoch: EpochCallback | None = None
    results: list[TrainingResult] = field(default_factory=list)

    def fit(self, network: nn.Module, **overrides: Any) -> TrainingResult:
        """Train `network` with Shipyard's loop (early stopping, checkpoints, logging).

        Args:
            network: The module to train in place.
            **overrides: `LoopConfig` fields to change: `epochs`, `learning_rate`, ...
        """
        config = dataclasses.replace(self.config, **overrides)
        result = fit(
            network,
            self.problem,
            self.train,
            self.eval,
            config,
            checkpoint_dir=self.checkpoint_dir,
            on_epoch=self.on_epoch,
        )
        self.results.append(result)
        return result

    def target(self, split: Split) -> torch.Tensor:
        """The training target of a split: class ids, or the standardized regression label."""
        from shipyard.components.train.loop import training_target

        return training_target(self.problem, split.label)

    def log(self, step: int, **scalars: float) -> None:
        """Record scalars for a step (epoch): history, TensorBoard and the live display."""
        row = {"epoch": float(step), **{k: float(v) for k, v in scalars.items()}}
        if self.on_epoch is not None:
            self.on_epoch(row, TrainingResult(history=[row]))


def run_custom(
    problem: Problem,
    train: Split,
    evaluation: Split | None,
    config: LoopConfig,
    recorder: EpochRecorder | Relay,
    *,
    output_dir: Path,
    checkpoint_dir: Path | None,
    run_fn_file: Path,
    run_fn: str,
    hyperparameters: dict[str, Any],
    device: str,
) -> tuple[nn.Module, TrainingResult]:
    """Call the user's `run_fn`; check that it returned a module that fits the problem.

    Raises:
        DefinitionError: The function did not return a module mapping the features to
            `[N, outputs]` scores.
    """
    import torch

    from shipyard.dsl.loading import load_function

    function = load_function(
        run_fn_file, run_fn, file_parameter="run_fn_file", function_parameter="run_fn"
    )
    output_dir.mkdir(parents=True, exist_ok=True)
    context = TrainContext(
        problem=problem,
        train=train,
        eval=evaluation,
        hyperparameters=hyperparameters,
        config=config,
        output_dir=output_dir,
        tensorboard_dir=recorder.tensorboard_dir,
        checkpoint_dir=checkpoint_dir,
        logger=logging.getLogger(f"shipyard.user.{run_fn}"),
        device=device,
        on_epoch=recorder,
    )
    network = function(context)
    if not isinstance(network, torch.nn.Module):
        raise DefinitionError(
            f"{run_fn_file}: {run_fn}(context) must return the trained torch.nn.Module; "
            f"it returned {type(network).__name__}."
        )
    network.to("cpu").eval()
    probe = tuple(t[:2] for t in train.features)
    expected = problem.outputs
    contract = (
        f"{run_fn_file}: the module {run_fn} returned must map the {len(probe)} feature "
        f"tensors to scores of shape [N, {expected}]"
    )
    try:
        with torch.no_grad():
            scores = network(*probe)
    except Exception as exc:
        raise DefinitionError(f"{contract}; called with 2 rows it raised {exc!r}.") from exc
    if not isinstance(scores, torch.Tensor) or tuple(scores.shape) != (len(probe[0]), expected):
        got = tuple(scores.shape) if isinstance(scores, torch.Tensor) else type(scores).__name__
        raise DefinitionError(f"{contract}; for 2 rows it returned {got}.")
    result = context.results[-1] if context.results else TrainingResult(history=recorder.history)
    if evaluation is not None and evaluation.rows:
        result.metrics = {**result.metrics, **evaluate(network, problem, evaluation)}
    return network, result
