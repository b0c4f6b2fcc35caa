"""Export a trained network: ONNX composed with the transform, safetensors, signature.

The network (with its head) is written as ONNX from its weights when it is a canned
estimator (`network_onnx`), else exported with `torch.onnx.export` (dynamic batch); either
way its inputs are named `transformed/<feature>` like the transform graph's outputs, and
ONNX Runtime must compute what PyTorch does (`network_onnx.check_export`). It is merged with
`transform.onnx` (`onnx.compose.merge_models`), so `model.onnx` takes raw columns. For
classification a `LabelEncoder` maps `class_ids` to `class_labels` (the label vocabulary).
"""

from __future__ import annotations

import tempfile
import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.components.transform.fitted import OUTPUT_PREFIX

if TYPE_CHECKING:
    import onnx
    from torch import nn

    from shipyard.components.train.data import Problem
    from shipyard.components.transform.fitted import FittedTransform

OPSET = 19
ML_OPSET = 3


def output_names(problem: Problem) -> list[str]:
    """The network's ONNX outputs (before `class_labels` is added)."""
    return ["predictions"] if problem.task == "regression" else ["class_ids", "probabilities"]


_EXPORT_LOCK = threading.Lock()
"""`torch.onnx.export` keeps global state ("GLOBALS.in_onnx_export"), and
`warnings.catch_warnings` too: two trainings of one run exporting at once (independent nodes
run on threads) must take turns."""


def export_network(head: nn.Module, problem: Problem) -> onnx.ModelProto:
    """Export `head` (the network and its output head) to ONNX with a dynamic batch.

    Safe to call from several threads at once: exports take turns.
    """
    import onnx
    import torch

    head.eval()
    example = tuple(
        torch.zeros((2, 1), dtype=torch.float32 if f.kind == "float" else torch.int64)
        for f in problem.features
    )
    inputs = [OUTPUT_PREFIX + f.name for f in problem.features]
    outputs = output_names(problem)
    axes = {name: {0: "N"} for name in [*inputs, *outputs]}
    with _EXPORT_LOCK, tempfile.TemporaryDirectory() as directory, warnings.catch_warnings():
        # The TorchScript exporter is deprecated in favour of the dynamo one, which needs
        # onnxscript; the graphs our canned estimators make are plain and export the same.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        file = Path(directory) / "network.onnx"
        torch.onnx.export(
            head,
            example,
            file,
            input_names=inputs,
            output_names=outputs,
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,
        )
        return onnx.load(file)


def compose(
    transform: onnx.ModelProto, network: onnx.ModelProto, problem: Problem
) -> onnx.ModelProto:
    """Merge the transform graph and the network into one graph taking raw columns."""
    import onnx
    from onnx import TensorProto, compose, helper

    network.ir_version = transform.ir_version
    del network.opset_import[:]
    network.opset_import.extend(
        [helper.make_opsetid("", OPSET), helper.make_opsetid("ai.onnx.ml", ML_OPSET)]
    )
    outputs = output_names(problem)
    io_map = [(OUTPUT_PREFIX + f.name, OUTPUT_PREFIX + f.name) for f in problem.features]
    merged = compose.merge_models(
        transform,
        network,
        io_map=io_map,
        outputs=outputs,
        producer_name="shipyard.train",
        doc_string="Shipyard model: transform + network; raw columns in.",
    )
    if problem.task != "regression":
        merged.graph.node.append(
            helper.make_node(
                "LabelEncoder",
                ["class_ids"],
                ["class_labels"],
                domain="ai.onnx.ml",
                keys_int64s=list(range(len(problem.classes))),
                values_strings=list(problem.classes),
                default_string="",
            )
        )
        merged.graph.output.append(
            helper.make_tensor_value_info("class_labels", TensorProto.STRING, ["N"])
        )
    onnx.checker.check_model(merged)
    return merged


def signature(merged: onnx.ModelProto, problem: Problem, optional: set[str]) -> dict[str, Any]:
    """Return `signature.json`: inputs, outputs, task and label vocabulary."""
    from onnx import TensorProto

    def dtype(element: int) -> str:
        if element == TensorProto.FLOAT:
            return "float"
        if element == TensorProto.STRING:
            return "string"
        return str(TensorProto.DataType.Name(element)).lower()

    def shape(value: Any) -> list[int | None]:
        return [
            d.dim_value if d.HasField("dim_value") else None
            for d in value.type.tensor_type.shape.dim
        ]

    return {
        "version": 1,
        **task_fields(problem),
        "label": problem.label,
        "label_vocabulary": problem.classes or None,
        "inputs": [
            {
                "name": item.name,
                "dtype": dtype(item.type.tensor_type.elem_type),
                "shape": shape(item),
                "optional": item.name in optional,
            }
            for item in merged.graph.input
        ],
        "outputs": [
            {
                "name": item.name,
                "dtype": dtype(item.type.tensor_type.elem_type),
                "shape": shape(item),
            }
            for item in merged.graph.output
        ],
    }


def task_fields(problem: Problem) -> dict[str, Any]:
    """The task, why, and the positive class (binary), for the signature and the model card.

    Example:
        >>> task_fields(problem)
        {'task': 'binary', 'task_reason': "inferred: 'tip' holds 2 classes (no, yes)",
         'positive_class': 'yes', 'positive_class_reason': "'yes' reads as positive"}
    """
    fields: dict[str, Any] = {"task": problem.task, "task_reason": problem.task_reason}
    if problem.positive_class is not None:
        fields["positive_class"] = problem.positive_class.name
        fields["positive_class_reason"] = problem.positive_class.reason
    return fields


def weights_bytes(network: nn.Module) -> bytes:
    """Serialize the network's weights as safetensors."""
    from safetensors.torch import save

    state = {k: v.detach().cpu().contiguous() for k, v in network.state_dict().items()}
    return save(state)


STRING_SAFE = {"vocabulary", "hash_buckets", "cross"}
"""Transform ops that read a missing string as a value of their own."""


def optional_columns(fitted: FittedTransform) -> set[str]:
    """Raw columns serving may leave out: strings (missing is "", an out-of-vocabulary or
    hashed value) and numbers read only through `impute`."""
    consumers: dict[str, set[str]] = {}
    for node in fitted.nodes:
        for index in node.inputs:
            source = fitted.nodes[index]
            if source.op == "column":
                consumers.setdefault(str(source.options["name"]), set()).add(node.op)
    return {
        name
        for name, ops in consumers.items()
        if ops == {"impute"} or (fitted.columns.get(name) == "string" and ops <= STRING_SAFE)
    }
