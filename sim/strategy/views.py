"""What a strategy can look at: account views, contract specs and recent prices as pandas."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

import numpy as np
import pandas as pd

from sim.engine.account import DEFAULT_LEVERAGE, Account, PositionView
from sim.engine.commands import Command
from sim.engine.money import ZERO
from sim.engine.orders import Order
from sim.engine.spec import ContractSpec
from sim.errors import InputError
from sim.strategy.values import Bar, Ticket


class Ohlc(NamedTuple):
    """The last closed bars of one symbol as read-only numpy arrays (views, no copies).

    ``ctx.ohlc(n=20).high.max()`` costs microseconds where a pandas frame costs a hundred or
    more: the way for a rule that runs on every bar of a month.
    """

    ts_ms: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray

    def __len__(self) -> int:  # type: ignore[override]
        return len(self.ts_ms)


class History:
    """Closed bars of one symbol, oldest first (floats: for analysis; Bars carry Decimals).

    Kept in numpy arrays (one per column): growing ones for a live feed, or, in a replay, the
    recorded series itself (:meth:`preload`: a closed bar then only moves the end). ``ohlc(n)``
    hands out read-only views; ``frame(n)`` a pandas frame, built once per bar and ``n`` (a
    replay slices one frame of the whole series, built once) and handed out as cheap copies
    (pandas copy-on-write: changing one never changes the cached frame).
    """

    __slots__ = ("_cols", "_frames", "_full", "_known", "_n", "_view", "last", "symbol")

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.last: Bar | None = None
        self._n = 0
        self._known = 0  # rows preloaded from a recorded series (0: filled bar by bar)
        self._full: pd.DataFrame | None = None
        self._cols = [np.empty(256, dtype="int64"), *(np.empty(256) for _ in range(4))]
        self._view = self._read_only()
        self._frames: dict[int | None, pd.DataFrame] = {}

    def _read_only(self) -> list[np.ndarray]:
        views = [c.view() for c in self._cols]
        for v in views:
            v.flags.writeable = False
        return views

    def preload(self, cols: Sequence[np.ndarray]) -> None:
        """Take the recorded series (start ms, open, high, low, close) whose bars will close in
        order: ``add`` then checks each bar's start and moves the end, copying nothing."""
        if self._n:
            raise ValueError("preload before the first bar")
        self._cols = [np.asarray(cols[0], dtype="int64"), *(np.asarray(c) for c in cols[1:])]
        self._known = len(self._cols[0])
        self._view = self._read_only()

    def __len__(self) -> int:
        return self._n

    @property
    def ts(self) -> list[int]:
        return self._cols[0][: self._n].tolist()

    @property
    def close(self) -> list[float]:
        return self._cols[4][: self._n].tolist()

    def add(self, bar: Bar) -> None:
        n = self._n
        cols = self._cols
        if self._known:
            if n < self._known and cols[0][n] == bar.ts_ms:
                self._closed(n, bar)
                return
            self._own()  # not the recorded next bar: keep the bars so far, then grow
            cols = self._cols
        if n == len(cols[0]):
            cols = self._cols = [np.resize(c, max(256, 2 * n)) for c in cols]
            self._view = self._read_only()
        cols[0][n] = bar.ts_ms
        cols[1][n] = float(bar.open)
        cols[2][n] = float(bar.high)
        cols[3][n] = float(bar.low)
        cols[4][n] = float(bar.close)
        self._closed(n, bar)

    def _closed(self, n: int, bar: Bar) -> None:
        self._n = n + 1
        self.last = bar
        if self._frames:
            self._frames.clear()

    def _own(self) -> None:
        self._cols = [np.array(c[: self._n]) for c in self._cols]
        self._known, self._full = 0, None
        self._view = self._read_only()

    def ohlc(self, n: int | None) -> Ohlc:
        end = self._n
        start = 0 if n is None else max(0, end - n)
        ts, o, h, low, c = self._view
        return Ohlc(ts[start:end], o[start:end], h[start:end], low[start:end], c[start:end])

    def frame(self, n: int | None) -> pd.DataFrame:
        frame = self._frames.get(n)
        if frame is None:
            if self._known:
                if self._full is None:
                    self._full = _frame(self._view)
                start = 0 if n is None else max(0, self._n - n)
                frame = self._full.iloc[start : self._n]
            else:
                frame = _frame(self.ohlc(n))
            self._frames[n] = frame
        return frame.copy(deep=False)


def _frame(cols: Sequence[np.ndarray]) -> pd.DataFrame:
    ts, o, h, low, c = cols
    index = pd.DatetimeIndex((ts * 1000).astype("datetime64[us]"), name="time")
    return pd.DataFrame(
        {"ts_ms": ts, "open": o, "high": h, "low": low, "close": c},
        index=index.tz_localize("UTC"),
    )


@dataclass(frozen=True, slots=True)
class Limits:
    """Plain values the context needs from the settings."""

    risk_pct: Decimal
    leverage_warning: Decimal


class Views:
    """Read-only views of the account and the market, the first half of ``ctx``."""

    def __init__(
        self,
        account: Account,
        primary: str,
        history: dict[str, History],
        submit: Callable[[Command], Ticket],
        limits: Limits,
        source: str,
    ) -> None:
        self.account = account
        self.primary = primary
        self.history = history
        self._submit = submit
        self.limits = limits
        self.source = source
        self.messages: list[str] = []

    # ---- views ----------------------------------------------------------------------------
    @property
    def now_ms(self) -> int:
        return self.account.now_ms

    def _sym(self, symbol: str | None) -> str:
        """The loaded symbol ``symbol`` names (unified symbol, venue id or bare base coin)."""
        if not symbol:
            return self.primary  # loaded by construction (the run's first market)
        s = symbol
        specs = self.account.specs
        if s in specs:
            return s
        wanted = s.strip().upper()
        hits = [k for k, v in specs.items() if wanted in (k.upper(), v.venue_id.upper(), v.base)]
        if len(hits) == 1:
            return hits[0]
        raise InputError(
            f"symbol '{s}' is not loaded for this strategy; loaded: {', '.join(specs)}"
        )

    def symbol(self, name: str | None = None) -> str:
        """The unified symbol for ``name`` ('ETH', 'ETHUSDT' → 'ETH/USDT:USDT')."""
        return self._sym(name)

    def spec(self, symbol: str | None = None) -> ContractSpec:
        """The contract spec (tick, step, contract size, fees, tiers)."""
        return self.account.specs[self._sym(symbol)]

    def price(self, symbol: str | None = None) -> Decimal | None:
        """Last traded price (None before the first one)."""
        return self.account.book(self._sym(symbol)).last

    def mark(self, symbol: str | None = None) -> Decimal | None:
        return self.account.mark(self._sym(symbol))

    def _currency(self, currency: str | None) -> str:
        return currency or self.spec().settle

    def wallet(self, currency: str | None = None) -> Decimal:
        return self.account.wallets().get(self._currency(currency), ZERO)

    def equity(self, currency: str | None = None) -> Decimal:
        """Wallet plus unrealized PnL, in the primary symbol's settle currency by default."""
        return self.account.equity(self._currency(currency))

    def available(self, currency: str | None = None) -> Decimal:
        return self.account.available(self._currency(currency))

    def position(self, symbol: str | None = None) -> PositionView | None:
        """The open position with its liquidation price, or None when flat."""
        s = self._sym(symbol)
        return next((p for p in self.account.positions() if p.symbol == s), None)

    def positions(self) -> list[PositionView]:
        return self.account.positions()

    def contracts(self, symbol: str | None = None) -> Decimal:
        """Signed position size in contracts (+ long, − short, 0 flat)."""
        pos = self.account.positions_by_symbol.get(self._sym(symbol))
        return pos.contracts if pos is not None else ZERO

    def leverage(self, symbol: str | None = None) -> tuple[Decimal, str]:
        """The symbol's leverage and margin mode (the engine's defaults until set)."""
        s = self._sym(symbol)
        pos = self.account.positions_by_symbol.get(s)
        if pos is not None:
            return pos.leverage, pos.margin_mode
        spec = self.account.specs[s]
        cap = spec.max_leverage_for(ZERO) if (spec.tiers or spec.max_leverage) else None
        return (min(DEFAULT_LEVERAGE, cap) if cap else DEFAULT_LEVERAGE), "cross"

    def liquidation_price(self, symbol: str | None = None) -> Decimal | None:
        pos = self.position(symbol)
        return pos.liquidation_price if pos is not None else None

    def orders(self, symbol: str | None = None) -> list[Order]:
        """Working orders (stops, targets, resting limits), oldest first."""
        return self.account.working_orders(self._sym(symbol) if symbol else None)

    def prices(self, symbol: str | None = None, n: int | None = None) -> pd.DataFrame:
        """The last ``n`` closed bars (all when None) as a frame indexed by UTC time."""
        return self.history[self._sym(symbol)].frame(n)

    def ohlc(self, symbol: str | None = None, n: int | None = None) -> Ohlc:
        """The last ``n`` closed bars (all when None) as read-only numpy arrays: ``ts_ms``,
        ``open``, ``high``, ``low``, ``close`` (the cheap way; ``prices`` for a pandas frame)."""
        return self.history[self._sym(symbol)].ohlc(n)

    def last_bar(self, symbol: str | None = None) -> Bar | None:
        return self.history[self._sym(symbol)].last

    def log(self, text: str) -> None:
        """Keep a line for the run's summary (shown after the run, never during a replay)."""
        self.messages.append(text)
