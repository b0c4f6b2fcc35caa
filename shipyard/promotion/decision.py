"""Whether a canary is promoted, rolled back, or needs more traffic, and why.

The rules, in order (`decide`):

1. The canary is not loaded on the server, or has taken fewer than `min_requests`
   requests: **wait**.
2. Its error rate exceeds stable's by more than `max_error_rate` (stable's rate is 0 when
   stable took no request): **roll back**. Comparing with stable keeps clients' own bad
   requests, which both versions refuse alike, from counting against the canary.
3. Its mean latency exceeds `max_latency_ratio` times stable's (when stable has answered
   a request): **roll back**.
4. Otherwise: **promote**.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

from shipyard.errors import InvalidParameterError

if TYPE_CHECKING:
    from shipyard.promotion.figures import VersionFigures

Action = Literal["promote", "roll_back", "wait"]


@dataclass(frozen=True)
class PromotionPolicy:
    """When a canary is good enough.

    Attributes:
        min_requests: Requests the canary must have taken before any decision.
        max_error_rate: How much the canary's error rate may exceed stable's (0 to 1).
        max_latency_ratio: How many times stable's mean latency the canary's may reach.
    """

    min_requests: int = 100
    max_error_rate: float = 0.01
    max_latency_ratio: float = 1.5

    def __post_init__(self) -> None:
        if self.min_requests < 1:
            raise InvalidParameterError(
                f"--min-requests must be an int >= 1. Got {self.min_requests} instead."
            )
        if not 0 <= self.max_error_rate <= 1:
            raise InvalidParameterError(
                f"--max-error-rate must be a share from 0 to 1. Got {self.max_error_rate} instead."
            )
        if not self.max_latency_ratio > 0:
            raise InvalidParameterError(
                f"--max-latency-ratio must be a number > 0. Got {self.max_latency_ratio} instead."
            )

    def to_json(self) -> dict[str, Any]:
        """Return the policy as plain JSON."""
        return asdict(self)


@dataclass(frozen=True)
class Decision:
    """What to do with a canary.

    Attributes:
        action: `promote`, `roll_back` or `wait`.
        reason: One sentence with the figures compared.
    """

    action: Action
    reason: str


def decide(
    canary: VersionFigures, stable: VersionFigures, policy: PromotionPolicy, *, canary_version: int
) -> Decision:
    """Apply the rules of the module docstring to the two versions' figures."""
    if not canary.loaded:
        return Decision("wait", f"the canary version {canary_version} is not loaded yet.")
    if canary.requests < policy.min_requests:
        return Decision(
            "wait",
            f"the canary has taken {canary.requests} of the {policy.min_requests} requests "
            "needed to decide.",
        )
    canary_rate = canary.error_rate or 0.0
    stable_rate = stable.error_rate or 0.0
    if canary_rate - stable_rate > policy.max_error_rate:
        return Decision(
            "roll_back",
            f"the canary's error rate {canary_rate:.2%} ({canary.errors} of {canary.requests}) "
            f"exceeds stable's {stable_rate:.2%} by more than {policy.max_error_rate:.2%}.",
        )
    canary_latency, stable_latency = canary.mean_latency_s, stable.mean_latency_s
    latency = ""
    if canary_latency is not None and stable_latency:
        ratio = canary_latency / stable_latency
        if ratio > policy.max_latency_ratio:
            return Decision(
                "roll_back",
                f"the canary's mean latency {canary_latency * 1000:.2f} ms is {ratio:.2f} "
                f"times stable's {stable_latency * 1000:.2f} ms (at most "
                f"{policy.max_latency_ratio:g}).",
            )
        latency = f", mean latency {ratio:.2f} times stable's"
    else:
        latency = ", latency not compared (stable answered no request)"
    return Decision(
        "promote",
        f"the canary took {canary.requests} requests with error rate {canary_rate:.2%} "
        f"(stable {stable_rate:.2%}){latency}.",
    )
