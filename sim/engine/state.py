"""AccountState: what one paper account holds between inputs, and its snapshot.

Balances, positions, working orders (indexed by symbol so a price point reads only its own
symbol's orders), books, marks, pending funding, counters. The state is written only by the
ledger (``ledger.py``); every other module reads it. ``snapshot``/``restore`` round-trip it
exactly; the margin cache is derived numbers and never part of the snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sim.engine.events import Event
from sim.engine.fills import Book
from sim.engine.money import ZERO
from sim.engine.orders import WORKING, Order
from sim.engine.positions import Position
from sim.engine.risk import MarginCache
from sim.engine.spec import ContractSpec
from sim.engine.venues import VenueRules, rules_for
from sim.errors import InputError

DEFAULT_LEVERAGE = Decimal(20)


@dataclass(slots=True)
class FundingBook:
    """Announced rates waiting for their instant, and the last instant paid per symbol."""

    pending: dict[str, tuple[int, Decimal]] = field(default_factory=dict)  # symbol -> (t, rate)
    last_paid: dict[str, int] = field(default_factory=dict)

    def announce(self, symbol: str, funding_time_ms: int, rate: Decimal) -> bool:
        """Remember a rate; False when that instant was already paid (never double-counted)."""
        if funding_time_ms <= self.last_paid.get(symbol, -1):
            return False
        self.pending[symbol] = (funding_time_ms, rate)
        return True

    def due(self, ts_ms: int) -> list[tuple[str, int, Decimal]]:
        """Pending payments whose instant is at or before ``ts_ms``, in (time, symbol) order."""
        out = [(s, t, r) for s, (t, r) in self.pending.items() if t <= ts_ms]
        out.sort(key=lambda x: (x[1], x[0]))
        return out

    def mark_paid(self, symbol: str, funding_time_ms: int) -> None:
        self.pending.pop(symbol, None)
        self.last_paid[symbol] = funding_time_ms

    def to_dict(self) -> dict[str, object]:
        return {
            "pending": {s: [t, str(r)] for s, (t, r) in sorted(self.pending.items())},
            "last_paid": dict(sorted(self.last_paid.items())),
        }

    @classmethod
    def from_dict(cls, data: dict) -> FundingBook:
        return cls(
            pending={s: (int(t), Decimal(r)) for s, (t, r) in data["pending"].items()},
            last_paid={s: int(t) for s, t in data["last_paid"].items()},
        )


class AccountState:
    """Everything a paper futures account on one venue holds; read freely, written by the ledger."""

    def __init__(
        self,
        name: str,
        specs: Mapping[str, ContractSpec],
        *,
        slippage_bps: Decimal = Decimal(2),
        upnl_price: str = "mark",
        mark_from_last: bool = False,
    ) -> None:
        venues = sorted({s.venue for s in specs.values()})
        if len(venues) > 1:
            raise InputError(f"one account trades on one venue, got specs for {', '.join(venues)}")
        self.name = name
        self.specs: dict[str, ContractSpec] = dict(specs)
        self.venue = venues[0] if venues else ""
        self.dated = sorted((s.expiry_ms, s.symbol) for s in specs.values() if s.expiry_ms)
        self.rules: VenueRules = rules_for(self.venue)
        self.slippage_bps = slippage_bps
        self.upnl_price = upnl_price
        self.mark_from_last = mark_from_last
        self.seq = 0
        self.order_no = 0
        self.trade_no = 0
        self.now_ms = 0
        self.input_ts = 0
        self.balances: dict[str, Decimal] = {}
        self.positions_by_symbol: dict[str, Position] = {}
        self.orders: dict[str, Order] = {}  # every order not yet dropped, in placement order
        self.by_symbol: dict[str, dict[str, Order]] = {}  # the same orders per symbol
        self.maybe_finished = False  # an order may have stopped working since the last drop
        # symbol -> number of its last order change (added or moved): a symbol's working
        # orders are the same while it holds (``Matching`` keeps their levels until then)
        self.orders_changed: dict[str, int] = {}
        self.order_changes = 0
        self.books: dict[str, Book] = {}
        self.marks: dict[str, Decimal] = {}
        self.funding = FundingBook()
        self.stale: set[str] = set()
        self.expired: set[str] = set()
        self.out: list[Event] = []  # events of the input being applied
        self.margin_cache = MarginCache()  # numbers kept between marks; never in the snapshot

    # ---- reads ----------------------------------------------------------------------------
    def position(self, symbol: str) -> Position:
        """The symbol's position; a new one is flat, cross, 20x (Binance default) within tier 1."""
        pos = self.positions_by_symbol.get(symbol)
        if pos is None:
            spec = self.specs[symbol]
            cap = spec.max_leverage_for(ZERO) if (spec.tiers or spec.max_leverage) else None
            lev = min(DEFAULT_LEVERAGE, cap) if cap else DEFAULT_LEVERAGE
            pos = Position(symbol=symbol, leverage=lev, margin_mode="cross")
            self.positions_by_symbol[symbol] = pos
        return pos

    def book(self, symbol: str) -> Book:
        return self.books.setdefault(symbol, Book())

    def mark(self, symbol: str) -> Decimal | None:
        """Mark price; the last price stands in until a mark arrives."""
        return self.marks.get(symbol) or self.book(symbol).last

    def taker_base(self, symbol: str, side: str) -> Decimal | None:
        """Where a taker of ``side`` starts: the touch when a book is known, else the last price."""
        book = self.book(symbol)
        return book.touch(side) or book.last

    def trigger_price_now(self, symbol: str, source: str) -> Decimal | None:
        return self.mark(symbol) if source == "mark" else self.book(symbol).last

    def working_orders(self, symbol: str | None = None) -> list[Order]:
        """Working orders in placement order: one symbol's from its index, or all."""
        if symbol is None:
            return [o for o in self.orders.values() if o.status in WORKING]
        mine = self.by_symbol.get(symbol)
        return [o for o in mine.values() if o.status in WORKING] if mine else []

    # ---- the order index (written by the ledger) ------------------------------------------
    def add_order(self, order: Order) -> None:
        self.orders[order.order_id] = order
        self.by_symbol.setdefault(order.symbol, {})[order.order_id] = order
        self.maybe_finished = True
        self.order_changes += 1
        self.orders_changed[order.symbol] = self.order_changes

    def order_moved(self, order: Order) -> None:
        """The ledger moved ``order`` (status, fill, amendment): the next drop has to look when
        it stopped working, and the symbol's order levels are drawn again."""
        if order.status not in WORKING:
            self.maybe_finished = True
        self.order_changes += 1
        self.orders_changed[order.symbol] = self.order_changes

    def drop_finished(self) -> None:
        """Forget orders that stopped working (their events are already out).

        Scans only after an order was added or left the working statuses (``order_moved``):
        a price point that finished nothing pays no pass over every order.
        """
        if not self.maybe_finished:
            return
        self.maybe_finished = False
        for oid in [k for k, o in self.orders.items() if o.status not in WORKING]:
            order = self.orders.pop(oid)
            self.by_symbol[order.symbol].pop(oid, None)

    # ---- snapshot -------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """Complete JSON-safe state (Decimals as str): ``restore`` continues exactly from it."""
        return {
            "name": self.name,
            "venue": self.venue,
            "slippage_bps": str(self.slippage_bps),
            "upnl_price": self.upnl_price,
            "mark_from_last": self.mark_from_last,
            "counters": {"seq": self.seq, "order_no": self.order_no, "trade_no": self.trade_no},
            "now_ms": self.now_ms,
            "wallets": {c: str(v) for c, v in sorted(self.balances.items())},
            "positions": {s: p.to_dict() for s, p in sorted(self.positions_by_symbol.items())},
            "orders": [o.to_dict() for o in self.orders.values()],
            "books": {s: b.to_dict() for s, b in sorted(self.books.items())},
            "marks": {s: str(v) for s, v in sorted(self.marks.items())},
            "funding": self.funding.to_dict(),
            "stale": sorted(self.stale),
            "expired": sorted(self.expired),
        }

    def restore_from(self, snap: Mapping[str, Any]) -> None:
        """Load :meth:`snapshot` into this (fresh) state built with the same specs."""
        c = snap["counters"]
        self.seq, self.order_no, self.trade_no = (
            int(c["seq"]),
            int(c["order_no"]),
            int(c["trade_no"]),
        )
        self.now_ms = int(snap["now_ms"])
        self.balances = {k: Decimal(v) for k, v in snap["wallets"].items()}
        self.positions_by_symbol = {s: Position.from_dict(p) for s, p in snap["positions"].items()}
        for o in snap["orders"]:
            self.add_order(Order.from_dict(o))
        self.books = {s: Book.from_dict(b) for s, b in snap["books"].items()}
        self.marks = {s: Decimal(v) for s, v in snap["marks"].items()}
        self.funding = FundingBook.from_dict(snap["funding"])
        self.stale = set(snap["stale"])
        self.expired = set(snap["expired"])
