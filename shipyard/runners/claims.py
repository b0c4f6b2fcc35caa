"""Runs that reach the same cache key at once: one executes, the others wait for its result.

Before a node executes, its run claims the node's cache key in the store
(`MetadataStore.claim_execution`). The first claimer starts the execution and owns the
checkpoint directory of that key; every other run (and every other node of the same run)
with that key waits, without an engine slot, until the holder ends:

- it completes: the waiter reuses its outputs, as from the cache (state `cached`);
- it fails or is interrupted (Ctrl-C): the waiter claims the key again and executes,
  resuming from the checkpoint the execution left, which no live execution writes any more;
- its process died (same host, the recorded pid is gone) or its run ended without ending it:
  the waiter marks that run abandoned, then claims again.

Two identical nodes of one run (same component, parameters and inputs) both execute, as
they always have: the first owns the checkpoint directory, the second runs beside it without
one. So no execution ever resumes from the checkpoint of a live one, and identical runs
started at once train (and push) once. A holder on another host is waited for as long as its
run says it is running: only that host can tell its process is gone.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final

from shipyard.runners.liveness import run_is_dead

if TYPE_CHECKING:
    from collections.abc import Mapping

    from shipyard.io import ArtifactStorage
    from shipyard.store import Claim, ExecutionRecord, MetadataStore

__all__ = ["CLAIM_POLL_S", "Claims"]

CLAIM_POLL_S: Final = 0.5
"""How often a waiting node looks at the execution it waits for, in seconds."""

logger = logging.getLogger("shipyard.runners")


class Claims:
    """The cache-key claims of one run, and the nodes waiting for another execution.

    Args:
        store: The run's metadata store.
        storage: Its artifact storage (a dead holder's staging is removed with its run).
        run_id: The run claiming.
    """

    def __init__(self, store: MetadataStore, storage: ArtifactStorage, run_id: str) -> None:
        self.store = store
        self.storage = storage
        self.run_id = run_id
        self.waiting: dict[str, ExecutionRecord] = {}
        """The execution each waiting node (by name) waits for."""

    def claim(
        self, node: str, identity: Mapping[str, Any], inputs: Mapping[str, int], *, reuse: bool
    ) -> Claim | None:
        """Claim a node's cache key; None while another live execution holds it.

        Args:
            node: The node's name.
            identity: `node`, `component`, `parameters` and `cache_key` of the execution.
            inputs: Its input artifact ids by port.
            reuse: Whether a complete execution with the key may answer (cached nodes).

        Returns:
            A "started" claim (execute it, with the key's checkpoint directory), a "cached"
            one (reuse it), a "held" one naming an execution of this same run (execute
            beside it, without a checkpoint directory), or None: wait.
        """
        holder = self.waiting.get(node)
        if holder is not None and not self._gone(holder):
            return None
        while True:
            claim = self.store.claim_execution(self.run_id, **identity, inputs=inputs, reuse=reuse)
            if claim.outcome != "held" or claim.execution.run_id == self.run_id:
                self.waiting.pop(node, None)
                return claim
            if not self._gone(claim.execution):
                if self.waiting.get(node) != claim.execution:
                    logger.info("%s waits for %s", node, self.describe(claim.execution))
                self.waiting[node] = claim.execution
                return None

    def describe(self, holder: ExecutionRecord) -> str:
        """Say which execution, of which run and process, a node waits for."""
        owner = self.store.get_run(holder.run_id).properties
        return (
            f"node {holder.node!r} of run {holder.run_id} (pid {owner.get('pid')} on "
            f"{owner.get('host')}), which is executing it with the same inputs"
        )

    def _gone(self, holder: ExecutionRecord) -> bool:
        """Whether `holder` ended, or never will: its run ended or its process is dead.

        A holder that will never end is marked abandoned with its run.
        """
        if self.store.get_execution(holder.id).state != "running":
            return True
        run = self.store.get_run(holder.run_id)
        dead = run_is_dead(run)
        if run.state == "running" and not dead:
            return False
        logger.warning(
            "execution %s of node %s holds its cache key but its run %s is %s; "
            "marking it abandoned",
            holder.id,
            holder.node,
            run.id,
            "dead" if dead else run.state,
        )
        self.store.abandon_run(run.id)
        if dead:
            self.storage.discard_run_staging(run.id)
        return True
