"""Storage primitives: fsspec locations, atomic publishing, content fingerprints.

The lowest layer: imports nothing of Shipyard but `shipyard.errors`.
"""

from shipyard.io.fingerprints import FingerprintCache
from shipyard.io.hashing import fingerprint_path
from shipyard.io.storage import ArtifactStorage

__all__ = ["ArtifactStorage", "FingerprintCache", "fingerprint_path"]
