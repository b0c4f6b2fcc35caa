"""Learning-rate schedules: a factor of the base rate for each optimizer step."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:
    from collections.abc import Callable

Schedule = Literal["constant", "cosine", "linear", "step"]
SCHEDULES: tuple[str, ...] = get_args(Schedule)


def lr_factor(
    schedule: Schedule, *, total_steps: int, warmup_steps: int = 0
) -> Callable[[int], float]:
    """Return `step -> factor` (the factor multiplies the base learning rate).

    `warmup_steps` ramp linearly from near 0 to 1; then `constant` stays at 1, `cosine`
    decays to 0 along half a cosine, `linear` decays to 0 in a straight line, and `step`
    divides by 10 at half and again at three quarters of the steps after warm-up.
    """
    decay_steps = max(total_steps - warmup_steps, 1)

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        done = min((step - warmup_steps) / decay_steps, 1.0)
        if schedule == "cosine":
            return 0.5 * (1.0 + math.cos(math.pi * done))
        if schedule == "linear":
            return 1.0 - done
        if schedule == "step":
            return 0.01 if done >= 0.75 else 0.1 if done >= 0.5 else 1.0
        return 1.0

    return factor
