"""`shipyard image`: build the container image a compiled pipeline names.

The Dockerfile ships in the package (`DOCKERFILE`); the build context is the project's
directory, copied to the image's working directory `/workspace`, so the pipeline file and
its data keep the paths they have here.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Final

from shipyard.errors import NotFoundError

DOCKERFILE: Final = Path(__file__).with_name("Dockerfile")
"""The Dockerfile of the image: Python, PyTorch's CPU wheel, Shipyard and fsspec stores."""


def build_command(
    tag: str, *, context: Path, shipyard_spec: str | None = None, tool: str = "docker"
) -> list[str]:
    """The command that builds the image `tag` from `context` with the packaged Dockerfile.

    Args:
        tag: The image name the compiled YAML names (`--image`).
        context: The project's directory.
        shipyard_spec: What pip installs, e.g. `shipyard[train,postgres]==0.9` or a path to
            a wheel inside the context (default: the Dockerfile's).
        tool: `docker` or `podman` (same arguments).
    """
    command = [tool, "build", "-t", tag, "-f", str(DOCKERFILE)]
    if shipyard_spec is not None:
        command += ["--build-arg", f"SHIPYARD_SPEC={shipyard_spec}"]
    return [*command, str(context)]


def find_tool(tool: str) -> str:
    """The path of `docker` (or `podman`).

    Raises:
        NotFoundError: It is not installed; the message gives the command to run elsewhere.
    """
    found = shutil.which(tool)
    if found is None:
        raise NotFoundError(
            f"{tool} is not on PATH, so the image cannot be built here.",
            hint=f"Build it where {tool} runs with: "
            + " ".join(build_command("IMAGE", context=Path(".")))
            + " (or print the command with --print).",
        )
    return found
