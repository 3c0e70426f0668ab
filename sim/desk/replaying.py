"""Recorded candles played into a desk: several symbols side by side, in time order.

Each bar is four last-price points (``adapters/pricepath.py``: open, the extreme against the
position first, the other extreme, close) with the recorded funding and mark inputs at their
instants. Used by the demo (flat out, stopping at scene times) and by ``microfut trade --replay``
on candle files (paced at ×N).

When a symbol's recorded bars run out (symbols may end at different times), a ``FeedStatus``
marks it stale at its last bar's close: the engine then refuses its fills and orders, the desk
log says so, and nothing is ever filled at a price from after the data ended.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np

from adapters.pricepath import MarketData, bar_path, point_times
from sim.desk.session import DeskSession
from sim.engine.market import FeedStatus, LastTrade
from sim.engine.money import ZERO


class Player:
    """Plays the recorded bars of several symbols side by side, in time order, into the desk.

    Inputs come from a generator, so each bar's path is chosen (``bar_path``) from the account
    as it is when the bar's open has been played, and play can stop inside a bar.
    """

    def __init__(
        self, desk: DeskSession, data: MarketData, start_ms: int, symbols: Sequence[str]
    ) -> None:
        self.desk = desk
        self.series = [data.candles[s] for s in symbols if s in data.candles]
        self.funding = [f for f in data.funding if f[0] >= start_ms]
        self.start_ms = start_ms
        self.pending: Any = None
        self.stream = self._inputs()

    def _inputs(self) -> Iterator[Any]:
        venue = self.desk.book.exchange
        rows = [int(np.searchsorted(c.ts, self.start_ms)) for c in self.series]
        k = 0
        while True:
            live = [i for i, c in enumerate(self.series) if rows[i] < len(c.ts)]
            if not live:
                break
            t0 = min(int(self.series[i].ts[rows[i]]) for i in live)
            due = [i for i in live if int(self.series[i].ts[rows[i]]) == t0]
            paths: dict[int, tuple[Decimal, ...]] = {}
            for j in range(4):
                for i in due:
                    c, r = self.series[i], rows[i]
                    ts = point_times(t0, c.period_ms)[j]
                    while k < len(self.funding) and self.funding[k][0] <= ts:
                        yield self.funding[k][2]
                        k += 1
                    o, h, low, close = c.bar(r)
                    if j > 0 and i not in paths:
                        paths[i] = bar_path(o, h, low, close, self.desk.account.path_bias(c.symbol))
                    yield LastTrade(venue, c.symbol, ts, o if j == 0 else paths[i][j], ZERO)
            for i in due:
                rows[i] += 1
                if rows[i] == len(self.series[i].ts):
                    yield self._ended(venue, self.series[i].symbol, t0 + self.series[i].period_ms)
        yield from (f[2] for f in self.funding[k:])

    @staticmethod
    def _ended(venue: str, symbol: str, end_ms: int) -> FeedStatus:
        """Stale from the last bar's close on: no price exists after it."""
        when = datetime.fromtimestamp(end_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")
        reason = f"recorded data ended {when} UTC; no fills or orders after it"
        return FeedStatus(venue, symbol, end_ms - 1, stale=True, reason=reason)

    def play_until(self, end_ms: int) -> None:
        """Feed every input stamped before ``end_ms``."""
        while True:
            if self.pending is None:
                self.pending = next(self.stream, None)
                if self.pending is None:
                    return
            if self.pending.ts_ms >= end_ms:
                return
            self.desk.feed(self.pending)
            self.pending = None

    async def paced(self, speed: float) -> AsyncIterator[Any]:
        """The inputs as an async stream, ``speed`` × data time (0 = as fast as possible)."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        first: int | None = None
        for n, inp in enumerate(self.stream):
            first = inp.ts_ms if first is None else first
            if speed > 0:
                due = (inp.ts_ms - first) / 1000 / speed - (loop.time() - started)
                if due > 0:
                    await asyncio.sleep(due)
            elif n % 200 == 0:
                await asyncio.sleep(0)
            yield inp
