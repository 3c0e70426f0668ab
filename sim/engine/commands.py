"""User commands: what a trader (CLI, ORDERS.csv, a strategy) asks the account to do.

Commands are inputs like market data: frozen, carrying ``ts_ms``; the account answers each with
events (accepted, rejected, cancelled ...). Numbers are Decimal in the units the venue uses
(contracts, quote price); ``None`` means "not set".
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, get_args

OrderType = Literal[
    "market",
    "limit",
    "stop_market",
    "stop_limit",
    "take_profit_market",
    "take_profit_limit",
    "trailing_stop_market",
]
ORDER_TYPES: tuple[str, ...] = get_args(OrderType)
TRIGGERED_TYPES = frozenset(ORDER_TYPES) - {"market", "limit"}
LIMIT_TYPES = frozenset({"limit", "stop_limit", "take_profit_limit"})
TIME_IN_FORCE: tuple[str, ...] = ("GTC", "IOC", "FOK", "post_only")
TRIGGER_SOURCES: tuple[str, ...] = ("last", "mark")
MARGIN_MODES: tuple[str, ...] = ("isolated", "cross")


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaceOrder:
    """Place an order; ``stop_loss``/``take_profit`` attach an OCO bracket activated on fill."""

    ts_ms: int
    symbol: str
    side: Literal["buy", "sell"]
    order_type: str = "market"
    contracts: Decimal = Decimal(0)
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    trigger_source: str = "last"
    callback_pct: Decimal | None = None
    time_in_force: str = "GTC"
    reduce_only: bool = False
    close_position: bool = False
    leverage: Decimal | None = None
    margin_mode: str | None = None
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    tag: str | None = None
    source: str = "manual"
    venue: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelOrder:
    """Cancel a working order by id (``reason`` lands in ``OrderCancelled``)."""

    ts_ms: int
    order_id: str
    venue: str = ""
    symbol: str = ""
    reason: str = "user"


@dataclass(frozen=True, slots=True, kw_only=True)
class AmendOrder:
    """Change a working order's size, limit price or trigger price (None = keep)."""

    ts_ms: int
    order_id: str
    contracts: Decimal | None = None
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    venue: str = ""
    symbol: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class SetLeverage:
    """Set a symbol's leverage and margin mode (checked against the tier of the position)."""

    ts_ms: int
    symbol: str
    leverage: Decimal
    margin_mode: str = "isolated"
    venue: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Deposit:
    """Credit (or, negative, withdraw) a wallet outside trading: the opening balance."""

    ts_ms: int
    currency: str
    amount: Decimal
    reason: str = "deposit"
    venue: str = ""
    symbol: str = ""


Command = PlaceOrder | CancelOrder | AmendOrder | SetLeverage | Deposit
