"""Recorded candles → market inputs, with an intra-bar path that never flatters the trader.

A candle only says open, high, low and close; what happened in between is unknown. Each bar is
played as four last-price points: the open at the bar's start, the two extremes at 1/4 and 1/2
of the bar, and the close at its last millisecond. Which extreme comes first is chosen against
the trader (``bar_path``):

* long: **low first**, so a stop below is hit before a target above;
* short: **high first**, for the same reason mirrored;
* flat with only buy entries working: **high first**, so an entry that fills later in the bar
  then meets the low (its stop), not the high (its target); only sell entries: low first;
* nothing to hurt (flat, no entries or both sides working): the extreme nearer the open first.

So when a stop and a take-profit both lie inside one bar, the stop wins. Funding rows become a
``FundingRate`` at their (second-floored) instant, preceded by the recorded 8 h mark price at
that instant as a ``MarkPrice``; without a mark series the last price stands in for mark.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd

from adapters.candles import TIMEFRAME_MS, SeriesFile, find_series, list_series, load_series
from sim.engine.market import FundingRate, MarkPrice
from sim.errors import DataError, InputError


def price(x: float) -> Decimal:
    """A recorded float price as Decimal through its shortest repr (95505.4 stays 95505.4)."""
    return Decimal(repr(float(x)))


def bar_path(
    o: Decimal, h: Decimal, low: Decimal, c: Decimal, bias: int
) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """The four prices of one bar: ``bias`` +1 low first, −1 high first, 0 nearer first."""
    if bias > 0:
        return o, low, h, c
    if bias < 0:
        return o, h, low, c
    if h - o < o - low:
        return o, h, low, c
    return o, low, h, c


def point_times(ts_ms: int, period_ms: int) -> tuple[int, int, int, int]:
    """When the four path points happen inside a bar starting at ``ts_ms``."""
    return ts_ms, ts_ms + period_ms // 4, ts_ms + period_ms // 2, ts_ms + period_ms - 1


@dataclass(frozen=True, slots=True)
class CandleSeries:
    """One symbol's trade candles as numpy arrays (floats only search; Decimals decide)."""

    symbol: str
    timeframe: str
    period_ms: int
    ts: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    path: Path

    @property
    def first_ms(self) -> int:
        """Open of the first bar."""
        return int(self.ts[0])

    @property
    def end_ms(self) -> int:
        """Close of the last bar (its start + one period)."""
        return int(self.ts[-1]) + self.period_ms

    def bar(self, i: int) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        return (
            price(self.open[i]),
            price(self.high[i]),
            price(self.low[i]),
            price(self.close[i]),
        )


def load_candles(path: Path, symbol: str, timeframe: str) -> CandleSeries:
    """Load a trade-candle file as a :class:`CandleSeries`."""
    period = TIMEFRAME_MS.get(timeframe)
    if period is None:
        raise DataError(f"{path}: unknown timeframe '{timeframe}'")
    df = load_series(path)
    return CandleSeries(
        symbol=symbol,
        timeframe=timeframe,
        period_ms=period,
        ts=df["ts_ms"].to_numpy(dtype="int64"),
        open=df["open"].to_numpy(dtype="float64"),
        high=df["high"].to_numpy(dtype="float64"),
        low=df["low"].to_numpy(dtype="float64"),
        close=df["close"].to_numpy(dtype="float64"),
        path=path,
    )


@dataclass(frozen=True, slots=True)
class MarketData:
    """Everything a candle replay needs for its symbols, and what stands in for what."""

    candles: dict[str, CandleSeries]
    funding: list[tuple[int, int, object]]  # (ts_ms, priority, input), time-ordered
    notes: list[str]
    mark_series: dict[str, bool]


def discover(
    root: Path,
    venue: str,
    symbols: Sequence[str] | None = None,
    timeframe: str | None = None,
) -> MarketData:
    """Find trade candles (finest timeframe), funding and mark series under ``root``.

    ``root`` is a recorded file or a folder; symbols are matched by file name. Only the
    symbols with trade candles (of ``timeframe`` when given) are replayed.
    """
    if not root.exists():
        raise InputError(f"--data {root} does not exist; point it at a recorded file or folder")
    found = list_series(root)
    wanted = sorted({sf.symbol for sf in found if sf.kind == "futures"})
    if symbols is not None:
        wanted = [s for s in wanted if s in set(symbols)]
    if timeframe is not None:
        wanted = [
            s
            for s in wanted
            if any(
                sf.symbol == s and sf.kind == "futures" and sf.timeframe == timeframe
                for sf in found
            )
        ]
    if not wanted:
        tf = f" {timeframe}" if timeframe else ""
        for_what = f" for {', '.join(symbols)}" if symbols else ""
        raise InputError(
            f"no{tf} trade-candle files{for_what} (like BTC_USDT_USDT-1m-futures.feather) "
            f"under {root}; {available(found)}"
        )
    dirs = [root if root.is_dir() else root.parent]
    candles: dict[str, CandleSeries] = {}
    funding: list[tuple[int, int, object]] = []
    notes: list[str] = []
    marks: dict[str, bool] = {}
    for sym in wanted:
        sf = find_series(sym, "futures", timeframe, [root] if root.is_file() else dirs)
        if sf is None:
            continue
        series = load_candles(sf.path, sym, sf.timeframe)
        candles[sym] = series
        start, end = int(series.ts[0]), int(series.ts[-1]) + series.period_ms
        rates = find_series(sym, "funding_rate", None, dirs)
        mark = find_series(sym, "mark", None, dirs)
        marks[sym] = mark is not None
        if rates is not None:
            mark_df = load_series(mark.path) if mark is not None else None
            rate_df = load_series(rates.path)
            funding.extend(funding_inputs(venue, sym, rate_df, mark_df, start, end))
            notes.extend(funding_holes(sym, rate_df["ts_ms"].tolist(), start, end))
        else:
            notes.append(f"{sym}: no funding-rate series found; no funding is charged")
    funding.sort(key=lambda x: (x[0], x[1]))
    return MarketData(candles, funding, notes, marks)


def funding_inputs(
    venue: str,
    symbol: str,
    rates: pd.DataFrame,
    marks: pd.DataFrame | None,
    start_ms: int,
    end_ms: int,
) -> list[tuple[int, int, object]]:
    """(ts, priority, input) for each funding instant in [start, end): mark first, then rate.

    The mark at a funding instant is the open of the 8 h mark candle starting at that instant
    (funding times are already floored to the second by the loader). Without one, no
    ``MarkPrice`` is sent and the account's last price stands in.
    """
    mark_at: dict[int, float] = {}
    if marks is not None:
        mark_at = dict(zip(marks["ts_ms"].tolist(), marks["open"].tolist(), strict=True))
    out: list[tuple[int, int, object]] = []
    for t, rate in zip(rates["ts_ms"].tolist(), rates["rate"].tolist(), strict=True):
        if not start_ms <= t < end_ms:
            continue
        if t in mark_at:
            out.append((t, 0, MarkPrice(venue, symbol, t, price(mark_at[t]))))
        out.append((t, 0, FundingRate(venue, symbol, t, price(rate), t)))
    return out


def funding_holes(symbol: str, instants: Sequence[int], start_ms: int, end_ms: int) -> list[str]:
    """One note per hole in a funding-rate series inside [start, end): consecutive instants
    (or the replay's edges) further apart than 1.5 funding intervals, the interval being the
    series' most common spacing. No funding is charged in a hole, so the user must know."""
    times = sorted(set(instants))
    steps = [b - a for a, b in pairwise(times) if b > a]
    if not steps:
        return []
    interval = Counter(steps).most_common(1)[0][0]
    inside = [t for t in times if start_ms <= t < end_ms]
    before = [t for t in times if t < start_ms]
    after = [t for t in times if t >= end_ms]
    edges = ([before[-1]] if before else [start_ms]) + inside + ([after[0]] if after else [end_ms])
    notes = []
    for a, b in pairwise(edges):
        if b - a > interval * 3 // 2:
            hours = interval / 3_600_000
            notes.append(
                f"{symbol}: the funding-rate series has a hole from {_when(max(a, start_ms))} to "
                f"{_when(min(b, end_ms))} UTC ({_span(min(b, end_ms) - max(a, start_ms))}; "
                f"instants every {hours:g}h expected); no funding is charged in it"
            )
    return notes


def _span(ms: int) -> str:
    days, rest = divmod(ms, 86_400_000)
    hours = round(rest / 3_600_000, 1)
    return f"{days} d {hours:g} h" if days else f"{hours:g} h"


def available(found: Iterable[SeriesFile]) -> str:
    """Which symbols have trade candles (and in which timeframes), for error messages."""
    tfs: dict[str, set[str]] = {}
    for sf in found:
        if sf.kind == "futures":
            tfs.setdefault(sf.symbol, set()).add(sf.timeframe)
    if not tfs:
        return "no symbol has trade candles there"
    key = lambda tf: TIMEFRAME_MS.get(tf, 1 << 62)  # noqa: E731
    listed = [f"{s} ({', '.join(sorted(t, key=key))})" for s, t in sorted(tfs.items())]
    return f"data there: {', '.join(listed)}"


def _when(ts_ms: int) -> str:
    when = datetime.fromtimestamp(ts_ms / 1000, tz=UTC)
    return when.strftime("%Y-%m-%d %H:%M:%S" if ts_ms % 60_000 else "%Y-%m-%d %H:%M")


@dataclass(frozen=True, slots=True)
class RecordedSpan:
    """The time a raw recording covers: first to last receipt time, ``what`` names it."""

    first_ms: int
    end_ms: int
    what: str = "recorded data"


def check_order_times(
    candles: Mapping[str, CandleSeries | RecordedSpan], rows: Iterable[tuple[str, str, int]]
) -> None:
    """Refuse an order whose time lies outside [first bar open, last bar close] of its series.

    ``rows`` are (where, symbol, ts_ms), ``where`` naming the row for the message. Outside the
    data there is no price: filling at the nearest recorded bar would invent one. A raw
    recording gives one :class:`RecordedSpan` per symbol instead of a candle series.
    """
    for where, symbol, ts_ms in rows:
        series = candles.get(symbol)
        if series is None or series.first_ms <= ts_ms <= series.end_ms:
            continue
        what = (
            f"recorded {series.timeframe} data" if isinstance(series, CandleSeries) else series.what
        )
        raise InputError(
            f"{where}: time {_when(ts_ms)} UTC is outside the {what} "
            f"for {symbol} ({_when(series.first_ms)} → {_when(series.end_ms)} UTC); "
            "move the order inside that range or point --data at data that covers it"
        )


def replay_notes(market: MarketData, symbols: Sequence[str]) -> list[str]:
    """What stands in for what in a candle replay (mark rule, intra-bar path), for the user."""
    notes = list(market.notes)
    for s in symbols:
        if market.mark_series.get(s):
            notes.append(
                f"{s}: mark price = last price of the candle path between the recorded 8h "
                "mark prices (those are used at funding instants)"
            )
        else:
            notes.append(f"{s}: no mark-price series; the last price stands in for mark")
    notes.append(
        "intra-bar path: open, then the extreme against the trader (low first when long or "
        "with sell entries working, high first when short or with buy entries), then the "
        "other extreme, then close"
    )
    return notes


def capture_notes(name: str) -> list[str]:
    """What stands in for what when replaying raw exchange messages (no mark, no funding)."""
    return [
        f"{name}: recorded exchange messages (trades, book top and depth); "
        "the last price stands in for mark, no funding in the recording"
    ]
