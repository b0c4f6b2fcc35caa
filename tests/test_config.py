from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.config import load_settings
from shipyard.errors import ConfigError


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("SHIPYARD_STORE", "SHIPYARD_ARTIFACT_ROOT", "SHIPYARD_HOME"):
        monkeypatch.delenv(var, raising=False)


def test_defaults_live_under_the_working_directory(tmp_path: Path) -> None:
    settings = load_settings(cwd=tmp_path)
    assert settings.home == tmp_path / ".shipyard"
    assert settings.store_url == f"sqlite:///{tmp_path}/.shipyard/store.db"
    assert settings.artifact_root == str(tmp_path / ".shipyard" / "artifacts")


def test_flags_beat_environment_beat_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".shipyard").mkdir()
    (tmp_path / ".shipyard" / "config.toml").write_text(
        'store = "sqlite:///from-file.db"\nartifact_root = "file-artifacts"\n'
    )
    assert load_settings(cwd=tmp_path).store_url == "sqlite:///from-file.db"
    assert load_settings(cwd=tmp_path).artifact_root == str(tmp_path / "file-artifacts")
    monkeypatch.setenv("SHIPYARD_STORE", "postgresql://env/db")
    assert load_settings(cwd=tmp_path).store_url == "postgresql://env/db"
    assert load_settings(cwd=tmp_path, store="sqlite:///flag.db").store_url == "sqlite:///flag.db"
    assert load_settings(cwd=tmp_path, artifact_root="s3://b/p").artifact_root == "s3://b/p"


def test_bad_config_files_name_the_file_and_key(tmp_path: Path) -> None:
    (tmp_path / ".shipyard").mkdir()
    config = tmp_path / ".shipyard" / "config.toml"
    config.write_text('stor = "x"\n')
    with pytest.raises(ConfigError, match=r"config.toml: unknown key\(s\) 'stor'"):
        load_settings(cwd=tmp_path)
    config.write_text("store = \n")
    with pytest.raises(ConfigError, match="cannot parse"):
        load_settings(cwd=tmp_path)
