"""Live runs: trades from the loopback exchange become bars; the strategy trades on them."""

from __future__ import annotations

import asyncio
import textwrap
from decimal import Decimal
from pathlib import Path

from adapters.loopback.server import LoopbackExchange
from adapters.specs import SpecBook
from config.settings import load_settings
from sim.journal import Journal
from sim.strategy import loader
from sim.strategy.live import BarBuilder, run_live_async
from sim.strategy.run import RunOptions

FIRST_LIVE = """
    from decimal import Decimal
    from sim.strategy import Strategy

    class FirstLive(Strategy):
        def on_bar(self, ctx, bar):
            ctx.log(f"bar {bar.ts_ms} {bar.open} {bar.high} {bar.low} {bar.close}")
            if ctx.contracts() == 0 and not ctx.orders():
                ctx.buy(Decimal("0.002"), stop_loss=bar.low - 50)

        def on_fill(self, ctx, fill):
            ctx.log(f"fill {fill.side} {fill.contracts} at {fill.price}")
"""


def test_bar_builder_closes_a_bar_on_the_first_trade_of_the_next() -> None:
    b = BarBuilder("BTC/USDT:USDT", "1m", 60_000)
    prices = [(59_000, "10"), (59_500, "12"), (59_900, "9"), (60_000, "11"), (60_100, "13")]

    closed = [b.update(ts, Decimal(p)) for ts, p in prices]

    assert closed[:3] == [None, None, None]
    bar = closed[3]
    assert bar is not None
    assert (bar.ts_ms, bar.close_ts_ms) == (0, 59_999)
    assert (bar.open, bar.high, bar.low, bar.close) == (10, 12, 9, 9)
    assert closed[4] is None


async def test_a_live_run_on_the_loopback_trades_after_the_first_minute_bar(
    shared_data: Path, book: SpecBook, options: RunOptions, tmp_path: Path
) -> None:
    path = tmp_path / "first_live.py"
    path.write_text(textwrap.dedent(FIRST_LIVE), encoding="utf-8")
    settings = load_settings()
    # frames from just before 2024-08-08 23:55:00 UTC, so the 23:54 bar closes in the slice
    async with LoopbackExchange(
        "binanceusdm",
        [shared_data],
        symbols=["BTCUSDT"],
        pace_s=0.0005,
        start=9000,
        max_frames=2000,
    ) as lb:
        result = await asyncio.wait_for(
            run_live_async(
                loader.load(str(path)), {}, options, book, settings, lb.base_url, minutes=0.05
            ),
            30,
        )

    assert result.source == "live"
    assert result.bars >= 1
    first = result.messages[0].split()
    assert first[:2] == ["bar", "1723161240000"]  # 23:54:00 UTC
    assert result.messages[1].startswith("fill buy 0.002 at ")
    with Journal.open(options.db) as journal:  # type: ignore[arg-type]
        kinds = [e.kind for e in journal.events(result.account)]
    assert kinds[:3] == ["WalletCredited", "OrderAccepted", "OrderFilled"]
