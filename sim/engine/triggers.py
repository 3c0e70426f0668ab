"""Numpy search for the next price that can touch a trigger level (what makes replay fast).

Between orders an account changes only when a price reaches a level: a stop or take-profit
trigger, a limit price, a trailing extreme or the liquidation price (``views.quiet_levels``),
or when a funding instant or an expiry comes (``next_due_ms``). A replay therefore keeps the
prices as float arrays, finds the first row whose range can hold a level, jumps there, and lets
the account re-check that row in Decimal. Floats only *search*: every range is widened by a
relative tolerance, so rounding can only make a quiet row look busy (played for nothing), never
the reverse.

A row's range is the path from the previous price of the same stream to this row's price (for a
bar: to its low and high as well), so a level crossed between two prints is found at the row
that crossed it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np

from sim.engine import risk
from sim.engine.margin import liquidation_price as solve_liquidation
from sim.engine.margin import pnl
from sim.engine.money import ZERO
from sim.engine.venues.base import MarginContext

if TYPE_CHECKING:
    from sim.engine.state import AccountState

EPS = 1e-9  # relative widening of every range: scan a little wider, Decimal decides
_WINDOW_MIN, _WINDOW_MAX = 64, 1 << 16


def widen(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ranges widened by the float tolerance (prices are positive)."""
    return lo * (1 - EPS), hi * (1 + EPS)


def tick_ranges(
    stream: np.ndarray, low: np.ndarray, high: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's widened [lo, hi]: from the previous row of its stream to this row.

    A trade or mark tick passes its price as both ``low`` and ``high``; a book top passes
    bid and ask, so a limit reached by either side of the book is found.
    """
    prev_lo, prev_hi = low.astype("float64").copy(), high.astype("float64").copy()
    for s in np.unique(stream):
        rows = np.flatnonzero(stream == s)
        prev_lo[rows[1:]] = low[rows[:-1]]
        prev_hi[rows[1:]] = high[rows[:-1]]
    return widen(np.minimum(low, prev_lo), np.maximum(high, prev_hi))


def bar_ranges(
    stream: np.ndarray,
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's [lo, hi] including the previous close of the same stream (first row: open)."""
    prev = open_.astype("float64").copy()
    for s in np.unique(stream):
        rows = np.flatnonzero(stream == s)
        prev[rows[1:]] = close[rows[:-1]]
    lo = np.minimum(np.minimum(low, open_), prev)
    hi = np.maximum(np.maximum(high, open_), prev)
    return widen(lo, hi)


def first_inside(
    lo: np.ndarray, hi: np.ndarray, levels: np.ndarray, start: int, stop: int
) -> int | None:
    """First index in [start, stop) whose [lo, hi] holds one of the sorted ``levels``.

    Searched in growing windows, so a hit just ahead costs little and a long quiet stretch
    is scanned in big vectorized steps.
    """
    window = _WINDOW_MIN
    while start < stop:
        end = min(stop, start + window)
        below = np.searchsorted(levels, lo[start:end], side="left")
        upto = np.searchsorted(levels, hi[start:end], side="right")
        found = np.flatnonzero(upto > below)
        if len(found):
            return start + int(found[0])
        start = end
        window = min(window * 2, _WINDOW_MAX)
    return None


def level_array(levels: Sequence[Decimal] | None) -> np.ndarray | None:
    """Sorted float levels for the search; None stays None (every price matters)."""
    if levels is None:
        return None
    return np.sort(np.array([float(x) for x in levels], dtype="float64"))


class TouchIndex:
    """The rows of a time-ordered, multi-stream price sequence, split by stream for the search.

    ``stream[i]`` says which stream row ``i`` belongs to (a symbol, or a symbol's last/mark/book
    prices); ``lo``/``hi`` are the rows' widened ranges (:func:`bar_ranges`).
    """

    def __init__(self, stream: np.ndarray, lo: np.ndarray, hi: np.ndarray, n_streams: int) -> None:
        self.n = len(stream)
        self.rows = [np.flatnonzero(stream == s) for s in range(n_streams)]
        self.lo = [lo[r] for r in self.rows]
        self.hi = [hi[r] for r in self.rows]

    def next_row(self, s: int, start: int) -> int | None:
        """The first row of stream ``s`` at or after ``start``."""
        rows = self.rows[s]
        k = int(np.searchsorted(rows, start, side="left"))
        return int(rows[k]) if k < len(rows) else None

    def first_touch(self, start: int, stop: int, levels: Sequence[np.ndarray | None]) -> int:
        """First row in [start, stop) that can touch its stream's levels; ``stop`` if none.

        ``levels[s]`` is None when every price of stream ``s`` matters (its first row is
        returned) and empty when nothing is working on it.
        """
        best = stop
        for s, lv in enumerate(levels):
            if lv is not None and not len(lv):
                continue
            rows = self.rows[s]
            a = int(np.searchsorted(rows, start, side="left"))
            b = int(np.searchsorted(rows, best, side="left"))
            if a >= b:
                continue
            if lv is None:
                best = int(rows[a])
                continue
            found = first_inside(self.lo[s], self.hi[s], lv, a, b)
            if found is not None:
                best = int(rows[found])
        return best


@dataclass(frozen=True, slots=True)
class Bounds:
    """Where nothing can happen for one symbol: prices strictly between ``down`` and ``up``.

    ``trail_high``: (extreme, factor) of each active sell trailing stop: the extreme follows
    the highs and the stop fires at or below extreme × factor. ``trail_low``: buy trailing
    stops (the lows; fires at or above). ``band``: drawn around the marks of a cross wallet,
    so it is stale as soon as any of that wallet's marks moves.
    """

    down: float = -math.inf
    up: float = math.inf
    trail_high: tuple[tuple[float, float], ...] = ()
    trail_low: tuple[tuple[float, float], ...] = ()
    band: bool = False

    @property
    def empty(self) -> bool:
        """Nothing is working: every price is quiet."""
        quiet = self.down == -math.inf and self.up == math.inf
        return quiet and not self.trail_high and not self.trail_low


def first_escape(
    lo: np.ndarray, hi: np.ndarray, bounds: Bounds, start: int, stop: int
) -> int | None:
    """First index in [start, stop) whose [lo, hi] reaches ``bounds`` (``quiet.Bounds``:
    half-lines plus the moving bounds of trailing stops).

    A sell trailing stop's extreme at a row is the running max of the highs up to and
    including that row (at least what the path reached before its low), so comparing the
    row's low with extreme × factor can only play a row too many, never skip one.
    """
    down, up = bounds.down, bounds.up
    highs = [e for e, _ in bounds.trail_high]
    lows = [e for e, _ in bounds.trail_low]
    window = _WINDOW_MIN
    while start < stop:
        end = min(stop, start + window)
        seg_lo, seg_hi = lo[start:end], hi[start:end]
        hit = (seg_lo <= down) | (seg_hi >= up)
        run_hi = np.maximum.accumulate(seg_hi) if highs else seg_hi
        run_lo = np.minimum.accumulate(seg_lo) if lows else seg_lo
        for k, (_, f) in enumerate(bounds.trail_high):
            hit |= seg_lo <= np.maximum(run_hi, highs[k]) * (f * (1 + EPS))
        for k, (_, f) in enumerate(bounds.trail_low):
            hit |= seg_hi >= np.minimum(run_lo, lows[k]) * (f * (1 - EPS))
        found = np.flatnonzero(hit)
        if len(found):
            return start + int(found[0])
        highs = [max(e, float(run_hi[-1])) for e in highs]
        lows = [min(e, float(run_lo[-1])) for e in lows]
        start = end
        window = min(window * 2, _WINDOW_MAX)
    return None


def stays_inside(lo: Sequence[float], hi: Sequence[float], bounds: Bounds) -> bool:
    """No row of a span can reach ``bounds``, judged on its lowest low and highest high alone:
    what a busy replay's search mostly answers (the span ends at the next order), without
    :func:`first_escape`'s numpy calls.

    Conservative: a trailing extreme can only reach the span's highest high (lowest low), so
    "inside" here is inside for every row; "not inside" leaves the row search to decide.
    """
    if not lo:
        return True
    low, high = min(lo), max(hi)
    if low <= bounds.down or high >= bounds.up:
        return False
    for e, f in bounds.trail_high:
        if low <= max(high, e) * (f * (1 + EPS)):
            return False
    return all(high < min(low, e) * (f * (1 - EPS)) for e, f in bounds.trail_low)


# Relative half-widths tried for the cross bands, widest first (see cross_band_levels).
BANDS = (Decimal("0.02"), Decimal("0.005"), Decimal("0.001"))


def cross_band_levels(acct: AccountState, symbol: str) -> list[Decimal] | None:
    """Quiet levels of a cross position that shares its wallet: a band around each mark.

    A cross position's liquidation price moves with the other positions' marks, so no single
    level is enough. Instead every cross position of the wallet gets a band, mark × (1 ± δ),
    and δ is accepted when no position can be liquidated while every mark stays inside its
    band: for each position, its liquidation price is solved (the venue's own formula) with
    the others at their worst band edge (longs at the bottom, shorts at the top, their
    maintenance raised at the highest bracket rate) and must lie outside its own band. The
    two edges are then the position's levels: a price leaving a band is played in Decimal and
    the bands are drawn again around the new marks. The widest δ of ``BANDS`` that holds is
    used; None (every price matters) when none holds, a mark is missing or a contract is
    inverse (its PnL is not linear in the price).
    """
    group = cross_group(acct, acct.specs[symbol].settle)
    if symbol not in group:
        return None
    bands = wallet_bands(acct, group, BANDS)
    return None if bands is None else list(bands[symbol])


def cross_group(acct: AccountState, settle: str) -> list[str]:
    """The open cross positions' symbols sharing the ``settle`` wallet, sorted."""
    return sorted(
        s
        for s, p in acct.positions_by_symbol.items()
        if p.contracts != 0 and p.margin_mode == "cross" and acct.specs[s].settle == settle
    )


def wallet_bands(
    acct: AccountState, group: list[str], widths: Iterable[Decimal]
) -> dict[str, tuple[Decimal, Decimal]] | None:
    """Band edges of every position of a cross ``group`` at the widest of ``widths`` that holds
    (see :func:`cross_band_levels`); None when none holds, a mark is missing or a contract is
    inverse."""
    if any(acct.specs[s].inverse for s in group):
        return None
    marks: dict[str, Decimal] = {}
    for s in group:
        mark = acct.mark(s)
        if mark is None:
            return None
        marks[s] = mark
    for delta in widths:
        if all(band_holds(acct, s, marks, delta) for s in group):
            return {s: (m * (1 - delta), m * (1 + delta)) for s, m in marks.items()}
    return None


def band_holds(acct: AccountState, symbol: str, marks: dict[str, Decimal], delta: Decimal) -> bool:
    """No liquidation of ``symbol`` while every mark stays within ``delta`` of its value."""
    ctx = risk.context(acct, symbol)
    if ctx is None:
        return False
    d_upnl = d_maint = ZERO
    for other, mark in marks.items():
        if other == symbol:
            continue
        pos, spec = acct.positions_by_symbol[other], acct.specs[other]
        long = pos.contracts > 0
        edge = mark * (1 - delta) if long else mark * (1 + delta)
        exp = pos.exposure(spec)
        d_upnl += pnl(exp, edge) - pnl(exp, mark)
        if not long:  # a short's maintenance grows with the price, at most at the top rate
            top_rate = max((t.mmr for t in spec.tiers), default=ZERO)
            d_maint += spec.notional(pos.contracts, edge - mark) * top_rate
    worst = MarginContext(  # dataclasses.replace without its per-call cost
        ctx.mode,
        ctx.wallet,
        ctx.leverage,
        ctx.tier,
        ctx.taker_fee,
        ctx.other_maint + d_maint,
        ctx.other_upnl + d_upnl,
    )
    pos, spec = acct.positions_by_symbol[symbol], acct.specs[symbol]
    lp, _ = solve_liquidation(acct.rules, pos.exposure(spec), worst, spec.tiers)
    if lp is None:
        return True
    mark = marks[symbol]
    return lp < mark * (1 - delta) if pos.contracts > 0 else lp > mark * (1 + delta)


def next_due_ms(acct: AccountState) -> int | None:
    """The next time at which the account acts without a price: funding or an expiry."""
    times = [t for t, _ in acct.funding.pending.values()]
    times += [t for t, s in acct.dated if s not in acct.expired]
    return min(times) if times else None


class PriceTape:
    """Decoded market inputs as searchable arrays: decoded once, replayed by row.

    Trades, marks and book tops are price rows, one stream per (symbol, kind); any other input
    (depth, funding rate, feed status) is a row of the last stream, which has no levels, so
    the search always stops at it and it is always played.
    """

    PRICE_KINDS = ("LastTrade", "MarkPrice", "BookTop")

    def __init__(self, inputs: Sequence[object]) -> None:
        self.inputs = list(inputs)
        keys: dict[tuple[str, str], int] = {}
        n = len(self.inputs)
        stream = np.empty(n, dtype="int64")
        low = np.ones(n, dtype="float64")
        high = np.ones(n, dtype="float64")
        self.ts = np.array([int(x.ts_ms) for x in self.inputs], dtype="int64")  # type: ignore[attr-defined]
        # Running max: recorded event times can step back a little; the search for "the first
        # row at or after t" must still be exact.
        self.ts_max = np.maximum.accumulate(self.ts) if n else self.ts
        kinds: list[tuple[str, str] | None] = []
        for i, inp in enumerate(self.inputs):
            kind = type(inp).__name__
            if kind not in self.PRICE_KINDS:
                kinds.append(None)
                continue
            key = (inp.symbol, kind)  # type: ignore[attr-defined]
            kinds.append(key)
            keys.setdefault(key, len(keys))
            if kind == "BookTop":
                low[i], high[i] = float(inp.bid), float(inp.ask)  # type: ignore[attr-defined]
            else:
                low[i] = high[i] = float(inp.price)  # type: ignore[attr-defined]
        self.other = len(keys)
        for i, key in enumerate(kinds):
            stream[i] = self.other if key is None else keys[key]
        self.streams: list[tuple[str, str]] = sorted(keys, key=keys.__getitem__)
        self.symbols = [s for s, _ in self.streams]
        self.stream = stream
        lo, hi = tick_ranges(stream, np.minimum(low, high), np.maximum(low, high))
        self.index = TouchIndex(stream, lo, hi, self.other + 1)

    def __len__(self) -> int:
        return len(self.inputs)
