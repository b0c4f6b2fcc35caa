"""Free TCP ports for the servers Shipyard starts itself (endpoints, rendezvous, test servers)."""

from __future__ import annotations

import contextlib
import socket

__all__ = ["free_port", "free_ports"]


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port nothing listens on at `host` now.

    Another process may take it before the caller binds it; callers that start a server on
    it check that the server came up.
    """
    return free_ports(1, host)[0]


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """Return `count` distinct TCP ports free at `host` now (held open together while chosen)."""
    with contextlib.ExitStack() as stack:
        probes = []
        for _ in range(count):
            probe = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            probe.bind((host, 0))
            probes.append(probe)
        return [int(probe.getsockname()[1]) for probe in probes]
