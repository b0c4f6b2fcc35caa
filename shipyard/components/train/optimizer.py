"""The optimizers of the canned networks: Adam, AdamW and SGD with momentum, done directly.

`torch.optim` costs a tabular training more than its arithmetic: the first optimizer built
in a process imports `torch._dynamo` (about 1.8 s of CPU time, more than the whole training
of the penguins demo), and each step goes through hooks and dispatch meant for large models.
`StepOptimizer` applies the same update rules as `torch.optim.Adam`, `AdamW` and `SGD`
(`momentum=0.9`) in their single-tensor form, the one PyTorch uses on the CPU, with the same
operations in the same order: on the CPU it gives the same weights, bit for bit
(`tests/components/train/test_optimizer.py` checks it against `torch.optim`).

Its `state_dict()` has the layout of `torch.optim.Optimizer.state_dict()` (`state` by
parameter index with `step`, `exp_avg`, `exp_avg_sq` or `momentum_buffer`; `param_groups`
with `lr` and the rule's hyperparameters), so checkpoints keep their format, and
`torch.amp.GradScaler` drives it like a `torch.optim` optimizer (`param_groups`, `step`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from shipyard.errors import DataError

if TYPE_CHECKING:
    from collections.abc import Iterable

    import torch

Rule = Literal["adam", "sgd", "adamw"]

BETAS = (0.9, 0.999)
EPS = 1e-8
ADAMW_WEIGHT_DECAY = 1e-2  # torch.optim.AdamW's default
SGD_MOMENTUM = 0.9


class StepOptimizer:
    """Adam, AdamW or SGD with momentum 0.9 over a network's parameters (one group).

    Example:
        >>> optimizer = StepOptimizer(network.parameters(), rule="adam", lr=0.01)
        >>> optimizer.zero_grad(); loss.backward(); optimizer.step()
    """

    def __init__(self, parameters: Iterable[torch.Tensor], *, rule: Rule, lr: float) -> None:
        """Optimize `parameters` (those that require a gradient) with `rule` at rate `lr`."""
        params = [p for p in parameters if p.requires_grad]
        self.rule: Rule = rule
        group: dict[str, Any] = {"params": params, "lr": lr}
        if rule == "sgd":
            group.update(momentum=SGD_MOMENTUM, dampening=0.0, weight_decay=0.0, nesterov=False)
        else:
            weight_decay = ADAMW_WEIGHT_DECAY if rule == "adamw" else 0.0
            group.update(betas=BETAS, eps=EPS, weight_decay=weight_decay, amsgrad=False)
        self.param_groups: list[dict[str, Any]] = [group]
        self.state: dict[torch.Tensor, dict[str, Any]] = {}

    def zero_grad(self) -> None:
        """Drop the gradients (None, as `torch.optim` does by default)."""
        for p in self.param_groups[0]["params"]:
            p.grad = None

    def step(self) -> None:
        """Update each parameter that has a gradient by the rule.

        The parameters are updated together (`torch._foreach_*`, one call per operation
        rather than one per tensor): the same arithmetic, a fraction of the dispatch.
        """
        import torch

        group = self.param_groups[0]
        params = [p for p in group["params"] if p.grad is not None]
        if not params:
            return
        lr = float(group["lr"])
        with torch.no_grad():
            if self.rule == "sgd":
                _sgd(params, [self.state.setdefault(p, {}) for p in params], lr=lr)
                return
            by_step: dict[float, list[torch.Tensor]] = {}
            for p in params:  # parameters share a step count unless some missed steps
                state = self.state.setdefault(p, {})
                by_step.setdefault(float(state.get("step", 0.0)), []).append(p)
            decay = float(group["weight_decay"])
            for step, same in by_step.items():
                _adam(same, [self.state[p] for p in same], step=step + 1, lr=lr, decay=decay)

    def state_dict(self) -> dict[str, Any]:
        """The state in `torch.optim.Optimizer.state_dict()`'s layout (indices, not tensors)."""
        group = self.param_groups[0]
        params = group["params"]
        state = {index: dict(self.state[p]) for index, p in enumerate(params) if p in self.state}
        for values in state.values():
            if "step" in values:  # torch keeps the step as a float32 tensor
                import torch

                values["step"] = torch.tensor(float(values["step"]), dtype=torch.float32)
        saved = {k: v for k, v in group.items() if k != "params"}
        saved["params"] = list(range(len(params)))
        return {"state": state, "param_groups": [saved]}

    def load_state_dict(self, saved: dict[str, Any]) -> None:
        """Restore a `state_dict()` (this class's or the matching `torch.optim` optimizer's).

        Raises:
            DataError: It holds another number of parameters or groups.
        """
        params = self.param_groups[0]["params"]
        groups = saved["param_groups"]
        if len(groups) != 1 or len(groups[0]["params"]) != len(params):
            raise DataError(
                f"cannot restore the optimizer state: it holds {len(groups)} group(s) of "
                f"{[len(g['params']) for g in groups]} parameter(s), this network has 1 group "
                f"of {len(params)}; delete the checkpoint to train from the start."
            )
        self.param_groups[0]["lr"] = float(groups[0]["lr"])
        self.state = {}
        for position, index in enumerate(groups[0]["params"]):
            values = {  # copies, as torch does: the saved state may still be in use
                key: value.detach().clone() if key != "step" else float(value)
                for key, value in saved["state"].get(index, {}).items()
            }
            if values:
                self.state[params[position]] = values


def _adam(
    params: list[torch.Tensor],
    states: list[dict[str, Any]],
    *,
    step: float,
    lr: float,
    decay: float,
) -> None:
    """One Adam (AdamW: decoupled `decay`) step of `params`, all at step count `step`.

    The operations of `torch.optim.adam._single_tensor_adam`, in its order.
    """
    import torch

    for p, state in zip(params, states, strict=True):
        if not state:
            state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        state["step"] = step
    grads = [p.grad for p in params if p.grad is not None]  # step() passes those with one
    exp_avgs = [state["exp_avg"] for state in states]
    exp_avg_sqs = [state["exp_avg_sq"] for state in states]
    beta1, beta2 = BETAS
    if decay:
        torch._foreach_mul_(params, 1 - lr * decay)
    torch._foreach_lerp_(exp_avgs, grads, 1 - beta1)
    torch._foreach_mul_(exp_avg_sqs, beta2)
    torch._foreach_addcmul_(exp_avg_sqs, grads, grads, value=1 - beta2)
    denoms = torch._foreach_sqrt(exp_avg_sqs)
    torch._foreach_div_(denoms, (1 - beta2**step) ** 0.5)
    torch._foreach_add_(denoms, EPS)
    torch._foreach_addcdiv_(params, exp_avgs, denoms, value=-(lr / (1 - beta1**step)))


def _sgd(params: list[torch.Tensor], states: list[dict[str, Any]], *, lr: float) -> None:
    """One SGD step with momentum 0.9, as `torch.optim.sgd._single_tensor_sgd`."""
    import torch

    buffers: list[torch.Tensor] = []
    grads: list[torch.Tensor] = []
    for p, state in zip(params, states, strict=True):
        assert p.grad is not None  # step() passes the parameters that have one
        if "momentum_buffer" not in state:  # the first step: the gradient itself
            state["momentum_buffer"] = p.grad.detach().clone()
        else:
            buffers.append(state["momentum_buffer"])
            grads.append(p.grad)
    if buffers:
        torch._foreach_mul_(buffers, SGD_MOMENTUM)
        torch._foreach_add_(buffers, grads)
    torch._foreach_add_(params, [state["momentum_buffer"] for state in states], alpha=-lr)
