"""Run the real `shipyard` command in a subprocess, as a user would."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

from tests.environment import child_environment

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


def shipyard(
    cwd: Path, *args: str, env: dict[str, str] | None = None, site: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `shipyard ARGS` in `cwd`, without the caller's SHIPYARD_* settings.

    `env` adds or overrides variables (a 200-column terminal by default). `site` goes first
    on PYTHONPATH: its `sitecustomize.py` runs before Shipyard starts.
    """
    return subprocess.run(
        [sys.executable, "-m", "shipyard", *args],
        cwd=cwd,
        env=_environment(env, site),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@contextlib.contextmanager
def shipyard_serve(cwd: Path, *args: str, site: Path | None = None) -> Iterator[str]:
    """Run `shipyard serve ARGS --port PORT` in the background; yield its URL once ready.

    Ready is KServe's `/v2/health/ready`: every model has a version loaded. The server's
    output goes to `cwd/serve.log`, shown when it exits early or never gets ready.
    """
    from shipyard.io.ports import free_port

    port = free_port()
    log = cwd / "serve.log"
    url = f"http://127.0.0.1:{port}"
    with (
        log.open("w") as output,
        subprocess.Popen(
            [sys.executable, "-m", "shipyard", "serve", *args, "--port", str(port)],
            cwd=cwd,
            env=_environment(None, site),
            stdout=output,
            stderr=subprocess.STDOUT,
        ) as server,
    ):
        try:
            for _ in range(600):
                try:
                    with urllib.request.urlopen(f"{url}/v2/health/ready", timeout=5):
                        break
                except (OSError, urllib.error.HTTPError):
                    assert server.poll() is None, log.read_text()
                    time.sleep(0.1)
            else:
                raise AssertionError(f"shipyard serve never got ready:\n{log.read_text()}")
            yield url
        finally:
            server.terminate()
            server.wait(timeout=30)


def post_json(url: str, body: str | dict[str, Any]) -> Any:
    """POST `body` (JSON, or a JSON text as a user would type it) and decode the answer."""
    data = (body if isinstance(body, str) else json.dumps(body)).encode()
    with urllib.request.urlopen(url, data=data, timeout=30) as response:
        return json.loads(response.read())


def _environment(extra: dict[str, str] | None, site: Path | None) -> dict[str, str]:
    env = {
        **child_environment(),
        "COLUMNS": "200",
        **(extra or {}),
    }
    if site is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    return env
