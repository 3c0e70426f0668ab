"""Market inputs: what adapters turn the outside world into and the engine consumes.

Inputs are nouns, frozen and slotted. Every input carries the venue, the ccxt unified symbol and
``ts_ms`` (epoch milliseconds, UTC): time only enters the engine through inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal


@dataclass(frozen=True, slots=True)
class LastTrade:
    """A public trade printed on the venue (the last price)."""

    venue: str
    symbol: str
    ts_ms: int
    price: Decimal
    qty: Decimal  # in contracts as the venue reports them
    side: Literal["buy", "sell"] | None = None  # taker side when known


@dataclass(frozen=True, slots=True)
class BookTop:
    """Best bid and ask with their sizes (contracts)."""

    venue: str
    symbol: str
    ts_ms: int
    bid: Decimal
    bid_qty: Decimal
    ask: Decimal
    ask_qty: Decimal


@dataclass(frozen=True, slots=True)
class BookDepth:
    """A full order-book view: levels best first, (price, contracts)."""

    venue: str
    symbol: str
    ts_ms: int
    bids: tuple[tuple[Decimal, Decimal], ...]
    asks: tuple[tuple[Decimal, Decimal], ...]


@dataclass(frozen=True, slots=True)
class MarkPrice:
    """The venue's mark price (drives unrealized PnL, margin ratio and liquidation)."""

    venue: str
    symbol: str
    ts_ms: int
    price: Decimal
    index_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class FundingRate:
    """The funding rate that will be (or was) exchanged at ``funding_time_ms``."""

    venue: str
    symbol: str
    ts_ms: int
    rate: Decimal
    funding_time_ms: int


@dataclass(frozen=True, slots=True)
class Settlement:
    """A dated future's settlement price published at expiry."""

    venue: str
    symbol: str
    ts_ms: int
    price: Decimal


@dataclass(frozen=True, slots=True)
class FeedStatus:
    """The feed for a symbol went stale (no fills while stale) or recovered."""

    venue: str
    symbol: str
    ts_ms: int
    stale: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """Time passes with no price: drives funding instants and expiry."""

    ts_ms: int
    venue: str = ""
    symbol: str = ""


MarketInput = (
    LastTrade | BookTop | BookDepth | MarkPrice | FundingRate | Settlement | FeedStatus | Heartbeat
)
