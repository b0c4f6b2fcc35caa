"""`run_fn`s for the custom training tests."""

from __future__ import annotations

import torch
from torch import nn

from shipyard.components.train.custom import TrainContext


class Residual(nn.Module):
    """A small network of its own kind: embeddings, one residual block."""

    def __init__(self, context: TrainContext, width: int) -> None:
        super().__init__()
        features = context.problem.features
        self.kinds = [f.kind for f in features]
        self.embeddings = nn.ModuleList(
            nn.Embedding(f.cardinality, 4) if f.kind != "float" else nn.Identity() for f in features
        )
        size = sum(4 if kind != "float" else 1 for kind in self.kinds)
        self.inp = nn.Linear(size, width)
        self.block = nn.Sequential(nn.ReLU(), nn.Linear(width, width))
        self.out = nn.Linear(width, context.problem.outputs)

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        parts = [
            embed(x[:, 0]) if kind != "float" else x
            for embed, kind, x in zip(self.embeddings, self.kinds, inputs, strict=True)
        ]
        hidden = self.inp(torch.cat(parts, dim=1))
        return self.out(hidden + self.block(hidden))


def run_fn(context: TrainContext) -> nn.Module:
    network = Residual(context, width=int(context.hyperparameters.get("width", 16)))
    context.logger.info("training a residual network")
    (context.output_dir / "notes.txt").write_text("mine", encoding="utf-8")
    context.fit(network)
    return network


def own_loop(context: TrainContext) -> nn.Module:
    """Trains with a loop of its own and logs its own scalars."""
    torch.manual_seed(0)
    network = Residual(context, width=8)
    optimizer = torch.optim.Adam(network.parameters(), lr=0.02)
    target = context.target(context.train)
    for epoch in range(1, 31):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(network(*context.train.features), target)
        loss.backward()
        optimizer.step()
        context.log(epoch, train_loss=loss.item())
    return network


def returns_nothing(context: TrainContext) -> None:
    return None


def wrong_width(context: TrainContext) -> nn.Module:
    return nn.Sequential(nn.Linear(1, 7))
