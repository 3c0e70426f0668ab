"""The runner: skipping quiet bars gives exactly the events of playing every bar."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.pricepath import CandleSeries, discover
from config.settings import load_settings
from sim.bus import Bus
from sim.engine.account import Account
from sim.engine.commands import CancelOrder, Deposit, PlaceOrder
from sim.runner import CandleReplay, Runner
from tests.sim.engine._account_fixtures import account, synthetic_spec

BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"
DAY = 86_400_000
T0 = 1746403200000  # 2025-05-05 00:00 UTC


def _orders() -> list[tuple[int, int, object]]:
    def place(day: float, symbol: str, **kw: object) -> tuple[int, int, object]:
        ts = T0 + int(day * DAY)
        return (ts, 1, PlaceOrder(ts_ms=ts, symbol=symbol, **kw))  # type: ignore[arg-type]

    return [
        (T0 - DAY, -1, Deposit(ts_ms=T0 - DAY, currency="USDT", amount=D(3000))),
        place(
            0,
            BTC,
            side="buy",
            contracts=D("0.01"),
            leverage=D(10),
            margin_mode="isolated",
            stop_loss=D(93000),
            take_profit=D(96000),
        ),
        place(
            0.1,
            ETH,
            side="buy",
            order_type="limit",
            contracts=D("0.3"),
            price=D(1780),
            leverage=D(5),
            margin_mode="cross",
        ),
        place(
            0.2,
            ETH,
            side="sell",
            order_type="trailing_stop_market",
            contracts=D("0.3"),
            callback_pct=D("1.5"),
            trigger_price=D(1850),
            reduce_only=True,
        ),
        place(
            0.5,
            BTC,
            side="sell",
            order_type="stop_market",
            contracts=D("0.01"),
            trigger_price=D(90000),
            leverage=D(10),
        ),
        place(1.0, BTC, side="sell", order_type="limit", contracts=D("0.02"), price=D(98000)),
        (T0 + int(1.5 * DAY), 1, CancelOrder(ts_ms=T0 + int(1.5 * DAY), order_id="o6")),
        place(2.0, ETH, side="sell", contracts=D("0.5"), leverage=D(50)),
        place(2.0, BTC, side="buy", contracts=D("0.02"), leverage=D(125), margin_mode="isolated"),
    ]


def _run(shared_data: Path, fast: bool) -> tuple[list, dict]:
    market = discover(shared_data / "ohlcv" / "binance_usdm", "binanceusdm", [BTC, ETH])
    # Four days of both symbols keep the test quick; the CLI test runs the whole month.
    candles = []
    for c in market.candles.values():
        keep = c.ts < T0 + 4 * DAY
        candles.append(
            replace(
                c,
                ts=c.ts[keep],
                open=c.open[keep],
                high=c.high[keep],
                low=c.low[keep],
                close=c.close[keep],
            )
        )
    from adapters.specs import load_spec_book

    book = load_spec_book("binanceusdm", load_settings())
    acct = Account("r", {s: book.get(s) for s in (BTC, ETH)}, mark_from_last=True)
    bus = Bus()
    events: list = []
    bus.subscribe(events.extend)
    timed = [*_orders(), *[f for f in market.funding if f[0] < T0 + 4 * DAY]]
    CandleReplay(Runner(acct, bus), candles, timed, fast=fast).run()
    return events, acct.snapshot()


def test_skipping_quiet_bars_changes_nothing(shared_data: Path) -> None:
    fast_events, fast_snap = _run(shared_data, fast=True)
    plain_events, plain_snap = _run(shared_data, fast=False)

    assert fast_events == plain_events
    assert fast_snap == plain_snap
    kinds = {e.kind for e in fast_events}
    assert {"OrderTriggered", "FundingPaid", "TradeClosed", "PositionLiquidated"} <= kinds


def test_bus_delivers_in_registration_order() -> None:
    bus = Bus()
    seen: list[str] = []
    bus.subscribe(lambda evs: seen.append(f"journal:{len(evs)}"))
    bus.subscribe(lambda evs: seen.append(f"screen:{len(evs)}"))

    bus.publish([])
    bus.publish([object()])  # type: ignore[list-item]

    assert seen == ["journal:1", "screen:1"]


def _synthetic_candles(steps: list[int], symbol: str) -> CandleSeries:
    """A synthetic random-walk candle series (generated, not recorded data)."""
    close = 100 + np.cumsum(np.array(steps, dtype="float64")) / 10
    close = np.maximum(close, 1)
    open_ = np.concatenate([[100.0], close[:-1]])
    high = np.maximum(open_, close) + 0.3
    low = np.minimum(open_, close) - 0.3
    return CandleSeries(
        symbol=symbol,
        timeframe="1m",
        period_ms=60_000,
        ts=np.arange(len(steps), dtype="int64") * 60_000,
        open=np.round(open_, 1),
        high=np.round(high, 1),
        low=np.round(low, 1),
        close=np.round(close, 1),
        path=Path("synthetic_walk"),
    )


def _synthetic_run(steps: list[int], orders: list[tuple[int, str, str, int]], fast: bool) -> list:
    acct = account(synthetic_spec(), slippage="2", mark_from_last=True)
    timed: list[tuple[int, int, object]] = [
        (0, -1, Deposit(ts_ms=0, currency="USDT", amount=D(500)))
    ]
    for minute, side, kind, offset in orders:
        ts = minute * 60_000 + 30_000
        level = D(100) + D(offset) / 10
        timed.append(
            (
                ts,
                1,
                PlaceOrder(
                    ts_ms=ts,
                    symbol=BTC,
                    side=side,  # type: ignore[arg-type]
                    order_type=kind,
                    contracts=D("0.5"),
                    price=level if kind == "limit" else None,
                    trigger_price=level if kind.startswith("stop") else None,
                    callback_pct=D(1) if kind.startswith("trailing") else None,
                    leverage=D(50),
                    margin_mode="isolated",
                    stop_loss=level - 3 if side == "buy" and kind == "limit" else None,
                    take_profit=level + 3 if side == "buy" and kind == "limit" else None,
                ),
            )
        )
    bus = Bus()
    events: list = []
    bus.subscribe(events.extend)
    CandleReplay(Runner(acct, bus), [_synthetic_candles(steps, BTC)], timed, fast=fast).run()
    return events


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(-20, 20), min_size=5, max_size=300),
    st.lists(
        st.tuples(
            st.integers(0, 300),
            st.sampled_from(["buy", "sell"]),
            st.sampled_from(["market", "limit", "stop_market", "trailing_stop_market"]),
            st.integers(-50, 50),
        ),
        max_size=6,
    ),
)
def test_skipping_equals_playing_every_bar_on_random_walks(steps: list[int], orders: list) -> None:
    assert _synthetic_run(steps, orders, fast=True) == _synthetic_run(steps, orders, fast=False)
