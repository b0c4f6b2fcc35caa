"""The canned networks written as ONNX: same outputs as PyTorch and as `torch.onnx.export`,
and the check that fails a training whose exported model computes something else."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort  # type: ignore[import-untyped]
import pytest
import torch
from onnx import numpy_helper

from shipyard.components.train.data import Problem
from shipyard.components.train.estimators import DNN, FeatureSpec, Head, build_estimator
from shipyard.components.train.export import export_network, signature
from shipyard.components.train.network_onnx import check_export, network_to_onnx
from shipyard.errors import PlatformError

FLOATS = [FeatureSpec("x", "float"), FeatureSpec("y", "float")]
IDS = [FeatureSpec("c", "id", 5), FeatureSpec("d", "id", 3)]


def rows(features: list[FeatureSpec], count: int = 64) -> tuple[torch.Tensor, ...]:
    """Random rows; ids include values outside their table (-3, 9), which are clamped."""
    generator = torch.Generator().manual_seed(3)
    columns = []
    for feature in features:
        if feature.kind == "float":
            columns.append(torch.randn(count, 1, generator=generator) * 3)
        else:
            columns.append(
                torch.randint(-3, feature.cardinality + 4, (count, 1), generator=generator)
            )
    return tuple(columns)


def head(estimator: str, features: list[FeatureSpec], task: str, **options: Any) -> Head:
    torch.manual_seed(0)
    outputs = 1 if task == "regression" else 3
    network = build_estimator(estimator, features, outputs, hidden_units=[8, 4], **options)  # type: ignore[arg-type]
    with torch.no_grad():  # weights of a trained network, not the initial ones
        for parameter in network.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.5)
        for module in network.modules():
            if isinstance(module, torch.nn.BatchNorm1d):
                assert module.running_mean is not None and module.running_var is not None
                module.running_mean.uniform_(-1, 1)
                module.running_var.uniform_(0.5, 2)
    result = Head(network, classification=task != "regression", mean=10.0, std=2.0)
    result.eval()
    return result


def problem(features: list[FeatureSpec], task: str) -> Problem:
    classes = [] if task == "regression" else ["a", "b", "c"]
    return Problem(features, "label", task, classes)  # type: ignore[arg-type]


def run(model: onnx.ModelProto, columns: tuple[torch.Tensor, ...]) -> list[np.ndarray]:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [item.name for item in session.get_inputs()]
    return list(session.run(None, {n: c.numpy() for n, c in zip(names, columns, strict=True)}))


CASES = [
    ("linear", FLOATS + IDS, {}),
    ("linear", FLOATS, {}),
    ("linear", IDS, {}),
    ("dnn", FLOATS + IDS, {}),
    ("dnn", IDS, {"activation": "tanh"}),
    ("dnn", FLOATS, {"activation": "gelu", "batch_norm": True, "dropout": 0.3}),
    ("wide_deep", FLOATS + IDS, {"batch_norm": True}),
    ("wide_deep", IDS + FLOATS, {"activation": "gelu", "dropout": 0.1}),
]


@pytest.mark.parametrize("task", ["multiclass", "regression"])
@pytest.mark.parametrize(("estimator", "features", "options"), CASES)
def test_the_graph_computes_what_pytorch_and_its_exporter_compute(
    estimator: str, features: list[FeatureSpec], options: dict[str, Any], task: str
) -> None:
    network = head(estimator, features, task, **options)
    spec = problem(features, task)
    written = network_to_onnx(network, spec)
    assert written is not None
    columns = rows(features)
    with torch.no_grad():
        expected = [t.numpy() for t in network(*columns)]
    traced = run(export_network(network, spec), columns)
    got = run(written, columns)
    for want, exported, have in zip(expected, traced, got, strict=True):
        assert have.dtype == exported.dtype and have.shape == exported.shape == want.shape
        np.testing.assert_allclose(have, want, rtol=1e-5, atol=1e-5)
    # the exporter's interface: inputs, outputs, types; each size it knew (it cannot
    # always infer the class count of `probabilities`; the written graph states it)
    ours = signature(written, spec, set())
    theirs = signature(export_network(network, spec), spec, set())
    for side in ("inputs", "outputs"):
        assert [(i["name"], i["dtype"]) for i in ours[side]] == [
            (i["name"], i["dtype"]) for i in theirs[side]
        ]
        for mine, known in zip(ours[side], theirs[side], strict=True):
            assert [
                a if b is not None else b
                for a, b in zip(mine["shape"], known["shape"], strict=True)
            ] == known["shape"]
    assert ours["outputs"][-1]["shape"] == ([None] if task == "regression" else [None, 3])
    check_export(written, network, columns)


class Custom(torch.nn.Module):
    """A `run_fn` network: not written by hand, exported by `torch.onnx.export`."""

    def __init__(self) -> None:
        super().__init__()
        self.dense = torch.nn.Linear(2, 3)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        scores: torch.Tensor = self.dense(torch.cat([x, y], dim=1)) ** 2
        return scores


def test_other_networks_are_left_to_the_exporter() -> None:
    spec = problem(FLOATS, "multiclass")
    assert network_to_onnx(Head(Custom(), classification=True), spec) is None
    gelu = head("dnn", FLOATS, "multiclass", activation="gelu")
    assert isinstance(gelu.network, DNN)
    layer = gelu.network.layers[1]
    assert isinstance(layer, torch.nn.GELU)
    layer.approximate = "tanh"  # a layer variant the writer does not know
    assert network_to_onnx(gelu, spec) is None
    custom = Head(Custom(), classification=True)
    check_export(export_network(custom, spec), custom, rows(FLOATS))


def test_a_graph_that_computes_something_else_fails_naming_output_and_row() -> None:
    network = head("dnn", FLOATS + IDS, "multiclass")
    written = network_to_onnx(network, problem(FLOATS + IDS, "multiclass"))
    assert written is not None
    bias = next(i for i in written.graph.initializer if list(i.dims) == [3])
    changed = numpy_helper.to_array(bias) + np.array([0.0, 0.0, 0.01], dtype=np.float32)
    bias.CopyFrom(numpy_helper.from_array(changed, bias.name))
    with pytest.raises(PlatformError, match=r"computes 'probabilities' = .* on row 0 of the data"):
        check_export(written, network, rows(FLOATS + IDS))


def test_a_regression_that_computes_something_else_fails() -> None:
    network = head("linear", FLOATS, "regression")
    written = network_to_onnx(network, problem(FLOATS, "regression"))
    assert written is not None
    network.mean = 10.5  # the network the graph was not written from
    with pytest.raises(PlatformError, match="'predictions'"):
        check_export(written, network, rows(FLOATS))


def test_a_graph_onnx_runtime_cannot_load_fails() -> None:
    network = head("linear", FLOATS, "multiclass")
    written = network_to_onnx(network, problem(FLOATS, "multiclass"))
    assert written is not None
    written.graph.node[0].op_type = "NoSuchOp"
    with pytest.raises(PlatformError, match="ONNX Runtime cannot load the exported network"):
        check_export(written, network, rows(FLOATS))


def test_writing_and_checking_import_no_torch_onnx() -> None:
    """The point of the writer: `torch.onnx` costs 0.05 s to import and 0.04-0.09 s a trace."""
    code = (
        "import sys\n"
        "from tests.components.train.test_network_onnx import FLOATS, IDS, head, problem, rows\n"
        "from shipyard.components.train.network_onnx import check_export, network_to_onnx\n"
        "network = head('wide_deep', FLOATS + IDS, 'multiclass', batch_norm=True)\n"
        "written = network_to_onnx(network, problem(FLOATS + IDS, 'multiclass'))\n"
        "check_export(written, network, rows(FLOATS + IDS))\n"
        "print('torch.onnx' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_training_whose_graph_differs_publishes_no_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check runs inside `train`: a graph that computes something else (here the written
    graph with one output bias moved) fails the node before `model.onnx` is written."""
    from shipyard.components.train import network_onnx
    from tests.components.train.test_train_estimators import prepare, run, toy

    write = network_onnx.network_to_onnx

    def off_by_a_little(network: Head, spec: Problem) -> onnx.ModelProto | None:
        written = write(network, spec)
        assert written is not None
        bias = next(i for i in written.graph.initializer if list(i.dims) == [2])
        moved = numpy_helper.to_array(bias) + np.array([0.0, 0.05], dtype=np.float32)
        bias.CopyFrom(numpy_helper.from_array(moved, bias.name))
        return written

    examples, graph = prepare(tmp_path, toy(), toy(seed=1))
    options = {"hidden_units": (8,), "epochs": 2, "batch_size": 16, "estimator": "dnn"}
    assert (run(tmp_path, examples, graph, "right", **options).path / "model.onnx").is_file()
    monkeypatch.setattr(network_onnx, "network_to_onnx", off_by_a_little)
    with pytest.raises(
        PlatformError, match=r"computes '(class_ids|probabilities)' = .* on row \d+ of the data"
    ):
        run(tmp_path, examples, graph, "wrong", **options)
    assert not (tmp_path / "wrong" / "model.onnx").exists()
