"""Fixtures for strategy tests: the recorded Binance candles, specs and run options."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.specs import SpecBook, load_spec_book
from config.settings import load_settings
from sim.guards import GuardLimits
from sim.strategy.run import RunOptions

# 2025-05-04 16:00 UTC and two hours later: inside the recorded BTC/ETH 1m candles.
SLICE_FROM_MS = 1_746_374_400_000
SLICE_UNTIL_MS = SLICE_FROM_MS + 2 * 3_600_000


@pytest.fixture(scope="session")
def candles_dir(shared_data: Path) -> Path:
    return shared_data / "ohlcv" / "binance_usdm"


@pytest.fixture(scope="session")
def book(shared_data: Path) -> SpecBook:
    settings = load_settings(None)
    settings = settings.model_copy(
        update={"data": settings.data.model_copy(update={"dirs": [str(shared_data)]})}
    )
    return load_spec_book("binanceusdm", settings)


@pytest.fixture
def options(tmp_path: Path) -> RunOptions:
    """Defaults of config/default.toml, written out so a change there cannot move the tests."""
    return RunOptions(
        exchange="binanceusdm",
        balance=Decimal(1000),
        slippage_bps=Decimal(2),
        upnl_price="mark",
        risk_pct=Decimal(1),
        guards=GuardLimits(Decimal(20), Decimal(3), 20, 60, "USDT"),
        db=tmp_path / "journal.sqlite",
    )


def with_db(options: RunOptions, db: Path | None) -> RunOptions:
    return replace(options, db=db)
