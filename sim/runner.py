"""Feed inputs into an Account in time order and publish its events on the bus.

A candle replay merges three streams by time: non-bar inputs (funding marks and rates,
priority 0), user commands (priority 1) and the bars' path points (``adapters/pricepath.py``).
At equal times funding comes first (a position open at the instant pays), then commands, then
prices. Bars whose price range cannot touch anything working for their symbol (no trigger,
limit, trailing extreme or liquidation price inside it) are skipped with a numpy scan; before
anything else happens the last skipped bar's close is played, so the account ends up exactly
where the bar-by-bar path would have left it (``fast=False`` plays every bar; tests compare).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from adapters.pricepath import CandleSeries, bar_path, point_times
from sim.bus import Bus
from sim.engine.account import Account
from sim.engine.events import Event
from sim.engine.market import LastTrade

_EPS = 1e-9  # float search tolerance: scan a little wider, Decimal decides
_WINDOW_MIN, _WINDOW_MAX = 64, 1 << 16


@dataclass
class RunStats:
    """What a run did: bars played point by point, bars skipped, inputs applied, events."""

    bars_played: int = 0
    bars_skipped: int = 0
    inputs: int = 0
    events: int = 0
    event_counts: dict[str, int] = field(default_factory=dict)


class Runner:
    """Apply inputs to the account one by one and publish each batch of events."""

    def __init__(self, account: Account, bus: Bus | None = None) -> None:
        self.account = account
        self.bus = bus or Bus()
        self.stats = RunStats()

    def feed(self, inp: object) -> list[Event]:
        events = self.account.apply(inp)
        self.stats.inputs += 1
        if events:
            self.stats.events += len(events)
            for e in events:
                self.stats.event_counts[e.kind] = self.stats.event_counts.get(e.kind, 0) + 1
            self.bus.publish(events)
        return events

    def run(self, inputs: Iterable[object]) -> RunStats:
        """Apply already time-ordered inputs (a live feed or a raw recording)."""
        for inp in inputs:
            self.feed(inp)
        return self.stats

    def run_merged(
        self, inputs: Iterable[object], timed: Sequence[tuple[int, int, object]]
    ) -> RunStats:
        """Apply time-ordered market inputs with (ts, priority, command) items merged in.

        A command goes in before the first market input at or after its time.
        """
        pending = sorted(timed, key=lambda x: (x[0], x[1]))
        k = 0
        for inp in inputs:
            ts = inp.ts_ms  # type: ignore[attr-defined]
            while k < len(pending) and pending[k][0] <= ts:
                self.feed(pending[k][2])
                k += 1
            self.feed(inp)
        for _, _, cmd in pending[k:]:
            self.feed(cmd)
        return self.stats


@dataclass
class _Bars:
    """All symbols' bars in one (time, symbol) order, with the arrays the skip scan reads."""

    series: list[CandleSeries]
    sym: np.ndarray  # index into series
    row: np.ndarray  # row within that series
    t0: np.ndarray
    end_max: np.ndarray  # running max of each bar's last millisecond (monotonic)
    lo: np.ndarray  # min(low, previous close) - tolerance
    hi: np.ndarray  # max(high, previous close) + tolerance

    @classmethod
    def build(cls, candles: Sequence[CandleSeries]) -> _Bars:
        series = sorted(candles, key=lambda c: c.symbol)
        sym = np.concatenate([np.full(len(c.ts), i) for i, c in enumerate(series)])
        row = np.concatenate([np.arange(len(c.ts)) for c in series])
        t0 = np.concatenate([c.ts for c in series])
        end = np.concatenate([c.ts + c.period_ms - 1 for c in series])
        lo_parts, hi_parts = [], []
        for c in series:
            prev = np.concatenate([c.open[:1], c.close[:-1]])
            lo_parts.append(np.minimum(c.low, prev))
            hi_parts.append(np.maximum(c.high, prev))
        lo, hi = np.concatenate(lo_parts), np.concatenate(hi_parts)
        order = np.lexsort((sym, t0))
        return cls(
            series=series,
            sym=sym[order],
            row=row[order],
            t0=t0[order],
            end_max=np.maximum.accumulate(end[order]),
            lo=lo[order] * (1 - _EPS),
            hi=hi[order] * (1 + _EPS),
        )

    def __len__(self) -> int:
        return len(self.t0)


class CandleReplay:
    """Replay candles plus time-stamped inputs and commands through a :class:`Runner`."""

    def __init__(
        self,
        runner: Runner,
        candles: Sequence[CandleSeries],
        timed: Sequence[tuple[int, int, object]],
        *,
        fast: bool = True,
    ) -> None:
        self.runner = runner
        self.account = runner.account
        self.bars = _Bars.build(candles)
        self.timed = sorted(timed, key=lambda x: (x[0], x[1]))
        self.fast = fast
        self._skipped_last: dict[int, int] = {}  # series index -> last skipped row

    def run(self) -> RunStats:
        bars, timed = self.bars, self.timed
        g, k = 0, 0
        while g < len(bars) or k < len(timed):
            t_next = timed[k][0] if k < len(timed) else None
            if g < len(bars) and self.fast:
                g = self._skip(g, t_next)
            if g < len(bars) and (t_next is None or bars.t0[g] < t_next):
                self._catch_up()
                k = self._play_bar(g, k)
                g += 1
            elif k < len(timed):
                self._catch_up()
                self.runner.feed(timed[k][2])
                k += 1
        self._catch_up()
        return self.runner.stats

    # -- skipping ----------------------------------------------------------------------------
    def _skip(self, g: int, t_next: int | None) -> int:
        """First bar at or after ``g`` that must be played; the ones before are skipped."""
        bars = self.bars
        limit = len(bars)
        if t_next is not None:
            limit = int(np.searchsorted(bars.end_max, t_next, side="left"))
        if limit <= g:
            return g
        levels = [self._levels(i) for i in range(len(bars.series))]
        stop = self._first_touch(g, limit, levels)
        if stop > g:
            for i in range(len(bars.series)):
                rows = bars.row[g:stop][bars.sym[g:stop] == i]
                if len(rows):
                    self._skipped_last[i] = int(rows[-1])
            self.runner.stats.bars_skipped += stop - g
        return stop

    def _levels(self, i: int) -> np.ndarray | None:
        found = self.account.quiet_levels(self.bars.series[i].symbol)
        if found is None:
            return None
        return np.array([float(x) for x in found], dtype="float64")

    def _first_touch(self, g: int, limit: int, levels: list[np.ndarray | None]) -> int:
        bars = self.bars
        window = _WINDOW_MIN
        start = g
        while start < limit:
            end = min(limit, start + window)
            sym = bars.sym[start:end]
            lo, hi = bars.lo[start:end], bars.hi[start:end]
            hit = np.zeros(end - start, dtype=bool)
            for i, lv in enumerate(levels):
                mine = sym == i
                if lv is None:
                    hit |= mine
                elif len(lv):
                    inside = (lo[:, None] <= lv[None, :]) & (hi[:, None] >= lv[None, :])
                    hit |= mine & inside.any(axis=1)
            found = np.flatnonzero(hit)
            if len(found):
                return start + int(found[0])
            start = end
            window = min(window * 2, _WINDOW_MAX)
        return limit

    def _catch_up(self) -> None:
        """Play the close of each symbol's last skipped bar, as the full path would have."""
        if not self._skipped_last:
            return
        pending = sorted(
            (
                self.bars.series[i].ts[r] + self.bars.series[i].period_ms - 1,
                self.bars.series[i].symbol,
                i,
                r,
            )
            for i, r in self._skipped_last.items()
        )
        self._skipped_last = {}
        for ts, symbol, i, r in pending:
            c = self.bars.series[i]
            self.runner.feed(self._trade(symbol, int(ts), c.bar(r)[3]))

    # -- playing -----------------------------------------------------------------------------
    def _play_bar(self, g: int, k: int) -> int:
        """Play one bar's four points, applying timed inputs that fall inside it in order."""
        c = self.bars.series[int(self.bars.sym[g])]
        r = int(self.bars.row[g])
        o, h, low, close = c.bar(r)
        times = point_times(int(c.ts[r]), c.period_ms)
        timed = self.timed
        prices: tuple[Decimal, ...] | None = None
        for j, ts in enumerate(times):
            while k < len(timed) and timed[k][0] <= ts:
                self.runner.feed(timed[k][2])
                k += 1
            if j == 0:
                self.runner.feed(self._trade(c.symbol, ts, o))
                # The path is chosen after the open: a fill at the open can set the bias.
                prices = bar_path(o, h, low, close, self.account.path_bias(c.symbol))
                continue
            assert prices is not None
            self.runner.feed(self._trade(c.symbol, ts, prices[j]))
        self.runner.stats.bars_played += 1
        return k

    def _trade(self, symbol: str, ts: int, px: Decimal) -> LastTrade:
        return LastTrade(self.account.venue, symbol, ts, px, Decimal(0))
