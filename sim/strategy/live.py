"""Run a strategy on the live paper feed: trades become bars of the strategy's timeframe.

The account starts (opening deposit, ``on_start``) at the first input's exchange time. A bar
closes when the first trade of the next bar arrives; ``on_bar`` runs before that trade is
applied. The run ends after ``minutes`` (wall clock) or on Ctrl-C, then ``on_stop`` runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

from adapters.candles import TIMEFRAME_MS
from adapters.live import check_reachable, open_feed
from adapters.specs import SpecBook
from sim.engine.market import LastTrade
from sim.errors import InputError
from sim.strategy.api import Bar
from sim.strategy.loader import LoadedStrategy, StrategyError
from sim.strategy.run import RunOptions, RunResult, StrategyRun

DEFAULT_TIMEFRAME = "1m"


class BarBuilder:
    """Aggregates one symbol's trades into bars of ``period_ms`` aligned to epoch time."""

    def __init__(self, symbol: str, timeframe: str, period_ms: int) -> None:
        self.symbol, self.timeframe, self.period_ms = symbol, timeframe, period_ms
        self.start: int | None = None
        self.ohlc: list[Decimal] = []

    def update(self, ts_ms: int, price: Decimal) -> Bar | None:
        """Add a trade; return the previous bar when this trade starts a new one."""
        bucket = ts_ms - ts_ms % self.period_ms
        closed = None
        if self.start is not None and bucket > self.start:
            o, h, low, c = self.ohlc
            end = self.start + self.period_ms - 1
            closed = Bar(self.symbol, self.timeframe, self.start, end, o, h, low, c)
            self.start = None
        if self.start is None:
            self.start, self.ohlc = bucket, [price, price, price, price]
        else:
            o, h, low, _ = self.ohlc
            self.ohlc = [o, max(h, price), min(low, price), price]
        return closed


async def consume(run: StrategyRun, feed: AsyncIterator[Any], timeframe: str) -> int:
    """Drive the run from ``feed`` until it ends or the task is cancelled; returns bars closed."""
    period = TIMEFRAME_MS.get(timeframe)
    if period is None:
        raise InputError(f"timeframe must be one of {', '.join(TIMEFRAME_MS)}, was {timeframe!r}")
    builders = {s: BarBuilder(s, timeframe, period) for s in run.specs}
    started, bars = False, 0
    async for inp in feed:
        symbol = getattr(inp, "symbol", "")
        if symbol and symbol not in run.specs:
            continue
        if not started:
            run.start(int(inp.ts_ms))
            started = True
        if isinstance(inp, LastTrade):
            bar = builders[symbol].update(inp.ts_ms, inp.price)
            if bar is not None:
                run.driver.bar_closed(bar)
                bars += 1
        run.driver.feed(inp)
    return bars


async def _bounded(
    run: StrategyRun, feed: AsyncIterator[Any], timeframe: str, minutes: float | None
) -> int:
    task = asyncio.ensure_future(consume(run, feed, timeframe))
    try:
        done, _ = await asyncio.wait({task}, timeout=None if minutes is None else minutes * 60)
        if task in done:
            return task.result()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return 0
    finally:
        close = getattr(feed, "aclose", None)
        if close is not None:
            await close()


async def run_live_async(
    loaded: LoadedStrategy,
    overrides: dict[str, Any],
    options: RunOptions,
    book: SpecBook,
    settings: Any,
    endpoint: str | None,
    minutes: float | None,
) -> RunResult:
    """Run the strategy on the live feed of ``options.exchange`` (or ``endpoint``)."""
    if minutes is not None and minutes <= 0:
        raise InputError(f"--minutes must be > 0, was {minutes}")
    probe = loaded.cls(**overrides)
    timeframe = probe.timeframe or DEFAULT_TIMEFRAME
    source = {
        "source": "live",
        "endpoint": endpoint or "",
        "timeframe": timeframe,
        "balance": str(options.balance),
    }
    await check_reachable(options.exchange, settings, endpoint)  # offline: FeedError at once
    run = StrategyRun(loaded, overrides, options, book, source)
    try:
        feed = open_feed(options.exchange, list(run.specs), settings, endpoint=endpoint)
        try:
            await _bounded(run, feed, timeframe, minutes)
        except asyncio.CancelledError:  # Ctrl-C: asyncio.run cancels this task; stop cleanly
            run.driver.ctx.log("stopped by Ctrl-C")
        if run.account.now_ms:
            run.stop()
        bars = sum(len(h.ts) for h in run.driver.history.values())
        return run.result("live", bars, [f"bars of {timeframe} built from live trades"])
    except StrategyError as e:
        run.failed(e)
        raise
    finally:
        run.close()


def run_live(
    loaded: LoadedStrategy,
    overrides: dict[str, Any],
    options: RunOptions,
    book: SpecBook,
    settings: Any,
    endpoint: str | None,
    minutes: float | None,
) -> RunResult:
    """Blocking form of :func:`run_live_async` for the CLI."""
    return asyncio.run(
        run_live_async(loaded, overrides, options, book, settings, endpoint, minutes)
    )
