"""The canned networks as ONNX graphs, written from their weights, and the export's check.

`Linear`, `DNN` and `WideAndDeep` are a handful of layer types (embeddings, `Linear`,
`BatchNorm1d`, ReLU / tanh / GELU, dropout), so their graph is written directly, as the
transform's and the trees' are: no tracing, no `torch.onnx` (importing it and tracing
cost 0.1-0.15 s of CPU a training; `torch.onnx.export` stays for the user's `run_fn`
networks). The graph has the inputs and outputs `torch.onnx.export` gave: `transformed/<f>`
(`[N, 1]`, float or int64) in; `class_ids [N]` and `probabilities [N, C]`, or
`predictions [N]`, out.

Whichever way a network was exported, `check_export` runs the graph in ONNX Runtime on
rows of the data and compares it with the network in PyTorch: a model whose outputs differ
fails the training.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from shipyard.components.train.export import ML_OPSET, OPSET, output_names
from shipyard.components.transform.fitted import OUTPUT_PREFIX
from shipyard.errors import PlatformError

if TYPE_CHECKING:
    import numpy as np
    import onnx
    import torch
    from torch import nn

    from shipyard.components.train.data import Problem
    from shipyard.components.train.estimators import DNN, Linear, _Inputs

MAX_CHECK_ROWS = 256
"""Rows `check_export` compares."""
TOLERANCE = 1e-4
"""Largest difference allowed between ONNX Runtime and PyTorch, relative to the output's
scale (float32 sums in another order differ by about 1e-7)."""


class _Graph:
    """Nodes and initializers of a graph being written; names are unique (`net/<n>`)."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0

    def name(self) -> str:
        self._count += 1
        return f"net/{self._count}"

    def constant(self, value: np.ndarray | list[Any] | float | int, dtype: str) -> str:
        import numpy as np
        from onnx import numpy_helper

        name = self.name()
        array = np.asarray(value, dtype=dtype)
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def weight(self, tensor: torch.Tensor | nn.Module) -> str:
        """An initializer holding a parameter or buffer, as float32."""
        import torch

        assert isinstance(tensor, torch.Tensor)
        return self.constant(tensor.detach().cpu().float().numpy(), "float32")

    def op(self, op_type: str, *inputs: str, output: str | None = None, **attrs: Any) -> str:
        from onnx import helper

        result = output or self.name()
        self.nodes.append(helper.make_node(op_type, list(inputs), [result], **attrs))
        return result


def network_to_onnx(head: nn.Module, problem: Problem) -> onnx.ModelProto | None:
    """Write `head` (a canned network and its output head) as an ONNX model.

    Returns:
        The model, or None when the network is not one of the canned estimators built of
        the known layers (a `run_fn` network): `torch.onnx.export` exports those.
    """
    import onnx
    from onnx import TensorProto, helper

    from shipyard.components.train.estimators import Head

    if type(head) is not Head or not _supported(head.network):
        return None
    graph = _Graph()
    inputs = [OUTPUT_PREFIX + f.name for f in problem.features]
    scores = _network(graph, head.network, inputs)
    names = output_names(problem)
    if head.classification:
        graph.op("Softmax", scores, output=names[1], axis=1)
        graph.op("ArgMax", names[1], output=names[0], axis=1, keepdims=0)
        outputs = [
            helper.make_tensor_value_info(names[0], TensorProto.INT64, ["N"]),
            helper.make_tensor_value_info(names[1], TensorProto.FLOAT, ["N", problem.outputs]),
        ]
    else:
        first = graph.op("Gather", scores, graph.constant(0, "int64"), axis=1)
        scaled = graph.op("Mul", first, graph.constant(head.std, "float32"))
        graph.op("Add", scaled, graph.constant(head.mean, "float32"), output=names[0])
        outputs = [helper.make_tensor_value_info(names[0], TensorProto.FLOAT, ["N"])]
    model = helper.make_model(
        helper.make_graph(
            graph.nodes,
            "shipyard_network",
            [
                helper.make_tensor_value_info(
                    name,
                    TensorProto.FLOAT if f.kind == "float" else TensorProto.INT64,
                    ["N", 1],
                )
                for name, f in zip(inputs, problem.features, strict=True)
            ],
            outputs,
            graph.initializers,
        ),
        opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid("ai.onnx.ml", ML_OPSET)],
        producer_name="shipyard.train",
    )
    model.ir_version = 9
    onnx.checker.check_model(model)
    return model


def _supported(network: nn.Module) -> bool:
    from torch import nn

    from shipyard.components.train.estimators import DNN, Linear, WideAndDeep

    if type(network) is WideAndDeep:
        return _supported(network.wide) and _supported(network.deep)
    if type(network) is Linear:
        return bool(network.inputs.float_index or network.inputs.id_index)
    known = (nn.Linear, nn.ReLU, nn.Tanh, nn.Dropout)
    return type(network) is DNN and all(
        type(layer) in known
        or (type(layer) is nn.GELU and layer.approximate == "none")
        or (type(layer) is nn.BatchNorm1d and layer.running_mean is not None)
        for layer in network.layers
    )


def _network(graph: _Graph, network: nn.Module, inputs: list[str]) -> str:
    from shipyard.components.train.estimators import DNN, Linear, WideAndDeep

    if isinstance(network, Linear):
        return _linear(graph, network, inputs)
    if isinstance(network, DNN):
        return _dnn(graph, network, inputs)
    assert isinstance(network, WideAndDeep)
    wide = _linear(graph, network.wide, inputs)
    return graph.op("Add", wide, _dnn(graph, network.deep, inputs))


def _ids(graph: _Graph, spec: _Inputs, inputs: list[str]) -> list[str]:
    """`_Inputs.ids`: each id column as `[N]`, clamped to its table."""
    return [
        graph.op(
            "Clip",
            graph.op("Gather", inputs[index], graph.constant(0, "int64"), axis=1),
            graph.constant(0, "int64"),
            graph.constant(size - 1, "int64"),
        )
        for index, size in zip(spec.id_index, spec.cardinalities, strict=True)
    ]


def _floats(graph: _Graph, spec: _Inputs, inputs: list[str]) -> str | None:
    """`_Inputs.floats`: the float columns side by side, `[N, F]`."""
    index = spec.float_index
    if not index:
        return None
    return graph.op("Concat", *[inputs[i] for i in index], axis=1)


def _dense(graph: _Graph, layer: nn.Linear, source: str) -> str:
    bias = [graph.weight(layer.bias)] if layer.bias is not None else []
    return graph.op("Gemm", source, graph.weight(layer.weight), *bias, transB=1)


def _linear(graph: _Graph, network: Linear, inputs: list[str]) -> str:
    floats = _floats(graph, network.inputs, inputs)
    score = graph.op("Unsqueeze", graph.weight(network.bias), graph.constant([0], "int64"))
    if network.dense is not None and floats is not None:
        score = graph.op("Add", score, _dense(graph, network.dense, floats))
    for table, ids in zip(network.one_hot, _ids(graph, network.inputs, inputs), strict=True):
        score = graph.op("Add", score, graph.op("Gather", graph.weight(table.weight), ids))
    return score


def _dnn(graph: _Graph, network: DNN, inputs: list[str]) -> str:
    from torch import nn

    parts = [
        graph.op("Gather", graph.weight(table.weight), ids)
        for table, ids in zip(network.embeddings, _ids(graph, network.inputs, inputs), strict=True)
    ]
    floats = _floats(graph, network.inputs, inputs)
    if floats is not None:
        parts.insert(0, floats)
    value = graph.op("Concat", *parts, axis=1) if len(parts) > 1 else parts[0]
    for layer in network.layers:
        if isinstance(layer, nn.Linear):
            value = _dense(graph, layer, value)
        elif isinstance(layer, nn.BatchNorm1d):
            assert layer.running_mean is not None and layer.running_var is not None
            value = graph.op(
                "BatchNormalization",
                value,
                graph.weight(layer.weight),
                graph.weight(layer.bias),
                graph.weight(layer.running_mean),
                graph.weight(layer.running_var),
                epsilon=layer.eps,
            )
        elif isinstance(layer, nn.ReLU):
            value = graph.op("Relu", value)
        elif isinstance(layer, nn.Tanh):
            value = graph.op("Tanh", value)
        elif isinstance(layer, nn.GELU):  # x * (1 + erf(x / sqrt 2)) / 2, as PyTorch's
            erf = graph.op("Erf", graph.op("Div", value, graph.constant(math.sqrt(2), "float32")))
            half = graph.op("Mul", value, graph.constant(0.5, "float32"))
            value = graph.op("Mul", half, graph.op("Add", erf, graph.constant(1.0, "float32")))
        # nn.Dropout: nothing at inference
    return value


def check_export(
    network: onnx.ModelProto, head: nn.Module, features: tuple[torch.Tensor, ...]
) -> None:
    """Run the exported `network` in ONNX Runtime on up to `MAX_CHECK_ROWS` rows of
    `features` and compare it with `head` in PyTorch.

    Raises:
        PlatformError: ONNX Runtime cannot load the graph, or an output differs: which
            output, row and values.
    """
    import numpy as np
    import onnxruntime as ort  # type: ignore[import-untyped]
    import torch

    rows = tuple(column[:MAX_CHECK_ROWS] for column in features)
    head.eval()
    where = next(iter(head.parameters()), torch.empty(0)).device  # the network's weights
    with torch.no_grad():
        expected = [t.cpu().numpy() for t in head(*(column.to(where) for column in rows))]
    try:
        session = ort.InferenceSession(
            network.SerializeToString(), providers=["CPUExecutionProvider"]
        )
    except Exception as error:  # ONNX Runtime raises its own exception types
        raise PlatformError(
            f"train: ONNX Runtime cannot load the exported network: {error}",
            hint="Report it with the training options; a run_fn network must be exportable "
            "by torch.onnx.export.",
        ) from error
    feeds = {
        item.name: column.cpu().numpy()
        for item, column in zip(session.get_inputs(), rows, strict=True)
    }
    got = session.run(None, feeds)
    for item, want, have in zip(session.get_outputs(), expected, got, strict=True):
        _compare(item.name, np.asarray(want), np.asarray(have), expected)


def _compare(name: str, want: np.ndarray, have: np.ndarray, expected: list[Any]) -> None:
    import numpy as np

    if want.shape != have.shape:
        raise PlatformError(
            f"train: the exported network's output {name!r} has shape {list(have.shape)}, "
            f"PyTorch's {list(want.shape)}.",
            hint="Report it with the training options.",
        )
    if name == "class_ids":  # a different class only where two classes (nearly) tie
        top = np.sort(np.asarray(expected[1]), axis=1)
        tied = top[:, -1] - top[:, -2] <= TOLERANCE if top.shape[1] > 1 else False
        wrong = (want != have) & ~tied
    else:
        scale = max(1.0, float(np.abs(want).max(initial=0.0)))
        wrong = ~(np.abs(want - have) <= TOLERANCE * scale)
    if np.any(wrong):
        row = int(np.argwhere(wrong)[0][0])
        raise PlatformError(
            f"train: the exported network computes {name!r} = {have[row].tolist()} on row {row} "
            f"of the data, PyTorch {want[row].tolist()}; the model is not published.",
            hint="Report it with the training options; a run_fn network must compute the "
            "same in eval mode when exported by torch.onnx.export.",
        )
