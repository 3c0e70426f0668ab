"""Candle replay: recorded bars plus timed inputs fed in time order through a ``Runner``.

A candle replay skips bars by half-line bounds (``sim/engine/quiet.py``): for each symbol the
prices strictly between which nothing can happen (stops, limits, liquidation price or cross
band, trailing stops as moving bounds), searched with numpy (``triggers.first_escape``). A
level that a change moved beyond the price is found by the next bar's range, so nothing is
played just because something changed; the bounds are kept per side and drawn again only when
a change made them stale (``CandleReplay._feed``). Before anything else happens the skipped bars
are caught up: the trailing extremes they reached through the matching, then each symbol's last
close only recorded, so the account ends up exactly where the bar-by-bar path would have left
it (``fast=False`` plays every point; property tests compare). Never skips past a funding
instant or an expiry.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

import numpy as np

from adapters.pricepath import CandleSeries, bar_path, point_times, price
from sim.engine.commands import AmendOrder, CancelOrder, Deposit, PlaceOrder, SetLeverage
from sim.engine.events import Event
from sim.engine.market import LastTrade
from sim.engine.quiet import EMPTY, ORDER_ONLY, Bounds, combine, order_bounds, position_bounds
from sim.engine.triggers import EPS, TouchIndex, bar_ranges, first_escape, stays_inside
from sim.session import RunStats

if TYPE_CHECKING:
    from sim.engine.account import Account
    from sim.session import Session


class Driver(Protocol):
    """What a candle replay drives: ``sim.runner.Runner`` (not imported: it re-exports us)."""

    account: Account
    session: Session
    stats: RunStats

    def feed(self, inp: object) -> list[Event]: ...


SHORT_SPAN = 256  # rows up to which a span's min/max on lists beats first_escape's numpy calls
COMMANDS = (PlaceOrder, CancelOrder, AmendOrder, SetLeverage, Deposit)


def _inside_trails(b: Bounds, px: float) -> bool:
    """``px`` neither moves a trailing stop's extreme nor reaches its trigger (floats: strictly
    inside, the trigger widened as in the search)."""
    for e, f in b.trail_high:
        if not e * f * (1 + EPS) < px < e:
            return False
    return all(e < px < e * f * (1 - EPS) for e, f in b.trail_low)


@dataclass
class _Bars:
    """All symbols' bars in one (time, symbol) order, with the index the skip search reads."""

    series: list[CandleSeries]
    sym: np.ndarray  # index into series
    row: np.ndarray  # row within that series
    t0: np.ndarray
    end_max: np.ndarray  # running max of each bar's last millisecond (monotonic)
    index: TouchIndex

    @classmethod
    def build(cls, candles: Sequence[CandleSeries]) -> _Bars:
        series = sorted(candles, key=lambda c: c.symbol)
        sym = np.concatenate([np.full(len(c.ts), i) for i, c in enumerate(series)])
        row = np.concatenate([np.arange(len(c.ts)) for c in series])
        t0 = np.concatenate([c.ts for c in series])
        end = np.concatenate([c.ts + c.period_ms - 1 for c in series])
        order = np.lexsort((sym, t0))
        sym, row = sym[order], row[order]

        def merged(field_name: str) -> np.ndarray:
            return np.concatenate([getattr(c, field_name) for c in series])[order]

        lo, hi = bar_ranges(sym, merged("open"), merged("high"), merged("low"), merged("close"))
        return cls(
            series=series,
            sym=sym,
            row=row,
            t0=t0[order],
            end_max=np.maximum.accumulate(end[order]),
            index=TouchIndex(sym, lo, hi, len(series)),
        )

    def __len__(self) -> int:
        return len(self.t0)


class CandleReplay:
    """Replay candles plus time-stamped inputs and commands through a :class:`Runner`."""

    def __init__(
        self,
        runner: Driver,
        candles: Sequence[CandleSeries],
        timed: Sequence[tuple[int, int, object]],
        *,
        fast: bool = True,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.runner = runner
        self.account = runner.account
        self.bars = _Bars.build(candles)
        self.progress = progress  # (bars done, bars in all), about every 1 % of the bars
        self.timed = sorted(timed, key=lambda x: (x[0], x[1]))
        self.fast = fast
        self._skipped_last: dict[int, int] = {}  # series index -> last skipped row
        self._extremes: list[tuple[int, str, Decimal]] = []  # trailing extremes skipped over
        # series index -> each side of its bounds while still true (see ``_feed``)
        self._position_side: dict[int, Bounds | None] = {}
        self._orders_side: dict[int, Bounds | None] = {}
        self._stream_of = {c.symbol: i for i, c in enumerate(self.bars.series)}
        self._rows = [r.tolist() for r in self.bars.index.rows]  # bisect on lists: no numpy call
        self._lo = [x.tolist() for x in self.bars.index.lo]  # min/max of short spans: no numpy
        self._hi = [x.tolist() for x in self.bars.index.hi]
        self._end_max = self.bars.end_max.tolist()
        self._row_of = self.bars.row.tolist()

    def run(self) -> RunStats:
        bars, timed = self.bars, self.timed
        g, k = 0, 0
        step = max(1, len(bars) // 100)
        report = step if self.progress is not None else len(bars) + 1
        while g < len(bars) or k < len(timed):
            if g >= report:
                self.progress(g, len(bars))  # type: ignore[misc]
                report = g + step
            t_next = timed[k][0] if k < len(timed) else None
            if g < len(bars) and self.fast:
                g = self._skip(g, t_next)
            if g < len(bars) and (t_next is None or bars.t0[g] < t_next):
                self._catch_up()
                k = self._play_bar(g, k)
                g += 1
            elif k < len(timed):
                self._catch_up()
                self._feed(timed[k][2])
                k += 1
        self._catch_up()
        if self.progress is not None:
            self.progress(len(bars), len(bars))
        return self.runner.stats

    def _feed(self, inp: object) -> None:
        """Feed one input and forget the bounds it may have moved (``quiet.py``): a symbol's
        orders side after an event on it (or a price of it: trailing extremes), every
        position side after an event that is not about orders only, the banded ones after a
        price of a banded symbol; everything after any other market input."""
        events = self.runner.feed(inp)
        is_trade = isinstance(inp, LastTrade)
        if not is_trade and not isinstance(inp, COMMANDS):
            self._orders_side.clear()
            self._position_side.clear()
            return
        if is_trade and not events:
            self._quiet_trade(inp)  # type: ignore[arg-type]
            return
        touched = {e.symbol for e in events}
        symbol = getattr(inp, "symbol", "")
        if symbol:
            touched.add(symbol)
        for s in touched:
            self._orders_side.pop(self._stream_of.get(s, -1), None)
        if any(e.kind not in ORDER_ONLY for e in events):
            self._position_side.clear()

    def _quiet_trade(self, inp: LastTrade) -> None:
        """A price that caused nothing can still move a trailing stop (its extreme, or its
        activation when it reached it) and, when it left its band, void its wallet's bands;
        a price strictly inside both sides without a trailing stop changed neither."""
        i, px = self._stream_of[inp.symbol], float(inp.price)
        mine = self._orders_side.get(i, EMPTY)
        if mine is None or not mine.down < px < mine.up or not _inside_trails(mine, px):
            self._orders_side.pop(i, None)
        held = self._position_side
        mine = held.get(i, EMPTY)
        if mine is None or (mine.band and not mine.down < px < mine.up):
            for k in [k for k, b in held.items() if b is None or b.band]:
                del held[k]

    # -- skipping ----------------------------------------------------------------------------
    def _skip(self, g: int, t_next: int | None) -> int:
        """First bar at or after ``g`` that must be played; the ones before are skipped."""
        bars = self.bars
        limit = len(bars)
        due = self.runner.session.next_due_ms()
        for t in (t_next, due):
            if t is not None:
                limit = min(limit, bisect_left(self._end_max, t))
        if limit <= g:
            return g
        bounds = self._bounds_now()
        rows_of = self._rows
        stop = limit
        spans: list[tuple[int, int]] = []
        for s, b in enumerate(bounds):
            rows = rows_of[s]
            a = bisect_left(rows, g)
            e = bisect_left(rows, stop, a)
            if a >= e:
                continue
            spans.append((s, a))
            if b is not None and b.empty:
                continue
            found = a if b is None else self._escape(s, b, a, e)
            if found is not None:
                stop = rows[found]
        if stop > g:
            for s, a in spans:
                rows = rows_of[s]
                e = bisect_left(rows, stop, a)
                if e > a:
                    row_of = self._row_of
                    self._skipped(s, row_of[rows[a]], row_of[rows[e - 1]], bounds[s])
            self.runner.stats.bars_skipped += stop - g
        return stop

    def _escape(self, s: int, b: Bounds, a: int, e: int) -> int | None:
        """First of series ``s``'s rows [a, e) (its own numbering) that can reach ``b``."""
        if e - a <= SHORT_SPAN and stays_inside(self._lo[s][a:e], self._hi[s][a:e], b):
            return None
        return first_escape(self.bars.index.lo[s], self.bars.index.hi[s], b, a, e)

    def _skipped(self, s: int, first: int, last: int, bounds: Bounds | None) -> None:
        """Remember what the catch-up must play: the close of ``last`` and, under a working
        trailing stop, the highest high / lowest low of the skipped rows (its extreme)."""
        c = self.bars.series[s]
        self._skipped_last[s] = last
        if bounds is None:
            return
        quarter = c.period_ms // 4
        # only an extreme beyond a stop's own moves it (floats: equal ones are played)
        if bounds.trail_high:
            r = first + int(np.argmax(c.high[first : last + 1]))
            if c.high[r] >= min(e for e, _ in bounds.trail_high):
                self._extremes.append((int(c.ts[r]) + 2 * quarter, c.symbol, price(c.high[r])))
        if bounds.trail_low:
            r = first + int(np.argmin(c.low[first : last + 1]))
            if c.low[r] <= max(e for e, _ in bounds.trail_low):
                self._extremes.append((int(c.ts[r]) + quarter, c.symbol, price(c.low[r])))

    def _bounds_now(self) -> list[Bounds | None]:
        """Each series' bounds, each side drawn again only when a change made it stale."""
        state, series = self.account.state, self.bars.series
        held, orders = self._position_side, self._orders_side
        missing = [i for i in range(len(series)) if i not in held]
        if missing:
            got = position_bounds(state, [series[i].symbol for i in missing])
            for i in missing:
                held[i] = got[series[i].symbol]
        out: list[Bounds | None] = []
        for i, c in enumerate(series):
            if i not in orders:
                orders[i] = order_bounds(self.account.matching, c.symbol)
            out.append(combine(held[i], orders[i]))
        return out

    def _catch_up(self) -> None:
        """Play what the skipped bars left: trailing extremes (through the matching), then each
        symbol's last close, only recorded: it lies inside every bound and, after the extremes,
        cannot move a trailing stop either (``Session.observe_quiet``)."""
        if not self._skipped_last:
            return
        pending = [
            (int(c.ts[r]) + c.period_ms - 1, c.symbol, price(c.close[r]), True)
            for c, r in ((self.bars.series[i], r) for i, r in self._skipped_last.items())
        ]
        pending += [(ts, symbol, px, False) for ts, symbol, px in self._extremes]
        self._skipped_last, self._extremes = {}, []
        for ts, symbol, px, close in sorted(pending, key=lambda x: (x[0], x[1])):
            trade = self._trade(symbol, ts, px)
            # (a symbol never priced yet gets its flat position from the matching pass)
            if close and symbol in self.account.positions_by_symbol:
                self.runner.session.observe_quiet(trade)
                self._quiet_trade(trade)
            else:
                self._feed(trade)

    # -- playing -----------------------------------------------------------------------------
    def _play_bar(self, g: int, k: int) -> int:
        """Play one bar's four points, applying timed inputs that fall inside it in order."""
        s = int(self.bars.sym[g])
        c = self.bars.series[s]
        r = int(self.bars.row[g])
        o, h, low, close = c.bar(r)
        times = point_times(int(c.ts[r]), c.period_ms)
        timed = self.timed
        prices: tuple[Decimal, ...] | None = None
        for j, ts in enumerate(times):
            while k < len(timed) and timed[k][0] <= ts:
                self._feed(timed[k][2])
                k += 1
            if j == 0:
                self._point(s, self._trade(c.symbol, ts, o))
                # The path is chosen after the open: a fill at the open can set the bias.
                prices = bar_path(o, h, low, close, self.account.path_bias(c.symbol))
                continue
            assert prices is not None
            self._point(s, self._trade(c.symbol, ts, prices[j]))
        self.runner.stats.bars_played += 1
        return k

    def _point(self, s: int, trade: LastTrade) -> None:
        """One path point of a played bar: only recorded when it lies strictly inside bounds
        that are still true, no trailing stop works on it and nothing falls due up to it (the
        matching pass could find nothing: ``Session.observe_quiet``); fed otherwise."""
        held = self._position_side.get(s, EMPTY)
        mine = self._orders_side.get(s, EMPTY)
        px = float(trade.price)
        if (
            s in self._position_side
            and s in self._orders_side
            and held is not None
            and mine is not None
            and max(held.down, mine.down) < px < min(held.up, mine.up)
            and _inside_trails(mine, px)
            and trade.symbol in self.account.positions_by_symbol
        ):
            due = self.runner.session.next_due_ms()
            if due is None or trade.ts_ms < due:
                self.runner.session.observe_quiet(trade)
                self._quiet_trade(trade)
                return
        self._feed(trade)

    def _trade(self, symbol: str, ts: int, px: Decimal) -> LastTrade:
        return LastTrade(self.account.venue, symbol, ts, px, Decimal(0))
