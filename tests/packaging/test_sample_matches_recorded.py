"""The bundled sample is the recorded data, value for value (no rounding, nothing invented)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from adapters.candles import load_series
from config.settings import bundled_dir

SERIES = [
    "BTC_USDT_USDT-1m-futures",
    "ETH_USDT_USDT-1m-futures",
    "BTC_USDT_USDT-1h-futures",
    "ETH_USDT_USDT-1h-futures",
    "BTC_USDT_USDT-8h-mark",
    "ETH_USDT_USDT-8h-mark",
    "BTC_USDT_USDT-8h-funding_rate",
    "ETH_USDT_USDT-8h-funding_rate",
]


@pytest.mark.parametrize("stem", SERIES)
def test_bundled_series_equals_the_recorded_feather(shared_data: Path, stem: str) -> None:
    recorded = load_series(shared_data / "ohlcv" / "binance_usdm" / f"{stem}.feather")
    bundled = load_series(bundled_dir() / "ohlcv" / "binance_usdm" / f"{stem}.parquet")
    pd.testing.assert_frame_equal(bundled, recorded)


def test_known_rows_of_the_bundled_month() -> None:
    btc = load_series(bundled_dir() / "ohlcv/binance_usdm/BTC_USDT_USDT-1m-futures.parquet")
    assert len(btc) == 43_199
    first = btc.iloc[0]
    # 2025-05-04 15:33 UTC: o 95505.4 h 95505.5 l 95502.7 c 95502.7 (shared/data README, row 1)
    assert first.ts_ms == 1_746_372_780_000
    assert (first.open, first.high, first.low, first.close) == (95505.4, 95505.5, 95502.7, 95502.7)
