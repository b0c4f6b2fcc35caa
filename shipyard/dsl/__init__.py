"""The pipeline DSL: the `@component` decorator, `Out[T]`, `Node`, `Pipeline`, graph checks.

May import `shipyard.artifacts`, `shipyard.io`, `shipyard.errors` and `shipyard.config`;
never runners, engines or the store.
"""

from shipyard.dsl.component import Component, InputSpec, Out, OutputSpec, ParameterSpec, component
from shipyard.dsl.loading import load_pipeline, parse_param
from shipyard.dsl.node import Node, OutputRef
from shipyard.dsl.pipeline import Pipeline
from shipyard.dsl.resolvers import Latest, latest, latest_blessed_model
from shipyard.dsl.resources import Resources

__all__ = [
    "Component",
    "InputSpec",
    "Latest",
    "Node",
    "Out",
    "OutputRef",
    "OutputSpec",
    "ParameterSpec",
    "Pipeline",
    "Resources",
    "component",
    "latest",
    "latest_blessed_model",
    "load_pipeline",
    "parse_param",
]
