"""Canned estimators as PyTorch modules: linear, DNN and wide & deep.

Every module takes one tensor per transformed feature, in `FeatureSpec` order, each of shape
`[N, 1]`: float32 for numbers, int64 for ids. Float features are concatenated; ids go through
embeddings (DNN) or their one-hot encoding (the linear model and the wide part, computed as
an embedding of width `outputs`, which equals a linear layer over the one-hot vector).
The network returns raw scores `[N, outputs]`: logits for classification, the standardized
prediction for regression.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

Estimator = Literal["linear", "dnn", "wide_deep"]
Activation = Literal["relu", "tanh", "gelu"]


@dataclass(frozen=True)
class FeatureSpec:
    """One transformed feature the network reads.

    Attributes:
        name: The transform output's name (the ONNX input is `transformed/<name>`).
        kind: `float` or `id`.
        cardinality: For ids: how many distinct ids there can be (ids are `0 .. cardinality-1`).
    """

    name: str
    kind: Literal["float", "id"]
    cardinality: int = 0


def embedding_dim(cardinality: int) -> int:
    """Return the embedding width for `cardinality` ids: min(16, ceil(1.6 * card ** 0.56))."""
    return max(1, min(16, math.ceil(1.6 * math.pow(cardinality, 0.56))))


def _activation(name: Activation) -> nn.Module:
    if name == "tanh":
        return nn.Tanh()
    if name == "gelu":
        return nn.GELU()
    return nn.ReLU()


class _Inputs(nn.Module):
    """Splits the feature tensors into the float block and the clamped id columns."""

    def __init__(self, features: list[FeatureSpec]) -> None:
        super().__init__()
        self.float_index = [i for i, f in enumerate(features) if f.kind == "float"]
        self.id_index = [i for i, f in enumerate(features) if f.kind == "id"]
        self.cardinalities = [max(1, features[i].cardinality) for i in self.id_index]

    def floats(self, inputs: tuple[torch.Tensor, ...]) -> torch.Tensor | None:
        if not self.float_index:
            return None
        return torch.cat([inputs[i] for i in self.float_index], dim=1)

    def ids(self, inputs: tuple[torch.Tensor, ...]) -> list[torch.Tensor]:
        return [
            torch.clamp(inputs[i][:, 0], 0, size - 1)
            for i, size in zip(self.id_index, self.cardinalities, strict=True)
        ]


class Linear(nn.Module):
    """A linear model over the float features and the one-hot encoded ids."""

    def __init__(self, features: list[FeatureSpec], outputs: int) -> None:
        super().__init__()
        self.inputs = _Inputs(features)
        self.dense = (
            nn.Linear(len(self.inputs.float_index), outputs) if self.inputs.float_index else None
        )
        tables = [nn.Embedding(size, outputs) for size in self.inputs.cardinalities]
        for table in tables:
            nn.init.zeros_(table.weight)
        self.one_hot = nn.ModuleList(tables)
        self.bias = nn.Parameter(torch.zeros(outputs))

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        score = self.bias.unsqueeze(0).expand(inputs[0].shape[0], -1)
        floats = self.inputs.floats(inputs)
        if self.dense is not None and floats is not None:
            score = score + self.dense(floats)
        for table, ids in zip(self.one_hot, self.inputs.ids(inputs), strict=True):
            score = score + table(ids)
        return score


class DNN(nn.Module):
    """A multilayer perceptron over the float features and the id embeddings."""

    def __init__(
        self,
        features: list[FeatureSpec],
        outputs: int,
        *,
        hidden_units: list[int],
        activation: Activation = "relu",
        dropout: float = 0.0,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        self.inputs = _Inputs(features)
        self.embeddings = nn.ModuleList(
            nn.Embedding(size, embedding_dim(size)) for size in self.inputs.cardinalities
        )
        width = len(self.inputs.float_index) + sum(
            embedding_dim(size) for size in self.inputs.cardinalities
        )
        layers: list[nn.Module] = []
        for units in hidden_units:
            layers.append(nn.Linear(width, units))
            if batch_norm:
                layers.append(nn.BatchNorm1d(units))
            layers.append(_activation(activation))
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = units
        layers.append(nn.Linear(width, outputs))
        self.layers = nn.Sequential(*layers)

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        parts = [
            table(ids) for table, ids in zip(self.embeddings, self.inputs.ids(inputs), strict=True)
        ]
        floats = self.inputs.floats(inputs)
        if floats is not None:
            parts.insert(0, floats)
        output: torch.Tensor = self.layers(torch.cat(parts, dim=1))
        return output


class WideAndDeep(nn.Module):
    """The sum of a linear model (wide) and a DNN (deep) over the same features."""

    def __init__(
        self,
        features: list[FeatureSpec],
        outputs: int,
        *,
        hidden_units: list[int],
        activation: Activation = "relu",
        dropout: float = 0.0,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        self.wide = Linear(features, outputs)
        self.deep = DNN(
            features,
            outputs,
            hidden_units=hidden_units,
            activation=activation,
            dropout=dropout,
            batch_norm=batch_norm,
        )

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        wide: torch.Tensor = self.wide(*inputs)
        deep: torch.Tensor = self.deep(*inputs)
        return wide + deep


def build_estimator(
    estimator: Estimator,
    features: list[FeatureSpec],
    outputs: int,
    *,
    hidden_units: list[int],
    activation: Activation = "relu",
    dropout: float = 0.0,
    batch_norm: bool = False,
) -> nn.Module:
    """Return the canned estimator `estimator` with `outputs` scores per row."""
    if estimator == "linear":
        return Linear(features, outputs)
    deep = {
        "hidden_units": hidden_units,
        "activation": activation,
        "dropout": dropout,
        "batch_norm": batch_norm,
    }
    if estimator == "dnn":
        return DNN(features, outputs, **deep)  # type: ignore[arg-type]
    return WideAndDeep(features, outputs, **deep)  # type: ignore[arg-type]


class Head(nn.Module):
    """The network plus its output head: what is exported.

    Classification returns `(class_ids [N], probabilities [N, C])`; regression returns
    `(predictions [N],)`, the standardized score mapped back to the label's scale.
    """

    def __init__(
        self, network: nn.Module, *, classification: bool, mean: float = 0.0, std: float = 1.0
    ) -> None:
        super().__init__()
        self.network = network
        self.classification = classification
        self.mean = mean
        self.std = std

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        scores: torch.Tensor = self.network(*inputs)
        if self.classification:
            probabilities = torch.softmax(scores, dim=1)
            return torch.argmax(probabilities, dim=1), probabilities
        return (scores[:, 0] * self.std + self.mean,)
