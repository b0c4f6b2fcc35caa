"""`shipyard lineage ID`: the upstream and downstream graph of an artifact, as a tree."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from shipyard.cli.options import JsonOption, StoreOption

if TYPE_CHECKING:
    from rich.tree import Tree


def lineage_command(
    artifact_id: Annotated[int, typer.Argument(help="The artifact's id.")],
    depth: Annotated[int, typer.Option("--depth", min=1, help="How many steps to follow.")] = 10,
    store: StoreOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show where an artifact came from and what was made from it."""
    from rich.tree import Tree

    from shipyard.cli.output import console, print_json
    from shipyard.runners import Project
    from shipyard.runners.queries import lineage

    with Project.open(store=store, create=False) as project:
        graph = lineage(project, artifact_id, depth=depth)
    if json_output:
        print_json(graph)
        return
    root = Tree(_artifact_label(graph["artifact"]))
    upstream = root.add("[bold]upstream[/] (made from)")
    if graph["upstream"] is None:
        upstream.add("[dim]nothing recorded[/]")
    else:
        _add_upstream(upstream, graph["upstream"])
    downstream = root.add("[bold]downstream[/] (used by)")
    if not graph["downstream"]:
        downstream.add("[dim]not used yet[/]")
    for tree in graph["downstream"]:
        _add_downstream(downstream, tree)
    console().print(root)


def _artifact_label(artifact: dict[str, Any]) -> str:
    return f"[cyan]#{artifact['id']} {artifact['type']}[/] {artifact['name']}"


def _execution_label(execution: dict[str, Any]) -> str:
    return (
        f"[yellow]{execution['node']}[/] ({execution['component']}, execution {execution['id']}, "
        f"run {execution['run']}, {execution['state']})"
    )


def _add_upstream(parent: Tree, producer: dict[str, Any]) -> None:
    branch = parent.add(_execution_label(producer["execution"]))
    for item in producer["inputs"]:
        child = branch.add(f"{item['port']}: {_artifact_label(item['artifact'])}")
        if item["producer"] is not None:
            _add_upstream(child, item["producer"])


def _add_downstream(parent: Tree, consumer: dict[str, Any]) -> None:
    branch = parent.add(_execution_label(consumer["execution"]))
    for item in consumer["outputs"]:
        child = branch.add(f"{item['port']}: {_artifact_label(item['artifact'])}")
        for tree in item["consumers"]:
            _add_downstream(child, tree)
