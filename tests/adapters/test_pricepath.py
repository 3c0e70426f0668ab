"""Candles → inputs: the intra-bar path never flatters the trader; funding rows on the mark."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import numpy as np
import pytest

from adapters.pricepath import CandleSeries, bar_path, discover, point_times
from sim.engine.commands import Deposit, PlaceOrder
from sim.engine.market import FundingRate, MarkPrice
from sim.errors import DataError, InputError
from sim.runner import CandleReplay, Runner
from tests.sim.engine._account_fixtures import account, synthetic_spec

BTC = "BTC/USDT:USDT"


def synthetic_candles(rows: list[tuple[float, float, float, float]], t0: int = 0) -> CandleSeries:
    a = np.array(rows, dtype="float64")
    return CandleSeries(
        symbol=BTC,
        timeframe="1m",
        period_ms=60_000,
        ts=np.arange(len(rows), dtype="int64") * 60_000 + t0,
        open=a[:, 0],
        high=a[:, 1],
        low=a[:, 2],
        close=a[:, 3],
        path=Path("synthetic_candles"),
    )


def test_bar_path_goes_against_the_position_first() -> None:
    o, h, low, c = D(100), D(112), D(94), D(105)

    assert bar_path(o, h, low, c, +1) == (o, low, h, c)  # long: low first
    assert bar_path(o, h, low, c, -1) == (o, h, low, c)  # short: high first
    assert bar_path(o, D(101), low, c, 0) == (o, D(101), low, c)  # flat: nearer extreme first
    assert point_times(60_000, 60_000) == (60_000, 75_000, 90_000, 119_999)


@pytest.mark.parametrize(("side", "stop", "target"), [("buy", "95", "110"), ("sell", "111", "96")])
def test_stop_and_target_in_one_bar_the_stop_wins(side: str, stop: str, target: str) -> None:
    acct = account(synthetic_spec(maker="0", taker="0"))
    candles = synthetic_candles([(100, 100.5, 99.5, 100), (100, 112, 94, 105)])
    entry = PlaceOrder(
        ts_ms=30_000,
        symbol=BTC,
        side=side,
        contracts=D(1),
        leverage=D(5),  # type: ignore[arg-type]
        stop_loss=D(stop),
        take_profit=D(target),
    )
    timed = [(0, -1, Deposit(ts_ms=0, currency="USDT", amount=D(1000))), (30_000, 1, entry)]
    runner = Runner(acct)
    events: list = []
    runner.bus.subscribe(events.extend)

    CandleReplay(runner, [candles], timed).run()

    trade = next(e for e in events if e.kind == "TradeClosed")
    assert trade.exit_reason == "stop"
    assert trade.exit_price == D(stop)


def test_entry_and_stop_in_one_bar_fill_then_stop() -> None:
    # Flat with a buy limit working: the high comes first, then the low fills the entry and the
    # stop below it is hit on the way — never the target above in the same bar.
    acct = account(synthetic_spec(maker="0", taker="0"))
    candles = synthetic_candles([(100, 100.5, 99.5, 100), (100, 111, 93, 100)])
    entry = PlaceOrder(
        ts_ms=30_000,
        symbol=BTC,
        side="buy",
        order_type="limit",
        contracts=D(1),
        price=D(98),
        leverage=D(5),
        stop_loss=D(95),
        take_profit=D(110),
    )
    timed = [(0, -1, Deposit(ts_ms=0, currency="USDT", amount=D(1000))), (30_000, 1, entry)]
    runner = Runner(acct)
    events: list = []
    runner.bus.subscribe(events.extend)

    CandleReplay(runner, [candles], timed).run()

    trade = next(e for e in events if e.kind == "TradeClosed")
    assert (trade.entry_price, trade.exit_price, trade.exit_reason) == (D(98), D(95), "stop")


def test_discover_finds_candles_funding_and_marks(shared_data: Path) -> None:
    market = discover(shared_data / "ohlcv" / "binance_usdm", "binanceusdm", [BTC])

    series = market.candles[BTC]
    assert (series.timeframe, len(series.ts)) == ("1m", 43199)
    first_mark, first_rate = market.funding[0][2], market.funding[1][2]
    assert isinstance(first_mark, MarkPrice)
    assert isinstance(first_rate, FundingRate)
    assert first_rate.funding_time_ms == first_mark.ts_ms == 1746374400000  # 2025-05-04 16:00
    assert first_rate.rate == D("0.00003745")
    assert market.mark_series[BTC] is True


def test_discover_without_candles_says_what_it_wanted(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no trade-candle files"):
        discover(tmp_path, "binanceusdm")


def test_discover_on_a_header_only_candle_file_is_a_data_error(tmp_path: Path) -> None:
    (tmp_path / "BTC_USDT_USDT-1m-futures.csv").write_text("timestamp_ms,open,high,low,close\n")

    with pytest.raises(DataError, match="no rows"):
        discover(tmp_path, "binanceusdm")
