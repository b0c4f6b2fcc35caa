"""Artifacts: the typed directories components read and write, and their codecs.

May import `shipyard.io`, `shipyard.errors` and `shipyard.plugins` only.
"""

from shipyard.artifacts.artifact import Artifact, artifact_type
from shipyard.artifacts.standard import Examples, Metrics

__all__ = ["Artifact", "Examples", "Metrics", "artifact_type"]
