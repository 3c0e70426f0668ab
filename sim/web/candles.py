"""Candles for the charts, never ahead of the session's clock.

Live, bars are built from the last prices the session was fed. On a candle replay the closed
bars (with their recorded volume) come from the recording up to the replay's clock, and the bar
being played is built from the prices fed so far, so the chart shows what the trader could have
seen then and nothing later. Prices here are floats: they only draw charts (the ledger is
Decimal).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np

MAX_BARS = 20_000  # kept per symbol when bars are built from prices (live)


class CandleBook:
    """Bars per symbol of one period; ``market`` (a ``MarketData``) when replaying candles."""

    def __init__(self, period_ms: int, market: Any = None) -> None:
        self.period_ms = period_ms
        self.market = market
        self.built: dict[str, list[list[float]]] = {}  # [t_ms, o, h, l, c, v]
        self._volumes: dict[str, np.ndarray] = {}

    def observe(self, symbol: str, ts_ms: int, price: Decimal, qty: Decimal) -> None:
        """Add one last price to the symbol's current bar (a new bar when its period starts)."""
        p, q = float(price), float(qty)
        start = ts_ms // self.period_ms * self.period_ms
        bars = self.built.setdefault(symbol, [])
        if bars and bars[-1][0] == start:
            bar = bars[-1]
            bar[2], bar[3], bar[4] = max(bar[2], p), min(bar[3], p), p
            bar[5] += q
        elif not bars or bars[-1][0] < start:
            bars.append([start, p, p, p, p, q])
            if len(bars) > MAX_BARS:
                del bars[: len(bars) - MAX_BARS]

    def _volume(self, symbol: str) -> np.ndarray | None:
        series = self.market.candles[symbol]
        if symbol not in self._volumes:
            from adapters.candles import load_series

            frame = load_series(series.path)
            vol = frame["volume"].to_numpy(dtype="float64") if "volume" in frame else None
            self._volumes[symbol] = vol if vol is not None and len(vol) == len(series.ts) else None
        return self._volumes[symbol]

    def bars(
        self, symbol: str, now_ms: int, n: int = 500, start_ms: int | None = None,
        end_ms: int | None = None,
    ) -> list[dict[str, float]]:  # fmt: skip
        """The last ``n`` bars opened in [start_ms, end_ms], none opening after ``now_ms``."""
        rows: list[list[float]] = []
        built = self.built.get(symbol, [])
        current = built[-1] if built else None
        if self.market is not None and symbol in self.market.candles:
            c = self.market.candles[symbol]
            # closed bars: those opening before the bar being played (or ended by now_ms)
            cutoff = int(current[0]) if current is not None else now_ms - self.period_ms + 1
            stop = int(np.searchsorted(c.ts, cutoff))
            if end_ms is not None:
                stop = min(stop, int(np.searchsorted(c.ts, end_ms, side="right")))
            lo = max(0, stop - n) if start_ms is None else int(np.searchsorted(c.ts, start_ms))
            vol = self._volume(symbol)
            for i in range(lo, stop):
                v = float(vol[i]) if vol is not None else 0.0
                rows.append([int(c.ts[i]), c.open[i], c.high[i], c.low[i], c.close[i], v])
            if current is not None and (not rows or current[0] > rows[-1][0]):
                rows.append(current)
        else:
            rows = [b for b in built if b[0] <= now_ms]
        if start_ms is not None:
            rows = [r for r in rows if r[0] >= start_ms]
        if end_ms is not None:
            rows = [r for r in rows if r[0] <= end_ms]
        return [
            {"time": int(r[0]) // 1000, "open": float(r[1]), "high": float(r[2]),
             "low": float(r[3]), "close": float(r[4]), "volume": float(r[5])}
            for r in rows[-n:]
        ]  # fmt: skip
