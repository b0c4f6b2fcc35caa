"""Fixtures and conformance checks for users and plugin authors.

`check_engine`, `check_store` and `check_artifact_type` are the plugin contract: Shipyard's
own backends and artifact types run them in its CI, and third-party ones run them in theirs.
"""

from shipyard.testing.artifact_checks import check_artifact_type
from shipyard.testing.engine_checks import check_engine
from shipyard.testing.store_checks import check_store

__all__ = ["check_artifact_type", "check_engine", "check_store"]
