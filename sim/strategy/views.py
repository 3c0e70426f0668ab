"""What a strategy can look at: account views, contract specs and recent prices as pandas."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import pandas as pd

from sim.engine.account import DEFAULT_LEVERAGE, Account, PositionView
from sim.engine.commands import Command
from sim.engine.money import ZERO
from sim.engine.orders import Order
from sim.engine.spec import ContractSpec
from sim.errors import InputError
from sim.strategy.values import Bar, Ticket


@dataclass(slots=True)
class History:
    """Closed bars of one symbol, oldest first (floats: for analysis; Bars carry Decimals)."""

    symbol: str
    ts: list[int] = field(default_factory=list)
    open: list[float] = field(default_factory=list)
    high: list[float] = field(default_factory=list)
    low: list[float] = field(default_factory=list)
    close: list[float] = field(default_factory=list)
    last: Bar | None = None

    def add(self, bar: Bar) -> None:
        self.ts.append(bar.ts_ms)
        self.open.append(float(bar.open))
        self.high.append(float(bar.high))
        self.low.append(float(bar.low))
        self.close.append(float(bar.close))
        self.last = bar

    def frame(self, n: int | None) -> pd.DataFrame:
        start = 0 if n is None else max(0, len(self.ts) - n)
        index = pd.to_datetime(pd.Series(self.ts[start:], dtype="int64"), unit="ms", utc=True)
        return pd.DataFrame(
            {
                "ts_ms": self.ts[start:],
                "open": self.open[start:],
                "high": self.high[start:],
                "low": self.low[start:],
                "close": self.close[start:],
            },
            index=pd.DatetimeIndex(index, name="time"),
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
