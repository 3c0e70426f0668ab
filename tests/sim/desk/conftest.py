"""Desk fixtures: the real Binance USDⓈ-M spec book built by ccxt from the recorded exchangeInfo."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.specs import SpecBook, load_spec_book
from config.settings import Settings, load_settings


@pytest.fixture(scope="session")
def desk_settings(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Default settings reading the recorded data and writing into a temporary folder."""
    out = tmp_path_factory.mktemp("desk")
    return load_settings(
        data={"dirs": [str(shared_data)], "home": str(out), "journal": str(out / "j.sqlite")}
    )


@pytest.fixture(scope="session")
def book(desk_settings: Settings) -> SpecBook:
    """Real BTC/ETH perpetual specs (tick 0.1 / 0.01, step 0.001, tiers from the recorded file)."""
    return load_spec_book("binanceusdm", desk_settings)
