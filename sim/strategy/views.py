"""What a strategy can look at: account views, contract specs and recent prices as pandas."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from sim.engine.account import DEFAULT_LEVERAGE, Account, PositionView
from sim.engine.commands import Command
from sim.engine.money import ZERO
from sim.engine.orders import Order
from sim.engine.spec import ContractSpec
from sim.errors import InputError
from sim.strategy.values import Bar, Ticket


class History:
    """Closed bars of one symbol, oldest first (floats: for analysis; Bars carry Decimals).

    Kept in growing numpy arrays; ``frame(n)`` builds a frame over array slices (no list
    copies, no parsing of times) once per bar and ``n``, and hands out cheap copies
    (pandas copy-on-write: changing one never changes the cached frame).
    """

    __slots__ = ("_frames", "_n", "_ohlc", "_ts", "last", "symbol")

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.last: Bar | None = None
        self._n = 0
        self._ts = np.empty(256, dtype="int64")
        self._ohlc = np.empty((256, 4), dtype="float64")
        self._frames: dict[int | None, pd.DataFrame] = {}

    def __len__(self) -> int:
        return self._n

    @property
    def ts(self) -> list[int]:
        return self._ts[: self._n].tolist()

    @property
    def close(self) -> list[float]:
        return self._ohlc[: self._n, 3].tolist()

    def add(self, bar: Bar) -> None:
        if self._n == len(self._ts):
            self._ts = np.resize(self._ts, 2 * self._n)
            self._ohlc = np.resize(self._ohlc, (2 * self._n, 4))
        self._ts[self._n] = bar.ts_ms
        self._ohlc[self._n] = (float(bar.open), float(bar.high), float(bar.low), float(bar.close))
        self._n += 1
        self.last = bar
        self._frames.clear()

    def frame(self, n: int | None) -> pd.DataFrame:
        frame = self._frames.get(n)
        if frame is None:
            start = 0 if n is None else max(0, self._n - n)
            ts = self._ts[start : self._n]
            ohlc = self._ohlc[start : self._n]
            index = pd.DatetimeIndex((ts * 1000).astype("datetime64[us]"), name="time")
            frame = self._frames[n] = pd.DataFrame(
                {
                    "ts_ms": ts,
                    "open": ohlc[:, 0],
                    "high": ohlc[:, 1],
                    "low": ohlc[:, 2],
                    "close": ohlc[:, 3],
                },
                index=index.tz_localize("UTC"),
            )
        return frame.copy(deep=False)


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
        s = symbol or self.primary
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

    def last_bar(self, symbol: str | None = None) -> Bar | None:
        return self.history[self._sym(symbol)].last

    def log(self, text: str) -> None:
        """Keep a line for the run's summary (shown after the run, never during a replay)."""
        self.messages.append(text)
