"""`--replay auto` (trade, web): the first data folder with candles for the desk's symbols."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import bundled_dir
from sim.desk.replaying import replay_path
from sim.errors import DataError

SYMBOLS = ["BTC/USDT:USDT", "ETH/USDT:USDT"]


def test_auto_falls_back_to_the_bundled_month(tmp_path: Path) -> None:
    empty = tmp_path / "downloads"
    empty.mkdir()

    assert replay_path(Path("auto"), [empty, bundled_dir()], SYMBOLS) == bundled_dir()


def test_auto_prefers_a_configured_folder(shared_data: Path) -> None:
    assert replay_path(Path("auto"), [shared_data, bundled_dir()], SYMBOLS) == shared_data


def test_a_given_path_and_none_are_kept(tmp_path: Path) -> None:
    assert replay_path(tmp_path, [bundled_dir()], SYMBOLS) == tmp_path
    assert replay_path(None, [bundled_dir()], SYMBOLS) is None


def test_auto_without_candles_says_how_to_get_them(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="microfut data download"):
        replay_path(Path("auto"), [tmp_path], ["XRP/USDT:USDT"])
