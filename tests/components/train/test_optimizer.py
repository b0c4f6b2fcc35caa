"""StepOptimizer: the weights of torch.optim's Adam, AdamW and SGD, bit for bit, and its state."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import torch
from torch import nn

from shipyard.components.train.optimizer import Rule, StepOptimizer
from shipyard.errors import DataError

MAX_STEPS = 40


def _network(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 3))


def _reference(rule: Rule, network: nn.Module, lr: float) -> torch.optim.Optimizer:
    if rule == "sgd":
        return torch.optim.SGD(network.parameters(), lr=lr, momentum=0.9)
    if rule == "adamw":
        return torch.optim.AdamW(network.parameters(), lr=lr)
    return torch.optim.Adam(network.parameters(), lr=lr)


def _train(network: nn.Module, optimizer: object, steps: int, first: int = 0) -> None:
    generator = torch.Generator().manual_seed(1)
    data = torch.randn(MAX_STEPS * 8, 5, generator=generator)
    target = torch.randint(0, 3, (MAX_STEPS * 8,), generator=generator)
    for step in range(first, steps):
        optimizer.zero_grad()  # type: ignore[attr-defined]
        rows = slice(step * 8, step * 8 + 8)
        loss = nn.functional.cross_entropy(network(data[rows]), target[rows])
        loss.backward()  # type: ignore[no-untyped-call]
        optimizer.step()  # type: ignore[attr-defined]


@pytest.mark.parametrize("rule", ["adam", "adamw", "sgd"])
def test_same_weights_as_torch_optim(rule: Rule) -> None:
    ours, theirs = _network(), _network()
    _train(ours, StepOptimizer(ours.parameters(), rule=rule, lr=0.01), 40)
    _train(theirs, _reference(rule, theirs, 0.01), 40)
    start = _network().parameters()
    moved = [not torch.equal(a, b) for a, b in zip(ours.parameters(), start, strict=True)]
    assert all(moved)
    for a, b in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert torch.equal(a, b)


def _train_scaled(network: nn.Module, optimizer: Any) -> None:
    """Six mixed-precision steps; the third overflows, so the scaler skips it."""
    data = torch.randn(16, 5, generator=torch.Generator().manual_seed(2))
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**16)
    for step in range(6):
        optimizer.zero_grad()
        loss = network(data).pow(2).mean() * (float("inf") if step == 2 else 1.0)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        scaler.step(optimizer)
        scaler.update()


def test_grad_scaler_drives_it_like_torch_optim() -> None:
    """Mixed precision's GradScaler unscales, skips and steps it exactly as it does torch.optim."""
    ours, theirs = _network(), _network()
    _train_scaled(ours, StepOptimizer(ours.parameters(), rule="adam", lr=0.01))
    _train_scaled(theirs, _reference("adam", theirs, 0.01))
    for a, b in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert torch.equal(a, b)
    assert not torch.equal(next(ours.parameters()), next(_network().parameters()))


@pytest.mark.parametrize("rule", ["adam", "sgd"])
def test_state_dict_has_torch_layout_and_resumes(rule: Rule) -> None:
    network = _network()
    optimizer = StepOptimizer(network.parameters(), rule=rule, lr=0.01)
    _train(network, optimizer, 10)
    saved = optimizer.state_dict()
    assert saved["param_groups"][0]["params"] == [0, 1, 2, 3, 4, 5]
    keys = {"step", "exp_avg", "exp_avg_sq"} if rule == "adam" else {"momentum_buffer"}
    assert set(saved["state"][0]) == keys
    if rule == "adam":
        assert saved["state"][0]["step"].dtype == torch.float32
        assert float(saved["state"][0]["step"]) == 10.0

    # Resumed after 10 steps (weights and state restored): the 20-step result exactly.
    straight = _network()
    _train(straight, StepOptimizer(straight.parameters(), rule=rule, lr=0.01), 20)
    resumed = _network()
    resumed.load_state_dict(network.state_dict())
    again = StepOptimizer(resumed.parameters(), rule=rule, lr=0.5)
    again.load_state_dict(saved)
    assert again.param_groups[0]["lr"] == 0.01
    _train(resumed, again, 20, first=10)
    for a, b in zip(straight.parameters(), resumed.parameters(), strict=True):
        assert torch.equal(a, b)


def test_loads_the_state_of_torch_optim() -> None:
    """A checkpoint written while training used torch.optim.Adam resumes exactly."""
    theirs = _network()
    adam = torch.optim.Adam(theirs.parameters(), lr=0.01)
    _train(theirs, adam, 10)
    ours = _network()
    ours.load_state_dict(theirs.state_dict())
    optimizer = StepOptimizer(ours.parameters(), rule="adam", lr=0.01)
    optimizer.load_state_dict(adam.state_dict())
    _train(theirs, adam, 20, first=10)
    _train(ours, optimizer, 20, first=10)
    for a, b in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert torch.equal(a, b)


def test_load_state_of_another_network_names_the_sizes() -> None:
    optimizer = StepOptimizer(_network().parameters(), rule="adam", lr=0.01)
    other = nn.Linear(2, 2)
    saved = StepOptimizer(other.parameters(), rule="adam", lr=0.01).state_dict()
    with pytest.raises(DataError, match=r"1 group\(s\) of \[2\] parameter\(s\).*1 group of 6"):
        optimizer.load_state_dict(saved)


def test_schedules_change_the_rate_through_param_groups() -> None:
    network = nn.Linear(1, 1, bias=False)
    nn.init.zeros_(network.weight)
    optimizer = StepOptimizer(network.parameters(), rule="sgd", lr=1.0)
    optimizer.param_groups[0]["lr"] = 0.5
    network.weight.grad = torch.ones_like(network.weight)
    optimizer.step()
    assert float(network.weight.detach()) == -0.5


def test_training_a_network_imports_no_dynamo() -> None:
    """The point of the class: torch.optim imports torch._dynamo (~1.8 s of CPU time)."""
    code = (
        "import sys, torch\n"
        "from torch import nn\n"
        "from shipyard.components.train.optimizer import StepOptimizer\n"
        "net = nn.Linear(3, 2)\n"
        "opt = StepOptimizer(net.parameters(), rule='adam', lr=0.1)\n"
        "opt.zero_grad(); net(torch.ones(4, 3)).sum().backward(); opt.step()\n"
        "print('torch._dynamo' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_parameter_without_gradient_keeps_its_own_step_count() -> None:
    """As in torch.optim, a parameter with no gradient in a step is not updated or counted."""
    ours, theirs = _network(), _network()
    mine = StepOptimizer(ours.parameters(), rule="adam", lr=0.01)
    adam = torch.optim.Adam(theirs.parameters(), lr=0.01)
    for network, optimizer in ((ours, mine), (theirs, adam)):
        _train(network, optimizer, 5)
        first = next(network.parameters())
        optimizer.zero_grad()
        network(torch.ones(2, 5)).sum().backward()
        first.grad = None
        optimizer.step()
        _train(network, optimizer, 10, first=5)
    assert float(mine.state_dict()["state"][0]["step"]) == 10.0
    assert float(mine.state_dict()["state"][1]["step"]) == 11.0
    for a, b in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert torch.equal(a, b)
