"""An endpoint's model repository and model config on disk, under the server's data directory.

    DATA_DIR/endpoints/PROJECT/ENDPOINT/
        models/NAME/VERSION/     the registered version's files (hard links, else copies)
        models/models.yaml       the model config: labels stable and canary, canary share
        serve.log                its `shipyard serve` process's output

A version is installed under a hidden name and renamed into place, as `push` does, so the
server polling the repository never sees half of one. The model config is written only
through `shipyard.serving.labels` (locked, atomic); the running server reloads it.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from shipyard.errors import NotFoundError
from shipyard.io.remote import download_tree
from shipyard.serving.labels import Release, end_canary, find_model, set_release

if TYPE_CHECKING:
    from shipyard.platform.models.records import ModelVersion

__all__ = ["Deployment"]

_CONFIG_NAME: Final = "models.yaml"


@dataclass(frozen=True)
class Deployment:
    """The files of one endpoint, serving the registered model `model`.

    Attributes:
        directory: `DATA_DIR/endpoints/PROJECT/ENDPOINT`.
        model: The registered model's name, which the server serves it under.
    """

    directory: Path
    model: str

    @classmethod
    def of(cls, root: Path, project: str, endpoint: str, model: str) -> Deployment:
        """The files of `endpoint` of `project` under the data directory `root`."""
        return cls(root / "endpoints" / project / endpoint, model)

    @property
    def models_dir(self) -> Path:
        """The model repository the server serves."""
        return self.directory / "models"

    @property
    def base_path(self) -> Path:
        """The model's directory of versions."""
        return self.models_dir / self.model

    @property
    def model_config(self) -> Path:
        """The model config file the server reads."""
        return self.models_dir / _CONFIG_NAME

    @property
    def log_file(self) -> Path:
        """Where the server's output goes."""
        return self.directory / "serve.log"

    def install(self, version: ModelVersion) -> Path:
        """Put the files of a registered version at `base_path/VERSION` (kept if there),
        downloading them when they are on an object store (`s3://...`).

        Raises:
            NotFoundError: The pushed version's directory is gone.
            StorageError: The object store cannot be read.
        """
        target = self.base_path / str(version.version)
        if target.is_dir():
            return target
        files = version.push.path
        if "://" in files:
            self.base_path.mkdir(parents=True, exist_ok=True)
            download_tree(files, target)
            return target
        source = Path(files)
        if not source.is_dir():
            raise NotFoundError(
                f"The files of version {version.version} of model {self.model!r} are gone "
                f"({source}, artifact {version.push.artifact_id}); push and register it again."
            )
        staging = self.base_path / f".install-{version.version}-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        self.base_path.mkdir(parents=True, exist_ok=True)
        shutil.copytree(source, staging, copy_function=_link_or_copy, symlinks=False)
        os.replace(staging, target)
        return target

    def write(self, release: Release) -> Release:
        """Label the versions `release` names in the model config (the server reloads it)."""
        return set_release(
            self.model_config, name=self.model, base_path=self.base_path, release=release
        )

    def end_canary(self, *, promote: bool) -> Release:
        """Promote the canary to stable, or roll it back; return what is served after.

        Raises:
            ConfigError: The endpoint has no canary.
        """
        _before, after = end_canary(self.model_config, name=self.model, promote=promote)
        return after

    def current(self) -> Release:
        """What the model config labels now (nothing before the first deploy)."""
        model = find_model(self.model_config, self.model)
        return Release() if model is None else Release.of(model)

    def remove(self) -> None:
        """Delete the endpoint's files."""
        shutil.rmtree(self.directory, ignore_errors=True)


def _link_or_copy(source: str, target: str) -> None:
    """Hard-link a file (no second copy of a large model), or copy it across file systems."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
