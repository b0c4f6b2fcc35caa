from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.config import load_settings
from shipyard.errors import ConfigError


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ("SHIPYARD_STORE", "SHIPYARD_ARTIFACT_ROOT", "SHIPYARD_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("SHIPYARD_CEILING_DIRECTORIES", str(tmp_path.parent))


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


def test_the_nearest_shipyard_directory_above_is_found_like_git(tmp_path: Path) -> None:
    (tmp_path / ".shipyard").mkdir()
    deep = tmp_path / "notebooks" / "drafts"
    deep.mkdir(parents=True)
    settings = load_settings(cwd=deep)
    assert settings.home == tmp_path / ".shipyard"
    assert settings.home_origin == "found"
    assert settings.store_url == f"sqlite:///{tmp_path}/.shipyard/store.db"
    assert settings.artifact_root == str(tmp_path / ".shipyard" / "artifacts")
    (deep / ".shipyard").mkdir()  # a nearer one wins
    assert load_settings(cwd=deep).home == deep / ".shipyard"


def test_discovery_does_not_climb_into_a_ceiling_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".shipyard").mkdir()  # a stray store in a shared parent, like /tmp/.shipyard
    project = tmp_path / "project"
    deep = project / "notebooks"
    deep.mkdir(parents=True)
    assert load_settings(cwd=deep).home == tmp_path / ".shipyard"
    monkeypatch.setenv("SHIPYARD_CEILING_DIRECTORIES", f"relative/ignored:{tmp_path}")
    settings = load_settings(cwd=deep)
    assert (settings.home, settings.home_origin) == (deep / ".shipyard", "new")
    assert load_settings(cwd=tmp_path).home == tmp_path / ".shipyard"  # the ceiling itself
    (project / ".shipyard").mkdir()  # below the ceiling, discovery works as before
    assert load_settings(cwd=deep).home == project / ".shipyard"


def test_without_a_shipyard_directory_a_new_one_goes_in_the_working_directory(
    tmp_path: Path,
) -> None:
    settings = load_settings(cwd=tmp_path)
    assert (settings.home_origin, settings.store_origin) == ("new", "default")
    assert settings.searched_from == tmp_path
    assert not (tmp_path / ".shipyard").exists()  # resolving settings creates nothing


def test_shipyard_home_beats_discovery_and_flags_beat_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "project" / ".shipyard").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    monkeypatch.setenv("SHIPYARD_HOME", str(elsewhere))
    settings = load_settings(cwd=tmp_path / "project")
    assert (settings.home, settings.home_origin) == (elsewhere, "environment")
    assert settings.store_url == f"sqlite:///{elsewhere}/store.db"
    flagged = load_settings(cwd=tmp_path / "project", store="sqlite:///x.db")
    assert (flagged.store_url, flagged.store_origin) == ("sqlite:///x.db", "flag")


def test_config_file_paths_are_relative_to_the_project_not_the_working_directory(
    tmp_path: Path,
) -> None:
    (tmp_path / ".shipyard").mkdir()
    (tmp_path / ".shipyard" / "config.toml").write_text('artifact_root = "shared/artifacts"\n')
    (tmp_path / "sub").mkdir()
    settings = load_settings(cwd=tmp_path / "sub")
    assert settings.artifact_root == str(tmp_path / "shared" / "artifacts")
    assert settings.store_origin == "default"
    flagged = load_settings(cwd=tmp_path / "sub", artifact_root="here")
    assert flagged.artifact_root == str(tmp_path / "sub" / "here")  # flags: the working dir
