"""The training loop: mini-batches, early stopping on the eval loss, reproducible by seed."""

from __future__ import annotations

import copy
import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from shipyard.errors import DataError

if TYPE_CHECKING:
    import torch
    from torch import nn

    from shipyard.components.train.data import Problem, Split

logger = logging.getLogger("shipyard.components.train")

Optimizer = Literal["adam", "sgd", "adamw"]


@dataclass(frozen=True)
class LoopConfig:
    """How to train: the optimizer, batches, epochs, early stopping, seed and device."""

    optimizer: Optimizer = "adam"
    learning_rate: float = 1e-3
    batch_size: int = 256
    epochs: int = 10
    max_steps: int | None = None
    early_stopping_patience: int | None = 3
    seed: int = 0
    device: str = "auto"


@dataclass
class TrainingResult:
    """What training produced besides the weights: per-epoch history and final metrics."""

    history: list[dict[str, float]] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    steps: int = 0
    best_epoch: int = 0
    stopped_early: bool = False
    device: str = "cpu"


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


def fit(
    network: nn.Module,
    problem: Problem,
    train: Split,
    evaluation: Split | None,
    config: LoopConfig,
) -> TrainingResult:
    """Train `network` in place; keep the weights of the best eval loss when stopping early.

    Raises:
        DataError: The loss became NaN or infinite (training diverged).
    """
    import torch

    device = pick_device(config.device)
    network.to(device)
    generator = torch.Generator().manual_seed(config.seed)
    optimizer = _optimizer(network, config)
    features = tuple(t.to(device) for t in train.features)
    target = _target(problem, train.label).to(device)
    result = TrainingResult(device=device)
    best_loss = math.inf
    best_state: dict[str, Any] | None = None
    patience_left = config.early_stopping_patience
    for epoch in range(1, config.epochs + 1):
        network.train()
        order = torch.randperm(train.rows, generator=generator).to(device)
        train_loss = _train_epoch(
            network,
            optimizer,
            problem,
            features,
            target,
            order=order,
            epoch=epoch,
            config=config,
            result=result,
        )
        row: dict[str, float] = {"epoch": epoch, "train_loss": train_loss}
        if evaluation is not None and evaluation.rows:
            row.update(evaluate(network, problem, evaluation, device=device))
            if not math.isfinite(row["eval_loss"]):
                raise DataError(
                    f"training diverged at epoch {epoch}: the eval loss is {row['eval_loss']}; "
                    f"lower the learning rate (now {config.learning_rate})."
                )
        result.history.append(row)
        logger.info(
            "epoch %d/%d: %s",
            epoch,
            config.epochs,
            ", ".join(f"{k} {v:.4g}" for k, v in row.items() if k != "epoch"),
        )
        monitored = row.get("eval_loss", row["train_loss"])
        if monitored < best_loss - 1e-7:
            best_loss, result.best_epoch = monitored, epoch
            best_state = copy.deepcopy(network.state_dict())
            patience_left = config.early_stopping_patience
        elif patience_left is not None:
            patience_left -= 1
            if patience_left <= 0:
                result.stopped_early = True
                logger.info("early stopping at epoch %d (best epoch %d)", epoch, result.best_epoch)
                break
        if config.max_steps is not None and result.steps >= config.max_steps:
            break
    if best_state is not None and config.early_stopping_patience is not None:
        network.load_state_dict(best_state)
    network.to("cpu").eval()
    final = result.history[result.best_epoch - 1] if result.best_epoch else result.history[-1]
    result.metrics = {k: v for k, v in final.items() if k != "epoch"}
    result.metrics["epochs"] = len(result.history)
    result.metrics["steps"] = result.steps
    return result


def _train_epoch(
    network: nn.Module,
    optimizer: torch.optim.Optimizer,
    problem: Problem,
    features: tuple[torch.Tensor, ...],
    target: torch.Tensor,
    *,
    order: torch.Tensor,
    epoch: int,
    config: LoopConfig,
    result: TrainingResult,
) -> float:
    """Run one pass over the shuffled rows; return the mean train loss."""
    import torch

    total, seen = 0.0, 0
    batch_norm = _has_batch_norm(network)
    for step, start in enumerate(range(0, int(order.numel()), config.batch_size), start=1):
        index = order[start : start + config.batch_size]
        if index.numel() < 2 and batch_norm:
            continue
        optimizer.zero_grad()
        loss = compute_loss(problem, network(*(f[index] for f in features)), target[index])
        if not torch.isfinite(loss):
            raise DataError(
                f"training diverged at epoch {epoch} step {step}: loss is "
                f"{float(loss.item())}; lower the learning rate (now "
                f"{config.learning_rate}), or check the features for extreme values."
            )
        loss.backward()  # type: ignore[no-untyped-call]
        optimizer.step()
        total += float(loss.item()) * int(index.numel())
        seen += int(index.numel())
        result.steps += 1
        if config.max_steps is not None and result.steps >= config.max_steps:
            break
    return total / max(seen, 1)


def evaluate(
    network: nn.Module, problem: Problem, split: Split, *, device: str = "cpu"
) -> dict[str, float]:
    """Return the eval loss and accuracy (classification) or RMSE (regression, label scale)."""
    import torch

    network.eval()
    with torch.no_grad():
        scores = network(*(f.to(device) for f in split.features))
        target = _target(problem, split.label).to(device)
        loss = float(compute_loss(problem, scores, target).item())
        if problem.task == "regression":
            error = (scores[:, 0] - target) * problem.label_std
            metric = {"eval_rmse": float(torch.sqrt(torch.mean(error**2)).item())}
        else:
            correct = (torch.argmax(scores, dim=1) == target).float().mean()
            metric = {"eval_accuracy": float(correct.item())}
    network.train()
    return {"eval_loss": loss, **metric}


def _target(problem: Problem, label: torch.Tensor) -> torch.Tensor:
    if problem.task == "regression":
        return (label.float() - problem.label_mean) / problem.label_std
    return label.long()


def compute_loss(problem: Problem, scores: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error on the standardized label, or cross-entropy over the classes."""
    from torch.nn import functional

    if problem.task == "regression":
        return functional.mse_loss(scores[:, 0], target)
    return functional.cross_entropy(scores, target)


def _optimizer(network: nn.Module, config: LoopConfig) -> torch.optim.Optimizer:
    import torch

    parameters = network.parameters()
    if config.optimizer == "sgd":
        return torch.optim.SGD(parameters, lr=config.learning_rate, momentum=0.9)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(parameters, lr=config.learning_rate)
    return torch.optim.Adam(parameters, lr=config.learning_rate)


def _has_batch_norm(network: nn.Module) -> bool:
    from torch import nn

    return any(isinstance(m, nn.BatchNorm1d) for m in network.modules())
