"""Fill prices: book walk with consumed liquidity, the slippage model, maker/taker fees.

Market orders walk the last ``BookDepth`` (best level first) and take the liquidity they use: a
second order in the same book sees only what is left until a new depth arrives. Without depth
they fill at the touch (best ask for a buy, best bid for a sell) or, without a book, at the last
price, in both cases moved against the trader by ``slippage_bps`` and rounded to the tick away
from the trader. Resting limit orders fill at their own price when the market trades through it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from sim.engine.market import BookDepth, BookTop
from sim.engine.money import ZERO
from sim.engine.spec import ContractSpec

BPS = Decimal(10000)
Level = tuple[Decimal, Decimal]


@dataclass(slots=True)
class Book:
    """What the account knows of one symbol's book, minus what its own fills consumed."""

    bids: list[list[Decimal]] = field(default_factory=list)  # [price, contracts left]
    asks: list[list[Decimal]] = field(default_factory=list)
    depth: bool = False  # True when the levels come from a BookDepth (walkable)
    last: Decimal | None = None

    def set_depth(self, d: BookDepth) -> None:
        self.bids = [[p, q] for p, q in d.bids if q > 0]
        self.asks = [[p, q] for p, q in d.asks if q > 0]
        self.depth = True

    def set_top(self, t: BookTop) -> None:
        """Best bid/ask update. Over a known depth it trims the levels it crossed and keeps the
        deeper ones; liquidity already consumed stays consumed until the next depth."""
        if not self.depth:
            self.bids = [[t.bid, t.bid_qty]]
            self.asks = [[t.ask, t.ask_qty]]
            return
        self.asks = _merge_top(self.asks, t.ask, t.ask_qty, better=lambda a, b: a < b)
        self.bids = _merge_top(self.bids, t.bid, t.bid_qty, better=lambda a, b: a > b)

    def touch(self, side: str) -> Decimal | None:
        """Best opposite price for a taker of ``side`` (ask for a buy, bid for a sell)."""
        levels = self.asks if side == "buy" else self.bids
        for price, qty in levels:
            if qty > 0:
                return price
        return None

    def to_dict(self) -> dict[str, object]:
        return {
            "bids": [[str(p), str(q)] for p, q in self.bids],
            "asks": [[str(p), str(q)] for p, q in self.asks],
            "depth": self.depth,
            "last": None if self.last is None else str(self.last),
        }

    @classmethod
    def from_dict(cls, data: dict) -> Book:
        return cls(
            bids=[[Decimal(p), Decimal(q)] for p, q in data["bids"]],
            asks=[[Decimal(p), Decimal(q)] for p, q in data["asks"]],
            depth=bool(data["depth"]),
            last=None if data["last"] is None else Decimal(data["last"]),
        )


def _merge_top(
    levels: list[list[Decimal]], price: Decimal, qty: Decimal, better: Callable[..., bool]
) -> list[list[Decimal]]:
    """Levels with ``price`` as the new best: better ones dropped, an equal one capped."""
    rest = [lv for lv in levels if not better(lv[0], price) and lv[0] != price]
    same = [lv for lv in levels if lv[0] == price]
    top_qty = min(qty, same[0][1]) if same else qty
    return [[price, top_qty], *rest]


def slipped(price: Decimal, side: str, slippage_bps: Decimal, spec: ContractSpec) -> Decimal:
    """``price`` moved against a taker of ``side`` by the slippage, on the tick, away from them."""
    sign = 1 if side == "buy" else -1
    moved = price * (1 + sign * slippage_bps / BPS)
    return spec.round_price(moved, ROUND_CEILING if side == "buy" else ROUND_FLOOR)


def _crosses(side: str, level_price: Decimal, limit: Decimal | None) -> bool:
    if limit is None:
        return True
    return level_price <= limit if side == "buy" else level_price >= limit


def walk(book: Book, side: str, contracts: Decimal, limit: Decimal | None) -> list[Level]:
    """Take up to ``contracts`` from the depth, best level first, no worse than ``limit``.

    The taken quantity is removed from the book (consumed liquidity).
    """
    levels = book.asks if side == "buy" else book.bids
    out: list[Level] = []
    left = contracts
    for level in levels:
        if left <= 0 or not _crosses(side, level[0], limit):
            break
        take = min(left, level[1])
        if take <= 0:
            continue
        level[1] -= take
        left -= take
        out.append((level[0], take))
    return out


def taker_fills(
    book: Book,
    side: str,
    contracts: Decimal,
    limit: Decimal | None,
    base: Decimal | None,
    slippage_bps: Decimal,
    spec: ContractSpec,
) -> list[Level]:
    """Fills of a taker order: walk the depth, else one fill at ``base`` (touch or last) slipped.

    A market order that exhausts the recorded depth fills the rest one slippage step beyond the
    worst level it reached (the book is deeper than what was recorded). A limit order never fills
    beyond its limit: what the book cannot give rests or is cancelled by the caller.
    """
    if book.depth:
        fills = walk(book, side, contracts, limit)
        left = contracts - sum((q for _, q in fills), ZERO)
        if left > 0 and limit is None and fills:
            fills.append((slipped(fills[-1][0], side, slippage_bps, spec), left))
        elif left > 0 and limit is None:
            ref = base if base is not None else book.last
            if ref is not None:
                fills.append((slipped(ref, side, slippage_bps, spec), left))
        return fills
    if base is None:
        return []
    price = slipped(base, side, slippage_bps, spec)
    if limit is not None:
        price = min(price, limit) if side == "buy" else max(price, limit)
        if not _crosses(side, base, limit):
            return []
    return [(price, contracts)]


def fee(spec: ContractSpec, contracts: Decimal, price: Decimal, liquidity: str) -> Decimal:
    """Fee of one fill in the settle currency: notional × maker or taker rate."""
    rate = spec.maker_fee if liquidity == "maker" else spec.taker_fee
    return spec.notional(contracts, price) * rate
