"""A module the warm-worker tests preload; importing it takes SHIPYARD_TEST_IMPORT_S seconds."""

import os
import time

time.sleep(float(os.environ.get("SHIPYARD_TEST_IMPORT_S", "0")))
