"""Options shared by several commands, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        envvar="SHIPYARD_STORE",
        help="Metadata store URL (sqlite:///path.db or postgresql://user@host/db). "
        "Default: store.db in the nearest .shipyard/ at or above the working directory.",
        show_default=False,
    ),
]
ArtifactRootOption = Annotated[
    str | None,
    typer.Option(
        "--artifact-root",
        envvar="SHIPYARD_ARTIFACT_ROOT",
        help="Directory or fsspec URL artifacts are published under. "
        "Default: artifacts/ in the project's .shipyard/",
        show_default=False,
    ),
]
DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        envvar="SHIPYARD_DATA_DIR",
        help="The platform server's local directory: jobs' working directories, endpoints' "
        "models, SQLite projects' stores. Default: the artifact root; required when that is "
        "an object store (s3://...).",
        show_default=False,
    ),
]
ModelsDirOption = Annotated[
    Path, typer.Option("--models-dir", help="The model repository push writes to.")
]
ModelConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--model-config",
        metavar="FILE",
        help="The model config holding the labels. Default: MODELS_DIR/models.yaml.",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON on stdout for scripts.")]
DataArgument = Annotated[
    str,
    typer.Argument(
        help="Data to read: a CSV, Parquet, JSON lines or Arrow IPC file, a glob or a directory."
    ),
]
FormatOption = Annotated[
    str,
    typer.Option(
        "--format", help="The data's format: csv, parquet, jsonl, arrow or auto (by extension)."
    ),
]
EngineOption = Annotated[
    str,
    typer.Option(
        "--engine",
        envvar="SHIPYARD_ENGINE",
        help="Where nodes run: threads (in this process), processes (a pool of worker "
        "processes: CPU-bound nodes in parallel, stopped at once by Ctrl-C), ray (Ray tasks "
        "on a cluster, with each node's resources; the ray extra), or an engine a plugin "
        "registers.",
    ),
]
AddressOption = Annotated[
    str | None,
    typer.Option(
        "--address",
        help="The cluster of --engine ray: HOST:PORT, auto, or ray://HOST:10001. Default: "
        "RAY_ADDRESS, else a cluster started on this machine, else a local Ray.",
        show_default=False,
    ),
]
OidcIssuerOption = Annotated[
    str | None,
    typer.Option(
        "--oidc-issuer",
        envvar="SHIPYARD_OIDC_ISSUER",
        help="Log users in with this OpenID Connect identity provider (its issuer URL).",
        show_default=False,
    ),
]
OidcClientIdOption = Annotated[
    str | None,
    typer.Option(
        "--oidc-client-id",
        envvar="SHIPYARD_OIDC_CLIENT_ID",
        help="The server's client id at the identity provider.",
        show_default=False,
    ),
]
OidcClientSecretOption = Annotated[
    str | None,
    typer.Option(
        "--oidc-client-secret",
        envvar="SHIPYARD_OIDC_CLIENT_SECRET",
        help="Its client secret, for a confidential client (better in the environment).",
        show_default=False,
    ),
]
OidcRedirectUrlOption = Annotated[
    str | None,
    typer.Option(
        "--oidc-redirect-url",
        envvar="SHIPYARD_OIDC_REDIRECT_URL",
        help="The callback URL registered at the provider. Default: this server's "
        "/api/oidc/callback as requests reach it.",
        show_default=False,
    ),
]


def memory_option(value: str, flag: str = "--memory") -> int:
    """Parse a memory flag's value: bytes, or a size such as `16GiB` or `512M`.

    Raises:
        typer.BadParameter: It is not a size, naming the flag.
    """
    from shipyard.dsl.resources import memory_bytes
    from shipyard.errors import InvalidParameterError

    try:
        return memory_bytes(int(value) if value.isdigit() else value)
    except InvalidParameterError:
        raise typer.BadParameter(
            f"must be bytes or a size such as 16GiB or 512M. Got {value!r} instead.",
            param_hint=flag,
        ) from None
