"""A throwaway S3-compatible object store for tests: moto's server, as a real process.

It listens on 127.0.0.1 on a free port and keeps everything in memory. `running_s3` yields
the environment a client needs (`AWS_ENDPOINT_URL`, credentials, region): botocore, s3fs
and every `shipyard` process given that environment talk to it as to S3, so an artifact
root `s3://BUCKET/prefix` is exercised end to end, uploads and listings included.

Example:
    >>> with running_s3(buckets=["artifacts"]) as environment:
    ...     os.environ.update(environment)
    ...     ArtifactStorage("s3://artifacts/shipyard", scratch_dir=tmp)
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from typing import TYPE_CHECKING

from shipyard.errors import StorageError
from shipyard.io.ports import free_port

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

__all__ = ["running_s3"]

INSTALL_HINT = 'Install moto\'s server and s3fs: pip install "moto[server]" s3fs'
_START_TIMEOUT_S = 30.0


@contextmanager
def running_s3(buckets: Sequence[str] = ()) -> Iterator[dict[str, str]]:
    """Start moto's S3 server, create `buckets`, and stop the server at exit.

    Yields:
        The environment variables that point S3 clients at the server.

    Raises:
        StorageError: moto's server is not installed or does not start.
    """
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_until_up(server, endpoint)
        environment = {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        for bucket in buckets:
            request = urllib.request.Request(f"{endpoint}/{bucket}", method="PUT")  # noqa: S310
            urllib.request.urlopen(request, timeout=10).close()  # noqa: S310 - our server
        yield environment
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if server.stderr is not None:
            server.stderr.close()


def _wait_until_up(server: subprocess.Popen[bytes], endpoint: str) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            error = server.stderr.read().decode(errors="replace") if server.stderr else ""
            hint = INSTALL_HINT if "No module named" in error else None
            raise StorageError(f"moto's S3 server exited at start: {error[-2000:]}", hint=hint)
        try:
            urllib.request.urlopen(f"{endpoint}/", timeout=1).close()  # noqa: S310
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.1)
            continue
        return
    raise StorageError(f"moto's S3 server did not answer at {endpoint} in {_START_TIMEOUT_S} s.")
