"""The runner: skipping quiet bars gives exactly the events of playing every bar."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D
from pathlib import Path

from adapters.pricepath import discover
from config.settings import load_settings
from sim.bus import Bus
from sim.engine.account import Account
from sim.engine.commands import CancelOrder, Deposit, PlaceOrder
from sim.runner import CandleReplay, Runner

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
