"""A price-level order book (price → contracts per side) shared by the venue book syncers."""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable
from decimal import Decimal
from enum import Enum

from sim.engine.market import BookDepth, BookTop

Level = tuple[Decimal, Decimal]


class Sync(Enum):
    """What a diff or snapshot did to a book."""

    APPLIED = "applied"  # the book changed and is in sync
    BUFFERED = "buffered"  # kept (or ignored) until a snapshot arrives
    STALE = "stale"  # older than the book, dropped
    GAP = "gap"  # a sequence gap: rebuild from a new snapshot (resync)


class LevelBook:
    """Both sides of one symbol's book; a level with quantity 0 is removed.

    Prices are also kept in ascending sorted lists (bisect), so the best levels are read
    without scanning a thousand-level side on every update.
    """

    def __init__(self, venue: str, symbol: str) -> None:
        self.venue = venue
        self.symbol = symbol
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}
        self._bid_prices: list[Decimal] = []  # ascending: best bid last
        self._ask_prices: list[Decimal] = []  # ascending: best ask first

    def replace(self, bids: Iterable[Level], asks: Iterable[Level]) -> None:
        """Start over from a full snapshot."""
        self.bids = {p: q for p, q in bids if q > 0}
        self.asks = {p: q for p, q in asks if q > 0}
        self._bid_prices = sorted(self.bids)
        self._ask_prices = sorted(self.asks)

    def apply(self, bids: Iterable[Level], asks: Iterable[Level]) -> None:
        """Apply changed levels: the quantity is the new absolute size, 0 deletes."""
        _apply_side(self.bids, self._bid_prices, bids)
        _apply_side(self.asks, self._ask_prices, asks)

    def clear(self) -> None:
        self.replace((), ())

    def top(self, ts_ms: int) -> BookTop | None:
        """Best bid and ask, or None while either side is empty."""
        if not self._bid_prices or not self._ask_prices:
            return None
        bid, ask = self._bid_prices[-1], self._ask_prices[0]
        return BookTop(
            venue=self.venue,
            symbol=self.symbol,
            ts_ms=ts_ms,
            bid=bid,
            bid_qty=self.bids[bid],
            ask=ask,
            ask_qty=self.asks[ask],
        )

    def depth(self, ts_ms: int, levels: int) -> BookDepth:
        """The best ``levels`` levels per side, best first."""
        bids = self._bid_prices[: -levels - 1 : -1] if levels > 0 else []
        asks = self._ask_prices[:levels]
        return BookDepth(
            venue=self.venue,
            symbol=self.symbol,
            ts_ms=ts_ms,
            bids=tuple((p, self.bids[p]) for p in bids),
            asks=tuple((p, self.asks[p]) for p in asks),
        )


def _apply_side(
    side: dict[Decimal, Decimal], prices: list[Decimal], levels: Iterable[Level]
) -> None:
    for price, qty in levels:
        if qty == 0:
            if side.pop(price, None) is not None:
                del prices[bisect_left(prices, price)]
        else:
            if price not in side:
                insort(prices, price)
            side[price] = qty
