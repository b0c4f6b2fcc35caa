"""Inputs the runner resolves when a node starts, from what earlier runs recorded.

`evaluate(..., baseline=latest_blessed_model())` compares a new model with the newest model an
earlier run of the same pipeline blessed (TFX's `LatestBlessedModelStrategy`); on the first
run there is none, and the input is None. An artifact with the same content as one of the
node's wired inputs is passed over (a model is not its own baseline), so an unchanged
pipeline reruns from the cache. Resolved inputs are recorded as input events, so
lineage shows which baseline a decision used, and they are part of the cache key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shipyard.artifacts import Model

if TYPE_CHECKING:
    from shipyard.artifacts import Artifact


@dataclass(frozen=True)
class Latest:
    """The newest live artifact of `type` that an earlier run of the pipeline produced.

    Attributes:
        type: The artifact type.
        where: Properties the artifact must have, with these exact values.
        blessed: Only models that an evaluation blessed: the `model` input of the execution
            that produced the newest `ModelBlessing` with `blessed: true`.
    """

    type: type[Artifact]
    where: dict[str, Any] = field(default_factory=dict)
    blessed: bool = False

    def __str__(self) -> str:
        if self.blessed:
            return "latest_blessed_model()"
        filters = "".join(f", {key}={value!r}" for key, value in self.where.items())
        return f"latest({self.type.__name__}{filters})"


def latest(type_: type[Artifact], **where: Any) -> Latest:
    """The newest artifact of `type_` from an earlier run of this pipeline, or None.

    Example:
        >>> validate_examples(statistics=..., schema=latest(Schema, curated=True))
    """
    return Latest(type_, dict(where))


def latest_blessed_model() -> Latest:
    """The newest model an earlier run of this pipeline blessed, or None on the first run.

    Example:
        >>> evaluate(examples=..., model=..., baseline=latest_blessed_model(),
        ...          max_regression={"accuracy": 0.01})
    """
    return Latest(Model, blessed=True)
