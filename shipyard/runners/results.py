"""What a run returns: its state and, per node, state, timing, outputs and error."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, overload

from shipyard.dsl import OutputRef

if TYPE_CHECKING:
    from shipyard.artifacts import Artifact
    from shipyard.errors import ComponentFailed, PlatformError

NodeState = Literal[
    "pending", "waiting", "running", "complete", "cached", "failed", "skipped", "interrupted"
]
DONE_STATES = ("complete", "cached")


@dataclass
class NodeRun:
    """One node's part in a run.

    Attributes:
        name: The node's name.
        component: Its component's name.
        state: pending, waiting (for another run's execution with the same cache key),
            running, complete, cached, failed, skipped or interrupted (a Ctrl-C stopped it;
            the store records it interrupted, with the reason).
        execution_id: Its execution in the metadata store.
        duration_s: How long it took (a cached node: the lookup).
        outputs: Output artifacts by port.
        error: Why it failed: `ComponentFailed` with the user's traceback, or a
            `PlatformError` when Shipyard could not do its part (publish, disk, store).
        cached_from: The execution whose outputs a cached node reused.
    """

    name: str
    component: str
    state: NodeState = "pending"
    execution_id: int | None = None
    duration_s: float | None = None
    outputs: dict[str, Artifact] = field(default_factory=dict)
    error: ComponentFailed | PlatformError | None = None
    cached_from: int | None = None


@dataclass
class Run:
    """The result of running a pipeline: `run["train"].outputs["model"]`, `run.ok`."""

    id: str
    pipeline: str
    state: str
    duration_s: float
    nodes: dict[str, NodeRun]
    store_url: str
    artifact_root: str

    @property
    def ok(self) -> bool:
        """Whether every node completed or was cached."""
        return self.state == "complete"

    @property
    def failed(self) -> list[NodeRun]:
        """The nodes that failed."""
        return [node for node in self.nodes.values() if node.state == "failed"]

    @overload
    def __getitem__(self, key: str) -> NodeRun: ...

    @overload
    def __getitem__(self, key: OutputRef) -> Artifact: ...

    def __getitem__(self, key: str | OutputRef) -> NodeRun | Artifact:
        """Return a node's result by name, or an output artifact by its `OutputRef`."""
        if isinstance(key, OutputRef):
            return self.nodes[key.node.name].outputs[key.port]
        return self.nodes[key]

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(n.name)}</td><td>{html.escape(n.component)}</td>"
            f"<td>{n.state}</td><td>{'' if n.duration_s is None else f'{n.duration_s:.2f} s'}</td>"
            f"<td>{html.escape(', '.join(a.uri for a in n.outputs.values()))}</td></tr>"
            for n in self.nodes.values()
        )
        return (
            f"<div><b>Run {html.escape(self.id)}</b> of {html.escape(self.pipeline)}: "
            f"{self.state} in {self.duration_s:.2f} s<table><tr><th>node</th><th>component</th>"
            f"<th>state</th><th>time</th><th>outputs</th></tr>{rows}</table></div>"
        )
