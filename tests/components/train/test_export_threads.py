"""Exporting networks from several threads at once (independent train nodes of one run)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import onnx

from shipyard.components.train.estimators import Head
from shipyard.components.train.export import export_network
from tests.components.train.test_loop import PROBLEM, network


def test_concurrent_exports_all_succeed() -> None:
    heads = [Head(network(), classification=True) for _ in range(6)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        graphs = list(pool.map(lambda head: export_network(head, PROBLEM), heads))
    assert len(graphs) == 6
    for graph in graphs:
        onnx.checker.check_model(graph)
        assert [o.name for o in graph.graph.output] == ["class_ids", "probabilities"]
