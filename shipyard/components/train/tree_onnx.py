"""Convert a LightGBM model dump (`Booster.dump_model()`) to ONNX: a converter we own.

The trees become one `ai.onnx.ml.TreeEnsembleRegressor` (opset 3) over the features
concatenated as float32 `X [N, F]`; our own head turns its raw scores into the outputs of
`export.output_names`. LightGBM compares doubles, ONNX Runtime floats: each `<=` threshold is
rounded down to the largest float32 not above it, so every float32 input takes the same branch.
A categorical split on several categories becomes a chain of `BRANCH_EQ` nodes, each leading
to its own copy of the left subtree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shipyard.components.train.export import ML_OPSET, OPSET, output_names
from shipyard.components.transform.fitted import OUTPUT_PREFIX
from shipyard.errors import DataError

if TYPE_CHECKING:
    from collections.abc import Mapping

    import numpy as np
    import onnx

    from shipyard.components.train.data import Problem

MODES = ("LEAF", "BRANCH_LEQ", "BRANCH_EQ")
"""Node modes by code, as stored in `TreeArrays.modes`."""

LEAF, BRANCH_LEQ, BRANCH_EQ = 0, 1, 2

_OBJECTIVES = {
    "binary": {"binary"},
    "multiclass": {"multiclass"},
    "regression": {"regression", "regression_l1", "huber", "fair", "quantile", "mape"},
}


@dataclass(frozen=True)
class TreeArrays:
    """The ensemble as flat arrays in the layout of `TreeEnsembleRegressor`.

    Attributes:
        tree_ids: The tree of each node.
        node_ids: Each node's id within its tree (`0` is the root).
        feature_ids: The column of `X` a branch reads (0 for leaves).
        modes: The node mode as an index into `MODES`.
        values: The float32 threshold ONNX compares with (0 for leaves).
        thresholds: LightGBM's own threshold, in double (0 for leaves).
        true_ids: The node taken when the comparison holds (0 for leaves).
        false_ids: The node taken otherwise (0 for leaves).
        missing_tracks_true: 1 where NaN takes the true branch.
        leaf_tree_ids: The tree of each leaf.
        leaf_node_ids: Each leaf's node id.
        leaf_targets: The score (class for multiclass, else 0) each leaf adds to.
        leaf_values: The value each leaf adds, in double.
        n_targets: The number of raw scores per row.
    """

    tree_ids: np.ndarray
    node_ids: np.ndarray
    feature_ids: np.ndarray
    modes: np.ndarray
    values: np.ndarray
    thresholds: np.ndarray
    true_ids: np.ndarray
    false_ids: np.ndarray
    missing_tracks_true: np.ndarray
    leaf_tree_ids: np.ndarray
    leaf_node_ids: np.ndarray
    leaf_targets: np.ndarray
    leaf_values: np.ndarray
    n_targets: int


def float32_at_most(threshold: float) -> float:
    """Return the largest float32 <= `threshold`: `x <= it` iff `x <= threshold` for float32 x."""
    import numpy as np

    with np.errstate(over="ignore"):
        rounded = np.float32(threshold)
    if float(rounded) > threshold:
        rounded = np.nextafter(rounded, np.float32(-np.inf))
    return float(rounded)


def flatten(model: Mapping[str, Any]) -> TreeArrays:
    """Flatten the trees of a LightGBM dump into node and leaf arrays.

    Raises:
        DataError: The dump uses a split ONNX cannot express (zero-as-missing splits).
    """
    import numpy as np

    per_iteration = int(model.get("num_tree_per_iteration", 1))
    rows: list[tuple[int, int, int, int, float, float, int, int, int]] = []
    leaves: list[tuple[int, int, int, float]] = []
    for tree in model["tree_info"]:
        tree_id = int(tree["tree_index"])
        _flatten_tree(tree["tree_structure"], tree_id, tree_id % per_iteration, rows, leaves)
    rows.sort(key=lambda row: (row[0], row[1]))
    leaves.sort(key=lambda leaf: (leaf[0], leaf[1]))
    node_columns = list(zip(*rows, strict=True)) if rows else [()] * 9
    leaf_columns = list(zip(*leaves, strict=True)) if leaves else [()] * 4
    integers = [np.asarray(column, dtype=np.int64) for column in node_columns]
    return TreeArrays(
        tree_ids=integers[0],
        node_ids=integers[1],
        feature_ids=integers[2],
        modes=np.asarray(node_columns[3], dtype=np.uint8),
        values=np.asarray(node_columns[4], dtype=np.float32),
        thresholds=np.asarray(node_columns[5], dtype=np.float64),
        true_ids=integers[6],
        false_ids=integers[7],
        missing_tracks_true=np.asarray(node_columns[8], dtype=np.uint8),
        leaf_tree_ids=np.asarray(leaf_columns[0], dtype=np.int64),
        leaf_node_ids=np.asarray(leaf_columns[1], dtype=np.int64),
        leaf_targets=np.asarray(leaf_columns[2], dtype=np.int64),
        leaf_values=np.asarray(leaf_columns[3], dtype=np.float64),
        n_targets=per_iteration,
    )


def _flatten_tree(
    root: Mapping[str, Any],
    tree_id: int,
    target: int,
    rows: list[tuple[int, int, int, int, float, float, int, int, int]],
    leaves: list[tuple[int, int, int, float]],
) -> None:
    """Append one tree's nodes; ids are assigned as nodes are reached (root 0)."""
    stack: list[tuple[Mapping[str, Any], int]] = [(root, 0)]
    next_id = 1
    while stack:
        node, node_id = stack.pop()
        if "split_feature" not in node:
            rows.append((tree_id, node_id, 0, LEAF, 0.0, 0.0, 0, 0, 0))
            leaves.append((tree_id, node_id, target, float(node["leaf_value"])))
            continue
        feature = int(node["split_feature"])
        if node["decision_type"] == "==":
            # x in {c1, ..., ck} -> left: x == c1 -> left, else x == c2 -> left, ... else right
            current = node_id
            for category in str(node["threshold"]).split("||"):
                left, after = next_id, next_id + 1
                next_id += 2
                value = float(int(category))
                rows.append((tree_id, current, feature, BRANCH_EQ, value, value, left, after, 0))
                stack.append((node["left_child"], left))
                current = after
            stack.append((node["right_child"], current))
            continue
        threshold = float(node["threshold"])
        missing = str(node.get("missing_type", "None"))
        if missing == "Zero":
            raise DataError(
                f"tree {tree_id} treats zero as missing on feature {feature} "
                f"(zero_as_missing); the ONNX converter cannot express that: train without it."
            )
        # LightGBM sends NaN to the default side (missing NaN) or compares it as 0 (None).
        nan_left = bool(node["default_left"]) if missing == "NaN" else 0.0 <= threshold
        left, right = next_id, next_id + 1
        next_id += 2
        rows.append(
            (
                tree_id,
                node_id,
                feature,
                BRANCH_LEQ,
                float32_at_most(threshold),
                threshold,
                left,
                right,
                int(nan_left),
            )
        )
        stack.append((node["right_child"], right))
        stack.append((node["left_child"], left))


def ensemble_to_onnx(model: Mapping[str, Any], problem: Problem) -> onnx.ModelProto:
    """Return the ONNX graph of a LightGBM dump: `transformed/<feature>` in, the outputs out.

    Inputs are `[N, 1]` tensors, float32 for float features and int64 for ids; outputs are
    `class_ids` and `probabilities` (classification) or `predictions` (regression).

    Raises:
        DataError: The dump's objective does not fit `problem.task`, or a split cannot be
            expressed in ONNX.
    """
    import onnx
    from onnx import TensorProto, helper

    objective = str(model.get("objective", "")).split()
    if not objective or objective[0] not in _OBJECTIVES[problem.task] or "sqrt" in objective:
        raise DataError(
            f"cannot export a LightGBM model with objective {' '.join(objective)!r} for a "
            f"{problem.task} task; train it with the {sorted(_OBJECTIVES[problem.task])[0]!r} "
            f"objective."
        )
    if model.get("average_output"):
        raise DataError("cannot export a LightGBM random forest (average_output); use gbdt.")
    arrays = flatten(model)
    nodes: list[onnx.NodeProto] = []
    inputs = []
    columns = []
    for feature in problem.features:
        name = OUTPUT_PREFIX + feature.name
        if feature.kind == "float":
            inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, ["N", 1]))
            columns.append(name)
        else:
            inputs.append(helper.make_tensor_value_info(name, TensorProto.INT64, ["N", 1]))
            columns.append(f"trees/float/{feature.name}")
            nodes.append(helper.make_node("Cast", [name], [columns[-1]], to=TensorProto.FLOAT))
    nodes.append(helper.make_node("Concat", columns, ["trees/x"], axis=1))
    nodes.append(_ensemble_node(arrays, "trees/x", "trees/scores"))
    initializers = []
    names = output_names(problem)
    if problem.task == "regression":
        initializers.append(helper.make_tensor("trees/axes", TensorProto.INT64, [1], [1]))
        nodes.append(helper.make_node("Squeeze", ["trees/scores", "trees/axes"], names))
        outputs = [helper.make_tensor_value_info(names[0], TensorProto.FLOAT, ["N"])]
    else:
        if problem.task == "binary":
            scores = "trees/scores"
            scale = _sigmoid_scale(objective)
            if scale != 1.0:
                initializers.append(
                    helper.make_tensor("trees/scale", TensorProto.FLOAT, [], [scale])
                )
                nodes.append(helper.make_node("Mul", [scores, "trees/scale"], ["trees/scaled"]))
                scores = "trees/scaled"
            initializers.append(helper.make_tensor("trees/one", TensorProto.FLOAT, [], [1.0]))
            nodes.append(helper.make_node("Sigmoid", [scores], ["trees/p1"]))
            nodes.append(helper.make_node("Sub", ["trees/one", "trees/p1"], ["trees/p0"]))
            nodes.append(helper.make_node("Concat", ["trees/p0", "trees/p1"], [names[1]], axis=1))
        else:
            nodes.append(helper.make_node("Softmax", ["trees/scores"], [names[1]], axis=1))
        nodes.append(helper.make_node("ArgMax", [names[1]], [names[0]], axis=1, keepdims=0))
        outputs = [
            helper.make_tensor_value_info(names[0], TensorProto.INT64, ["N"]),
            helper.make_tensor_value_info(names[1], TensorProto.FLOAT, ["N", len(problem.classes)]),
        ]
    graph = helper.make_graph(nodes, "boosted_trees", inputs, outputs, initializers)
    result = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid("ai.onnx.ml", ML_OPSET)],
        producer_name="shipyard.train",
    )
    result.ir_version = 9
    onnx.checker.check_model(result, full_check=True)
    return result


def _ensemble_node(arrays: TreeArrays, source: str, target: str) -> onnx.NodeProto:
    from onnx import helper

    return helper.make_node(
        "TreeEnsembleRegressor",
        [source],
        [target],
        domain="ai.onnx.ml",
        n_targets=arrays.n_targets,
        aggregate_function="SUM",
        post_transform="NONE",
        base_values=[0.0] * arrays.n_targets,
        nodes_treeids=arrays.tree_ids.tolist(),
        nodes_nodeids=arrays.node_ids.tolist(),
        nodes_featureids=arrays.feature_ids.tolist(),
        nodes_modes=[MODES[mode] for mode in arrays.modes.tolist()],
        nodes_values=arrays.values.tolist(),
        nodes_truenodeids=arrays.true_ids.tolist(),
        nodes_falsenodeids=arrays.false_ids.tolist(),
        nodes_missing_value_tracks_true=arrays.missing_tracks_true.tolist(),
        target_treeids=arrays.leaf_tree_ids.tolist(),
        target_nodeids=arrays.leaf_node_ids.tolist(),
        target_ids=arrays.leaf_targets.tolist(),
        target_weights=arrays.leaf_values.astype("float32").tolist(),
    )


def _sigmoid_scale(objective: list[str]) -> float:
    """The `sigmoid:` parameter of a binary objective (`binary sigmoid:1`)."""
    for part in objective:
        if part.startswith("sigmoid:"):
            return float(part.split(":", 1)[1])
    return 1.0
