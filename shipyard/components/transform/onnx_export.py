"""Export a fitted transform as an ONNX graph: raw rows in, model inputs out.

Inputs: one per raw column, named as the column, shape `[N, 1]`: `float` for numbers (NaN
for missing), `string` for strings ("" for missing). Outputs: one per transformed feature,
named `transformed/<name>`, shape `[N, 1]`, `float` or `int64`.

Ops (ONNX opset 19, `ai.onnx.ml` opset 3):

- `z_score`, `min_max`: `Sub` then `Div` by float32 constants;
- `log1p`: `Add` 1 then `Log`;
- `impute`: `Where(IsNaN(x), value, x)` for numbers, `Where(Equal(x, ""), value, x)` for
  strings;
- `bucketize`: `GreaterOrEqual(x, boundaries[1, B])`, `Cast` to int64, `ReduceSum` over B;
- `vocabulary`, `hash_buckets`: `ai.onnx.ml.LabelEncoder` (string keys -> int64 ids, the
  OOV or reserved id as default);
- `cross`: `Mul` by size(b), `Add` b, `Mod` num_buckets (int64).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shipyard.components.transform.fitted import OUTPUT_PREFIX

if TYPE_CHECKING:
    import onnx

    from shipyard.components.transform.fitted import FittedNode, FittedTransform

OPSET = 19
ML_OPSET = 3


class _Builder:
    def __init__(self) -> None:
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.count = 0

    def name(self, hint: str) -> str:
        self.count += 1
        return f"{hint}_{self.count}"

    def const(self, values: Any, dtype: str, shape: list[int] | None = None) -> str:
        import numpy as np
        from onnx import numpy_helper

        array = np.asarray(values, dtype=object if dtype == "string" else dtype)
        if shape is not None:
            array = array.reshape(shape)
        name = self.name("const")
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def add(self, op: str, inputs: list[str], *, domain: str = "", **attributes: Any) -> str:
        from onnx import helper

        output = self.name(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [output], domain=domain, **attributes))
        return output


def export_onnx(fitted: FittedTransform, *, outputs: list[str] | None = None) -> onnx.ModelProto:
    """Build the ONNX model computing `outputs` (default: the serving outputs) from raw rows.

    Args:
        fitted: The fitted transform.
        outputs: Which outputs to compute; by default those that do not read the label, so
            the graph takes rows as served.
    """
    import onnx
    from onnx import TensorProto, helper

    wanted = fitted.serving_outputs() if outputs is None else outputs
    builder = _Builder()
    names: dict[int, str] = {}
    used: set[str] = set()
    for name in wanted:
        used |= fitted.columns_of(name)
    needed = _needed(fitted, wanted)
    for index in sorted(needed):
        node = fitted.nodes[index]
        if node.op == "column":
            names[index] = str(node.options["name"])
        else:
            names[index] = _emit(builder, node, [names[i] for i in node.inputs])
    graph_outputs = []
    for name in wanted:
        node = fitted.nodes[fitted.outputs[name]]
        output = OUTPUT_PREFIX + name
        builder.nodes.append(helper.make_node("Identity", [names[fitted.outputs[name]]], [output]))
        element = TensorProto.INT64 if node.kind == "id" else TensorProto.FLOAT
        graph_outputs.append(helper.make_tensor_value_info(output, element, ["N", 1]))
    graph_inputs = [
        helper.make_tensor_value_info(
            column,
            TensorProto.FLOAT if fitted.columns[column] == "float" else TensorProto.STRING,
            ["N", 1],
        )
        for column in fitted.columns
        if column in used
    ]
    graph = helper.make_graph(
        builder.nodes, "shipyard_transform", graph_inputs, graph_outputs, builder.initializers
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid("ai.onnx.ml", ML_OPSET)],
        producer_name="shipyard.transform",
    )
    model.ir_version = 9
    onnx.checker.check_model(model)
    return model


def _needed(fitted: FittedTransform, wanted: list[str]) -> set[int]:
    needed: set[int] = set()
    stack = [fitted.outputs[name] for name in wanted]
    while stack:
        index = stack.pop()
        if index not in needed:
            needed.add(index)
            stack.extend(fitted.nodes[index].inputs)
    return needed


def _emit(b: _Builder, node: FittedNode, inputs: list[str]) -> str:
    f = node.fitted
    x = inputs[0]
    if node.op == "z_score":
        centered = b.add("Sub", [x, b.const(f["mean"], "float32")])
        return b.add("Div", [centered, b.const(f["std"], "float32")])
    if node.op == "min_max":
        shifted = b.add("Sub", [x, b.const(f["min"], "float32")])
        return b.add("Div", [shifted, b.const(f["range"], "float32")])
    if node.op == "log1p":
        return b.add("Log", [b.add("Add", [x, b.const(1.0, "float32")])])
    if node.op == "impute":
        if node.kind == "float":
            missing = b.add("IsNaN", [x])
            return b.add("Where", [missing, b.const(f["value"], "float32"), x])
        missing = b.add("Equal", [x, b.const("", "string")])
        return b.add("Where", [missing, b.const(f["value"], "string"), x])
    if node.op == "bucketize":
        boundaries = f["boundaries"]
        if not boundaries:
            zeros = b.add("Cast", [b.add("IsNaN", [x])], to=7)
            return b.add("Mul", [zeros, b.const(0, "int64")])
        above = b.add("GreaterOrEqual", [x, b.const(boundaries, "float32", [1, len(boundaries)])])
        counts = b.add("Cast", [above], to=7)
        return b.add("ReduceSum", [counts, b.const([1], "int64")], keepdims=1)
    if node.op in ("vocabulary", "hash_buckets"):
        return b.add(
            "LabelEncoder",
            [x],
            domain="ai.onnx.ml",
            keys_strings=[str(k) for k in f["keys"]],
            values_int64s=[int(i) for i in f["ids"]],
            default_int64=int(f["default"]),
        )
    if node.op == "cross":
        scaled = b.add("Mul", [x, b.const(f["size_b"], "int64")])
        summed = b.add("Add", [scaled, inputs[1]])
        return b.add("Mod", [summed, b.const(node.options["num_buckets"], "int64")], fmod=0)
    raise ValueError(f"unknown transform op {node.op!r}")


def onnx_feed(fitted: FittedTransform, table: Any, model: onnx.ModelProto) -> dict[str, Any]:
    """Return the `[N, 1]` input arrays `model` takes, read from raw rows `table`."""
    from shipyard.components.transform.apply import raw_values

    feed = {}
    for item in model.graph.input:
        values = raw_values(table, item.name, fitted.columns[item.name])
        feed[item.name] = values.reshape(-1, 1)
    return feed
