"""The data home: where microfut writes, and which folders it reads (issue 12)."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest

from config.settings import bundled_dir, default_home, load_settings


def test_microfut_home_wins_over_the_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("MICROFUT_HOME", str(tmp_path / "env"))
    data = load_settings(data={"home": str(tmp_path / "setting")}).data

    assert data.home_path == tmp_path / "env"
    assert data.journal_path == tmp_path / "env" / "journal.sqlite"
    assert data.downloads_path == tmp_path / "env" / "downloads"


def test_setting_is_used_without_the_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.delenv("MICROFUT_HOME")
    data = load_settings(data={"home": str(tmp_path / "setting")}).data

    assert data.home_path == tmp_path / "setting"


def test_default_is_the_platform_user_data_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("MICROFUT_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    data = load_settings().data

    assert data.home_path == default_home() == tmp_path / ".local" / "share" / "microfut"
    site = Path(sysconfig.get_paths()["purelib"])
    assert not data.journal_path.is_relative_to(site)


def test_absolute_journal_setting_is_kept(tmp_path: Path) -> None:
    data = load_settings(data={"journal": str(tmp_path / "mine.sqlite")}).data

    assert data.journal_path == tmp_path / "mine.sqlite"


def test_data_folders_are_configured_then_downloads_then_bundled(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MICROFUT_HOME", str(tmp_path / "home"))
    dirs = load_settings(data={"dirs": [str(tmp_path / "rec")]}).data.data_dirs

    assert dirs == [tmp_path / "rec", tmp_path / "home" / "downloads", bundled_dir()]
    assert (bundled_dir() / "README.md").is_file()


def test_default_config_reads_no_folder_beside_the_checkout() -> None:
    data = load_settings().data

    assert data.dirs == []
    assert all("shared" not in d.parts for d in data.data_dirs)
