"""The fitted transform: the expression graph flattened in order, with its analyzers' values.

It is plain data: `to_spec` gives the JSON stored in the `TransformGraph` artifact and
`from_spec` reads it back without running any user code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shipyard.errors import DataError

if TYPE_CHECKING:
    from shipyard.components.transform.expressions import Kind

SPEC_VERSION = 1
OUTPUT_PREFIX = "transformed/"


@dataclass(frozen=True)
class FittedNode:
    """One op with its fitted values.

    Attributes:
        op: The op's name (`column`, `impute`, `z_score`, ...).
        kind: `float`, `string` or `id`.
        inputs: Indices of its input nodes (always earlier nodes).
        options: The options the preprocessing function gave.
        fitted: What the analyzers computed (`mean`, `boundaries`, `keys`, ...).
    """

    op: str
    kind: Kind
    inputs: tuple[int, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)
    fitted: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FittedTransform:
    """A preprocessing graph fitted over a train split.

    Attributes:
        nodes: The ops, each after its inputs.
        outputs: Output name -> index of the node that computes it.
        columns: Raw column name -> kind (`float` or `string`).
        label: The label column, if any.
        label_vocabulary: The class names by id when the label is a string mapped with
            `vocabulary`; None otherwise.
    """

    nodes: list[FittedNode]
    outputs: dict[str, int]
    columns: dict[str, Kind]
    label: str | None = None
    label_vocabulary: list[str] | None = None

    def columns_of(self, output: str) -> set[str]:
        """Return the raw columns one output reads."""
        found: set[str] = set()
        stack = [self.outputs[output]]
        while stack:
            node = self.nodes[stack.pop()]
            if node.op == "column":
                found.add(str(node.options["name"]))
            stack.extend(node.inputs)
        return found

    def serving_outputs(self) -> list[str]:
        """Return the outputs that do not read the label: what serving computes."""
        return [
            name
            for name in self.outputs
            if self.label is None or self.label not in self.columns_of(name)
        ]

    def to_spec(self) -> dict[str, Any]:
        """Return the JSON form."""
        serving = self.serving_outputs()
        inputs: set[str] = set()
        for name in serving:
            inputs |= self.columns_of(name)
        return {
            "version": SPEC_VERSION,
            "columns": dict(self.columns),
            "nodes": [
                {
                    "op": n.op,
                    "kind": n.kind,
                    "inputs": list(n.inputs),
                    "options": n.options,
                    "fitted": n.fitted,
                }
                for n in self.nodes
            ],
            "outputs": dict(self.outputs),
            "label": self.label,
            "label_vocabulary": self.label_vocabulary,
            "onnx": {
                "inputs": {name: name for name in self.columns if name in inputs},
                "outputs": {name: OUTPUT_PREFIX + name for name in serving},
            },
        }

    @classmethod
    def from_spec(
        cls, spec: dict[str, Any], *, source: str = "<transform spec>"
    ) -> FittedTransform:
        """Read the JSON form back.

        Raises:
            DataError: The spec is of another version or malformed.
        """
        if spec.get("version") != SPEC_VERSION:
            raise DataError(
                f"transform spec version {spec.get('version')!r}, expected {SPEC_VERSION}; "
                f"re-run the transform component with this Shipyard version.",
                path=source,
            )
        try:
            nodes = [
                FittedNode(
                    n["op"], n["kind"], tuple(n["inputs"]), dict(n["options"]), dict(n["fitted"])
                )
                for n in spec["nodes"]
            ]
            return cls(
                nodes=nodes,
                outputs={str(k): int(v) for k, v in spec["outputs"].items()},
                columns=dict(spec["columns"]),
                label=spec.get("label"),
                label_vocabulary=spec.get("label_vocabulary"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(
                f"malformed transform spec ({type(exc).__name__}: {exc}); re-run the "
                f"transform component.",
                path=source,
            ) from exc
