"""The training loop: mini-batches, early stopping on the eval loss, reproducible by seed."""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from shipyard.components.train.budget import steps_per_epoch
from shipyard.components.train.distributed import (
    Group,
    agreed_stop,
    current_group,
    shard_rows,
    share,
    smallest_share,
    sum_over_ranks,
    wrap,
)
from shipyard.components.train.optimizer import Rule, StepOptimizer
from shipyard.components.train.progress import (
    StoppedMidEpoch,
    TrainingProgress,
    interrupted,
    resume_progress,
    save_progress,
)
from shipyard.components.train.schedules import Schedule, lr_factor
from shipyard.components.train.threads import cpu_threads, threads_for
from shipyard.dsl.context import current_task
from shipyard.errors import DataError

if TYPE_CHECKING:
    from pathlib import Path

    import torch
    from torch import nn

    from shipyard.components.train.data import Problem, Split

logger = logging.getLogger("shipyard.components.train")

Optimizer = Rule

CHECKPOINT_INTERVAL_S = 1.0  # seconds of training between checkpoints: what a kill loses


@dataclass(frozen=True)
class LoopConfig:
    """How to train: optimizer, schedule, batches, epochs, early stopping, seed, device."""

    optimizer: Optimizer = "adam"
    learning_rate: float = 1e-3
    lr_schedule: Schedule = "constant"
    warmup_steps: int = 0
    batch_size: int = 256
    epochs: int = 10
    max_steps: int | None = None
    early_stopping_patience: int | None = 3
    seed: int = 0
    device: str = "auto"
    mixed_precision: bool = False
    threads: int | None = None
    checkpoint_interval_s: float = CHECKPOINT_INTERVAL_S


@dataclass
class TrainingResult:
    """What training produced besides the weights: per-epoch history and final metrics."""

    history: list[dict[str, float]] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    steps: int = 0
    best_epoch: int = 0
    stopped_early: bool = False
    device: str = "cpu"
    resumed_from_epoch: int = 0


EpochCallback = Callable[[dict[str, float], TrainingResult], None]
"""Called after each epoch with its history row (`epoch`, `train_loss`, `eval_loss`, ...)."""


def pick_device(device: str) -> str:
    """Return `device`, or for `auto` CUDA when available, else CPU."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def seed_everything(seed: int) -> None:
    """Seed torch (CPU and CUDA) so the same data and seed give the same weights."""
    import torch

    torch.manual_seed(seed)


def total_steps(rows: int, config: LoopConfig) -> int:
    """The optimizer steps training takes without early stopping."""
    steps = config.epochs * steps_per_epoch(rows, config.batch_size)
    return min(steps, config.max_steps) if config.max_steps is not None else steps


def fit(
    network: nn.Module,
    problem: Problem,
    train: Split,
    evaluation: Split | None,
    config: LoopConfig,
    *,
    checkpoint_dir: Path | None = None,
    on_epoch: EpochCallback | None = None,
) -> TrainingResult:
    """Train `network` in place; keep the weights of the best eval loss when stopping early.

    With `checkpoint_dir`, the whole training state is saved after the first and the last
    epoch, and in between after the first epoch to end `config.checkpoint_interval_s`
    seconds after the last save (0: every epoch); a checkpoint left there by an interrupted
    call with the same configuration is resumed: the result equals that of an
    uninterrupted call on the same machine.

    When the run is asked to stop (Ctrl-C: `TaskContext.interrupted`), the loop stops before
    its next step, saves the state in the middle of the epoch and raises: the resumed call
    continues from that step and still equals an uninterrupted one.

    Inside a training group (`distributed.current_group()`: `train(workers=N)`, torchrun),
    the same loop trains under DDP on this rank's share of each batch; see `distributed`.

    Raises:
        DataError: The loss became NaN or infinite (training diverged).
        ExecutionInterrupted: The run was asked to stop (the checkpoint is saved first).
    """
    group = current_group()
    device = group.device if group is not None else pick_device(config.device)
    threads = threads_for(network, config.batch_size) if config.threads is None else config.threads
    with cpu_threads(threads if device == "cpu" else None):
        return _fit(
            network,
            problem,
            train,
            evaluation,
            config,
            device=device,
            checkpoint_dir=checkpoint_dir,
            on_epoch=on_epoch,
            group=group,
        )


def _fit(
    network: nn.Module,
    problem: Problem,
    train: Split,
    evaluation: Split | None,
    config: LoopConfig,
    *,
    device: str,
    checkpoint_dir: Path | None,
    on_epoch: EpochCallback | None,
    group: Group | None = None,
) -> TrainingResult:
    import torch

    network.to(device)
    generator = torch.Generator().manual_seed(config.seed)
    optimizer = _optimizer(network, config)
    schedule = _schedule(train.rows, config)
    features = tuple(t.to(device) for t in train.features)
    target = training_target(problem, train.label).to(device)
    result = TrainingResult(device=device)
    progress = TrainingProgress(patience_left=config.early_stopping_patience)
    fingerprint = _fingerprint(network, config, train.rows)
    if checkpoint_dir is not None:
        progress = (
            resume_progress(
                checkpoint_dir,
                fingerprint,
                network=network,
                optimizer=optimizer,
                generator=generator,
                result=result,
            )
            or progress
        )
    # After the resume: DDP broadcasts rank 0's weights. Every rank stops at rank 0's word.
    forward, stop = wrap(network, group), agreed_stop(current_task().stop_requested, group)
    save = functools.partial(
        save_progress,
        checkpoint_dir if group is None or group.writes else None,  # rank 0 writes
        fingerprint,
        network=network,
        optimizer=optimizer,
        generator=generator,
        progress=progress,
        result=result,
    )

    saved_at: float | None = None
    for epoch in range(progress.next_epoch, config.epochs + 1):
        if progress.finished:
            break
        network.train()
        shuffle_state = generator.get_state()  # saved mid-epoch, to draw the same order again
        order = torch.randperm(train.rows, generator=generator).to(device)
        try:
            train_loss = _train_epoch(
                forward,
                optimizer,
                schedule=schedule,
                problem=problem,
                features=features,
                target=target,
                order=order,
                epoch=epoch,
                config=config,
                result=result,
                resume=progress,
                stop_requested=stop,
                group=group,
            )
        except StoppedMidEpoch as stopped:
            progress.next_epoch, progress.epoch_step, progress.epoch_loss = (
                epoch,
                stopped.steps,
                stopped.loss,
            )
            generator.set_state(shuffle_state)  # the resume draws this epoch's order again
            save()
            raise interrupted(epoch, stopped.steps, checkpoint_dir) from None
        progress.epoch_step, progress.epoch_loss = 0, (0.0, 0)
        row = _epoch_row(
            network,
            problem,
            evaluation,
            optimizer,
            epoch=epoch,
            train_loss=train_loss,
            config=config,
            device=device,
            group=group,
        )
        result.history.append(row)
        _early_stopping(progress, row, network=network, epoch=epoch, config=config, result=result)
        if config.max_steps is not None and result.steps >= config.max_steps:
            progress.finished = True
        progress.next_epoch = epoch + 1
        now = time.monotonic()
        last = progress.finished or epoch == config.epochs
        due = last or saved_at is None or now - saved_at >= config.checkpoint_interval_s
        if checkpoint_dir is not None and due:
            saved_at = now
            save()
        if on_epoch is not None:
            on_epoch(row, result)
    if progress.best_state is not None and config.early_stopping_patience is not None:
        network.load_state_dict(progress.best_state)
    network.to("cpu").eval()
    kept_best = result.best_epoch and config.early_stopping_patience is not None
    final = result.history[result.best_epoch - 1] if kept_best else result.history[-1]
    result.metrics = {k: v for k, v in final.items() if k not in ("epoch", "learning_rate")}
    result.metrics["epochs"] = len(result.history)
    result.metrics["steps"] = result.steps
    return result


def _epoch_row(
    network: nn.Module,
    problem: Problem,
    evaluation: Split | None,
    optimizer: StepOptimizer,
    *,
    epoch: int,
    train_loss: float,
    config: LoopConfig,
    device: str,
    group: Group | None,
) -> dict[str, float]:
    """The history row of an epoch: its losses and metrics, logged.

    Raises:
        DataError: The eval loss is NaN or infinite (training diverged).
    """
    row: dict[str, float] = {"epoch": epoch, "train_loss": train_loss}
    if evaluation is not None and evaluation.rows:
        row.update(evaluate(network, problem, evaluation, device=device, group=group))
        if not math.isfinite(row["eval_loss"]):
            raise DataError(
                f"training diverged at epoch {epoch}: the eval loss is {row['eval_loss']}; "
                f"lower the learning rate (now {config.learning_rate})."
            )
    row["learning_rate"] = float(optimizer.param_groups[0]["lr"])
    logger.info(
        "epoch %d/%d: %s",
        epoch,
        config.epochs,
        ", ".join(f"{k} {v:.4g}" for k, v in row.items() if k != "epoch"),
    )
    return row


def _early_stopping(
    progress: TrainingProgress,
    row: dict[str, float],
    *,
    network: nn.Module,
    epoch: int,
    config: LoopConfig,
    result: TrainingResult,
) -> None:
    """Track the best epoch; mark training finished when patience runs out."""
    monitored = row.get("eval_loss", row["train_loss"])
    if monitored < progress.best_loss - 1e-7:
        progress.best_loss, result.best_epoch = monitored, epoch
        progress.best_state = copy.deepcopy(network.state_dict())
        progress.patience_left = config.early_stopping_patience
    elif progress.patience_left is not None:
        progress.patience_left -= 1
        if progress.patience_left <= 0:
            result.stopped_early = progress.finished = True
            logger.info("early stopping at epoch %d (best epoch %d)", epoch, result.best_epoch)


def _fingerprint(network: nn.Module, config: LoopConfig, rows: int) -> str:
    """What a checkpoint must match to be resumed: the configuration and the shapes."""
    shapes = {name: list(t.shape) for name, t in network.state_dict().items()}
    settings = dataclasses.asdict(config)
    del settings["checkpoint_interval_s"]  # how often to save does not change the result
    return json.dumps({"config": settings, "shapes": shapes, "rows": rows}, sort_keys=True)


def _train_epoch(
    network: nn.Module,
    optimizer: StepOptimizer,
    *,
    schedule: Callable[[int], float] | None,
    problem: Problem,
    features: tuple[torch.Tensor, ...],
    target: torch.Tensor,
    order: torch.Tensor,
    epoch: int,
    config: LoopConfig,
    result: TrainingResult,
    resume: TrainingProgress,
    stop_requested: Callable[[], bool] | None,
    group: Group | None,
) -> float:
    """Run one pass over the shuffled rows; return the mean train loss.

    Steps a mid-epoch checkpoint had done (`resume.epoch_step`) are skipped. In a group,
    `network` is the DDP module and each rank trains on its share of every batch.

    Raises:
        StoppedMidEpoch: The run was asked to stop; raised before a step, never inside one.
    """
    import torch

    skip = resume.epoch_step if resume.next_epoch == epoch else 0
    total, seen = resume.epoch_loss if skip else (0.0, 0)
    batch_norm = _has_batch_norm(network)
    device_type = order.device.type
    precision = torch.bfloat16 if device_type == "cpu" else torch.float16
    scaler = torch.amp.GradScaler(
        device_type, enabled=config.mixed_precision and device_type == "cuda"
    )
    for step, start in enumerate(range(0, int(order.numel()), config.batch_size), start=1):
        if step <= skip:
            continue
        if stop_requested is not None and stop_requested():
            raise StoppedMidEpoch(step - 1, (total, seen))
        index = order[start : start + config.batch_size]
        if smallest_share(int(index.numel()), group) < 2 and batch_norm:
            continue
        part, weight = share(int(index.numel()), group)
        index = index[part]
        if schedule is not None:
            rate = config.learning_rate * schedule(result.steps)
            for entry in optimizer.param_groups:
                entry["lr"] = rate
        optimizer.zero_grad()
        with torch.autocast(device_type, dtype=precision, enabled=config.mixed_precision):
            scores = network(*(f[index] for f in features))
        mean = compute_loss(problem, scores.float(), target[index])
        loss = mean * weight if group is not None else mean
        if not torch.isfinite(loss):
            raise DataError(
                f"training diverged at epoch {epoch} step {step}: loss is "
                f"{float(loss.item())}; lower the learning rate (now "
                f"{config.learning_rate}), or check the features for extreme values."
            )
        if scaler.is_enabled():
            scaler.scale(loss).backward()  # type: ignore[no-untyped-call]
            scaler.step(optimizer)  # type: ignore[arg-type]  # it reads param_groups, step()
            scaler.update()
        else:
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
        total += float(mean.item()) * int(index.numel())
        seen += int(index.numel())
        result.steps += 1
        if config.max_steps is not None and result.steps >= config.max_steps:
            break
    total, rows = sum_over_ranks([total, seen], group)
    return total / max(rows, 1)


def evaluate(
    network: nn.Module,
    problem: Problem,
    split: Split,
    *,
    device: str = "cpu",
    group: Group | None = None,
) -> dict[str, float]:
    """Return the eval loss and accuracy (classification) or RMSE (regression, label scale).

    In a group each rank evaluates its share of the rows and the sums are all-reduced.
    """
    import torch

    rows = shard_rows(split.rows, group)
    network.eval()
    with torch.no_grad():
        scores = network(*(f[rows].to(device) for f in split.features))
        target = training_target(problem, split.label[rows]).to(device)
        loss = compute_loss(problem, scores, target)
        if problem.task == "regression":
            error = (scores[:, 0] - target) * problem.label_std
            name, value = "eval_rmse", torch.mean(error**2)
        else:
            name, value = "eval_accuracy", (torch.argmax(scores, dim=1) == target).float().mean()
    network.train()
    if group is not None:
        count = int(target.numel())
        loss_sum, value_sum, total = sum_over_ranks(
            [float(loss.item()) * count, float(value.item()) * count, count], group
        )
        loss, value = torch.tensor(loss_sum / total), torch.tensor(value_sum / total)
    metric = float(torch.sqrt(value).item()) if name == "eval_rmse" else float(value.item())
    return {"eval_loss": float(loss.item()), name: metric}


def training_target(problem: Problem, label: torch.Tensor) -> torch.Tensor:
    """Class ids, or the regression label standardized with the train mean and deviation."""
    if problem.task == "regression":
        return (label.float() - problem.label_mean) / problem.label_std
    return label.long()


def compute_loss(problem: Problem, scores: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error on the standardized label, or cross-entropy over the classes."""
    from torch.nn import functional

    if problem.task == "regression":
        return functional.mse_loss(scores[:, 0], target)
    return functional.cross_entropy(scores, target)


def _optimizer(network: nn.Module, config: LoopConfig) -> StepOptimizer:
    """The configured rule; `StepOptimizer` rather than `torch.optim` (see its module)."""
    return StepOptimizer(network.parameters(), rule=config.optimizer, lr=config.learning_rate)


def _schedule(rows: int, config: LoopConfig) -> Callable[[int], float] | None:
    """The learning rate's factor by step, or None for a constant rate."""
    if config.lr_schedule == "constant" and config.warmup_steps == 0:
        return None
    return lr_factor(
        config.lr_schedule, total_steps=total_steps(rows, config), warmup_steps=config.warmup_steps
    )


def _has_batch_norm(network: nn.Module) -> bool:
    from torch import nn

    return any(isinstance(m, nn.BatchNorm1d) for m in network.modules())
