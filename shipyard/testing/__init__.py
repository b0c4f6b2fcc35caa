"""Fixtures and conformance checks for users and plugin authors.

`check_engine` and `check_store` are the plugin contract: Shipyard's own backends run them in
its CI, and third-party backends run them in theirs.
"""

from shipyard.testing.engine_checks import check_engine
from shipyard.testing.store_checks import check_store

__all__ = ["check_engine", "check_store"]
