"""`Pipeline`: a named graph of nodes, checked completely when it is built."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shipyard.dsl.location import caller_location
from shipyard.dsl.node import NAME_PATTERN, Node, Problem
from shipyard.errors import DefinitionError

if TYPE_CHECKING:
    from collections.abc import Sequence


class Pipeline:
    """A named, checked graph of nodes, in dependency order.

    Nodes that listed nodes read from are included automatically, so listing the last nodes
    is enough. Every wiring problem of every node, duplicate names and cycles are reported in
    one `DefinitionError`.

    Args:
        name: The pipeline's name; letters, digits, '_', '-' and '.'.
        nodes: The nodes, in any order.
        description: A line shown in run listings.

    Example:
        >>> raw = ingest(source="data/taxi.csv")
        >>> stats = compute_statistics(examples=raw.outputs.examples)
        >>> Pipeline("taxi", nodes=[raw, stats])
    """

    def __init__(self, name: str, nodes: Sequence[Node], *, description: str = "") -> None:
        self.name = name
        self.description = description
        self.location = caller_location()
        problems: list[Problem] = []
        if not isinstance(name, str) or not NAME_PATTERN.match(name):
            problems.append(
                Problem(
                    self.location,
                    f"pipeline name {name!r} must start with a letter or digit and contain only "
                    f"letters, digits, '_', '-' and '.'.",
                )
            )
        collected = _collect(nodes, problems)
        problems.extend(p for node in collected for p in node.problems)
        problems.extend(_name_problems(collected))
        order, cycle = _topological_order(collected)
        if cycle:
            path = " -> ".join(node.name for node in cycle)
            problems.append(Problem(cycle[0].location, f"the nodes form a cycle: {path}."))
        if problems:
            raise _definition_error(name, problems)
        self.nodes: list[Node] = order
        self.parameters: dict[str, Any] = {}
        """The arguments of the pipeline function that built it (set by `load_pipeline`)."""

    def __getitem__(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(f"pipeline {self.name!r} has no node {name!r}")

    def downstream(self, names: Sequence[str]) -> set[str]:
        """Return the given node names and every node that depends on them, transitively."""
        selected = set(names)
        for node in self.nodes:  # topological order: upstream nodes come first
            if any(up.name in selected for up in node.upstream):
                selected.add(node.name)
        return selected

    def __repr__(self) -> str:
        return f"<Pipeline {self.name} ({len(self.nodes)} nodes)>"


def _collect(nodes: Sequence[Node], problems: list[Problem]) -> list[Node]:
    collected: dict[int, Node] = {}
    pending = list(nodes)
    if not pending:
        problems.append(Problem(caller_location(), "a pipeline needs at least one node."))
    while pending:
        node = pending.pop(0)
        if not isinstance(node, Node):
            problems.append(
                Problem(
                    caller_location(),
                    f"nodes must be made by calling components, got {type(node).__name__} "
                    f"{node!r}.",
                )
            )
            continue
        if id(node) not in collected:
            collected[id(node)] = node
            pending.extend(node.upstream)
    return list(collected.values())


def _name_problems(nodes: list[Node]) -> list[Problem]:
    problems = []
    by_name: dict[str, list[Node]] = {}
    for node in nodes:
        by_name.setdefault(node.name, []).append(node)
        if not NAME_PATTERN.match(node.name):
            problems.append(
                Problem(
                    node.location,
                    f"node name {node.name!r} may hold only letters, digits, '_', '-' and '.'.",
                )
            )
    for name, same in by_name.items():
        if len(same) > 1:
            places = "; ".join(str(n.location) for n in same)
            problems.append(
                Problem(
                    same[1].location,
                    f"{len(same)} nodes are named {name!r} ({places}). Name each use with "
                    f".with_options(name=...), e.g. {name}(...).with_options(name='{name}_2').",
                )
            )
    return problems


def _topological_order(nodes: list[Node]) -> tuple[list[Node], list[Node]]:
    """Kahn's algorithm, stable in declaration order; returns (order, a cycle or [])."""
    remaining = {id(node): len(node.upstream) for node in nodes}
    consumers: dict[int, list[Node]] = {id(node): [] for node in nodes}
    for node in nodes:
        for up in node.upstream:
            consumers[id(up)].append(node)
    ready = [node for node in nodes if remaining[id(node)] == 0]
    order: list[Node] = []
    while ready:
        node = ready.pop(0)
        order.append(node)
        for consumer in consumers[id(node)]:
            remaining[id(consumer)] -= 1
            if remaining[id(consumer)] == 0:
                ready.append(consumer)
    if len(order) == len(nodes):
        return order, []
    return order, _find_cycle([node for node in nodes if remaining[id(node)] > 0])


def _find_cycle(stuck: list[Node]) -> list[Node]:
    stuck_ids = {id(node) for node in stuck}
    node = stuck[0]
    path: list[Node] = []
    while node not in path:
        path.append(node)
        node = next(up for up in node.upstream if id(up) in stuck_ids)
    return [*path[path.index(node) :], node]


def _definition_error(pipeline: str, problems: list[Problem]) -> DefinitionError:
    if len(problems) == 1:
        only = problems[0]
        return DefinitionError(
            f"Invalid pipeline definition ({only.location}):\n  {only.message}",
            problems=[str(only)],
        )
    listed = "\n".join(f"  {problem}" for problem in problems)
    return DefinitionError(
        f"Invalid pipeline definition: {len(problems)} problems in pipeline "
        f"{pipeline!r}:\n{listed}",
        problems=[str(p) for p in problems],
    )
