"""The Ray engine (`--engine ray`, the "ray" extra): nodes as Ray tasks on a cluster.

Each task is a Ray task that runs `shipyard.engines.task.execute_task` on a worker, with the
CPUs, GPUs and memory its node declares (`Resources`); progress and stop requests cross a
small channel actor. Importing this package imports Ray: the runner imports it only when a run
asks for the `ray` engine, so the embedded path never does.
"""

from shipyard.engines.ray.engine import RayEngine

__all__ = ["RayEngine"]
