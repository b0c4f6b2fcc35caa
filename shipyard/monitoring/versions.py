"""Which model versions the logs hold, and whether one training reference serves them all.

Without `--reference`, a monitor compares the logs with the training statistics of the
version that answered them, found through the store's lineage (`MonitorOptions.
find_reference`). A monitor has one reference, so on its first run every version in the new
files must have been trained from the same statistics artifact (a version re-pushed, or
versions trained from one span); otherwise the run is refused with the versions and their
statistics named. On later runs, a file of a version trained from other statistics is
skipped with why, and listed (monitor that version's directory under another `--name`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from shipyard.errors import InvalidParameterError, NotFoundError
from shipyard.monitoring.sources import UnreadableFile, read_batches

if TYPE_CHECKING:
    from collections.abc import Callable

    from fsspec import AbstractFileSystem

    from shipyard.artifacts import DatasetStatistics
    from shipyard.monitoring.sources import LogFile


@dataclass(frozen=True)
class FoundReference:
    """The training statistics of a served version, found through lineage.

    Attributes:
        statistics: The statistics (of the `train` split).
        source: What they are, for the report.
        key: What identifies them (their artifact id): versions with one key share them.
    """

    statistics: DatasetStatistics
    source: str
    key: str


def file_version(fs: AbstractFileSystem, file: LogFile) -> tuple[str, int] | None:
    """Return the model and version of a log file's first row, if it names them.

    Raises:
        UnreadableFile: The file cannot be read.
    """
    for batch in read_batches(fs, file, ["model", "version"]):
        if {"model", "version"} <= set(batch.schema.names) and batch.num_rows:
            model, version = batch.column("model")[0], batch.column("version")[0]
            return str(model.as_py()), int(version.as_py())
        return None
    return None


def label(version: tuple[str, int]) -> str:
    """Return `model/version`, as the windows count rows per version."""
    return f"{version[0]}/{version[1]}"


def first_reference(
    fs: AbstractFileSystem,
    files: list[LogFile],
    find: Callable[[str, int], FoundReference],
) -> tuple[FoundReference, dict[str, str]] | None:
    """Return the one reference of the versions in `files`, and each version's key.

    Returns:
        None when no file names a version.

    Raises:
        InvalidParameterError: The versions were trained from different statistics.
        NotFoundError: A version's training statistics cannot be found (no push...).
    """
    versions: dict[tuple[str, int], FoundReference] = {}
    for file in files:
        try:
            version = file_version(fs, file)
        except UnreadableFile:
            continue  # reported when the file is read
        if version is not None and version not in versions:
            versions[version] = find(*version)
    if not versions:
        return None
    keys = {found.key for found in versions.values()}
    if len(keys) > 1:
        listed = "; ".join(
            f"{label(version)}: {found.source}" for version, found in sorted(versions.items())
        )
        raise InvalidParameterError(
            f"The logs hold requests of {len(versions)} model versions trained from different "
            f"statistics ({listed}), and a monitor compares with one reference. Monitor each "
            "version's directory (LOGS/MODEL/VERSION) under its own --name, or give one "
            "--reference DATA for all."
        )
    return next(iter(versions.values())), {label(v): f.key for v, f in versions.items()}


def other_reference(
    version: tuple[str, int],
    known: dict[str, str],
    find: Callable[[str, int], FoundReference],
    reference: tuple[str, str],
) -> str | None:
    """Return why a file of `version` cannot be compared with the monitor's reference
    (`reference`: its key and source), or None when it can; `known` learns the version's
    statistics key."""
    name = label(version)
    if name not in known:
        try:
            known[name] = find(*version).key
        except NotFoundError as exc:
            return f"requests of {name}, whose training statistics cannot be found ({exc})"
    key, source = reference
    if known[name] == key:
        return None
    return (
        f"requests of {name}, trained from other statistics than this monitor's reference "
        f"({source}); monitor {name}'s directory under another --name"
    )
