"""Compile pipelines for other orchestrators: Kubeflow Pipelines (`kubeflow`).

A compiled pipeline runs each node as `shipyard execute-node` in a container of the
project's image (`shipyard.compile.image`), against a metadata store and an artifact root
that every task shares.
"""

from __future__ import annotations

from shipyard.compile.kubeflow import KubeflowOptions, compile_kubeflow, to_yaml

__all__ = ["KubeflowOptions", "compile_kubeflow", "to_yaml"]
