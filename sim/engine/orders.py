"""Orders: one order's state, the table of its legal status moves, and how orders meet prices.

An order changes status only through :meth:`Order.apply` with an engine event; a move not in
``TRANSITIONS`` is a bug and raises :class:`InvalidTransition`. :class:`OrderWork` (a mixin of
the account) runs triggers, trailing stops, trade-throughs and taker fills at each price.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from sim.engine import liquidation as liq
from sim.engine.checks import increase_of, order_margin
from sim.engine.commands import LIMIT_TYPES, TRIGGERED_TYPES, PlaceOrder
from sim.engine.events import Event, OrderAmended, OrderFilled, OrderTriggered
from sim.engine.fills import Book, taker_fills, walk
from sim.engine.market import BookDepth, BookTop, LastTrade, MarkPrice
from sim.engine.money import ZERO
from sim.engine.spec import ContractSpec
from sim.errors import InvalidTransition

WORKING = frozenset({"open", "triggered", "partially_filled"})

# (status, event kind) -> status. OrderFilled lands on "filled" when nothing remains.
TRANSITIONS: dict[tuple[str, str], str] = {
    ("new", "OrderAccepted"): "open",
    ("open", "OrderTriggered"): "triggered",
    ("open", "OrderFilled"): "partially_filled",
    ("triggered", "OrderFilled"): "partially_filled",
    ("partially_filled", "OrderFilled"): "partially_filled",
    ("open", "OrderAmended"): "open",
    ("triggered", "OrderAmended"): "triggered",
    ("partially_filled", "OrderAmended"): "partially_filled",
    ("open", "OrderCancelled"): "cancelled",
    ("triggered", "OrderCancelled"): "cancelled",
    ("partially_filled", "OrderCancelled"): "cancelled",
    ("open", "OrderExpired"): "expired",
    ("triggered", "OrderExpired"): "expired",
    ("partially_filled", "OrderExpired"): "expired",
}


@dataclass(slots=True)
class Order:
    """One order as the account tracks it (contracts are absolute; side says the direction)."""

    order_id: str
    symbol: str
    side: str
    order_type: str
    contracts: Decimal
    ts_ms: int
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    trigger_source: str = "last"
    callback_pct: Decimal | None = None
    time_in_force: str = "GTC"
    reduce_only: bool = False
    close_position: bool = False
    parent_id: str | None = None
    oco_group: str | None = None
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    tag: str | None = None
    source: str = "manual"
    filled: Decimal = ZERO
    status: str = "new"
    trail_extreme: Decimal | None = None  # best price seen since a trailing stop was placed
    exit_reason: str = "order"  # what a fill of this order means for the trade: stop, take_profit

    @property
    def remaining(self) -> Decimal:
        return self.contracts - self.filled

    @property
    def is_working(self) -> bool:
        return self.status in WORKING

    @property
    def needs_trigger(self) -> bool:
        return self.order_type in TRIGGERED_TYPES and self.status == "open"

    @property
    def is_limit(self) -> bool:
        return self.order_type in LIMIT_TYPES

    @property
    def sign(self) -> int:
        return 1 if self.side == "buy" else -1

    def apply(self, event: Event) -> None:
        """Move to the next status for ``event``; an illegal move is a bug."""
        key = (self.status, event.kind)
        target = TRANSITIONS.get(key)
        if target is None:
            raise InvalidTransition(
                f"order {self.order_id}: {event.kind} not allowed when {self.status}"
            )
        if isinstance(event, OrderFilled):
            self.filled += event.contracts
            if self.filled > self.contracts:
                raise InvalidTransition(f"order {self.order_id} overfilled: {self.filled}")
            if self.filled == self.contracts:
                target = "filled"
        elif isinstance(event, OrderAmended):
            self._amend(event)
        self.status = target

    def _amend(self, event: OrderAmended) -> None:
        if event.contracts is not None:
            self.contracts = event.contracts
        if event.price is not None:
            self.price = event.price
        if event.trigger_price is not None:
            self.trigger_price = event.trigger_price

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (Decimals as str) for snapshots and screens."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = str(value) if isinstance(value, Decimal) else value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Order:
        """Rebuild an order from :meth:`to_dict`."""
        decimals = {"contracts", "price", "trigger_price", "callback_pct", "stop_loss"}
        decimals |= {"take_profit", "filled", "trail_extreme"}
        kwargs = {
            k: (Decimal(v) if k in decimals and v is not None else v) for k, v in data.items()
        }
        return cls(**kwargs)


def fires_upward(order: Order) -> bool:
    """True when the order triggers on a rise (buy stop, sell take-profit), False on a fall."""
    is_stop = order.order_type.startswith(("stop", "trailing"))
    return (order.side == "buy") == is_stop


def update_trail(order: Order, price: Decimal) -> None:
    """Track the best price since a trailing stop became active (activation = trigger_price)."""
    selling = order.side == "sell"
    if order.trail_extreme is None:
        act = order.trigger_price
        if act is not None and (price < act if selling else price > act):
            return
        order.trail_extreme = price
    elif (price > order.trail_extreme) if selling else (price < order.trail_extreme):
        order.trail_extreme = price


def trigger_level(order: Order) -> Decimal | None:
    """The price that fires the order now (trailing: extreme moved back by the callback)."""
    if order.order_type != "trailing_stop_market":
        return order.trigger_price
    if order.trail_extreme is None or order.callback_pct is None:
        return None
    back = order.callback_pct / Decimal(100)
    sign = -1 if order.side == "sell" else 1
    return order.trail_extreme * (1 + sign * back)


def _beyond(up: bool, price: Decimal, level: Decimal) -> bool:
    return price >= level if up else price <= level


def trigger_base(order: Order, price: Decimal, prev: Decimal | None) -> Decimal | None:
    """Where a triggered order starts to fill, or None when ``price`` does not fire it.

    When the previous price was on the untriggered side the market moved through the level
    continuously, so the fill starts at the level; when it was already beyond (a gap, or an order
    placed beyond it) the fill starts at ``price``, the first price seen after the gap.
    """
    if order.order_type == "trailing_stop_market":
        update_trail(order, price)
    level = trigger_level(order)
    if level is None:
        return None
    up = fires_upward(order)
    if not _beyond(up, price, level):
        return None
    if prev is not None and not _beyond(up, prev, level):
        return level
    return price


def trades_through(order: Order, price: Decimal) -> bool:
    """A resting limit fills when the market prints strictly beyond its price."""
    if order.price is None:
        return False
    return price < order.price if order.side == "buy" else price > order.price


def exit_reason_for(order_type: str) -> str:
    """What closing a position with this order type is called in the journal."""
    if order_type.startswith("stop"):
        return "stop"
    if order_type.startswith("take_profit"):
        return "take_profit"
    if order_type.startswith("trailing"):
        return "trailing"
    return "manual"


class OrderWork:
    """How working orders meet prices: triggers, trade-throughs, taker fills, TIF, brackets.

    A mixin of :class:`sim.engine.account.Account`: it reads and changes the account's state
    (books, positions, orders) and books fills through ``Account.fill``. Kept apart so the
    account module holds state and routing, this one the matching rules.
    """

    # Provided by Account.
    specs: dict[str, ContractSpec]
    orders: dict[str, Order]
    books: dict[str, Book]
    marks: dict[str, Decimal]
    stale: set[str]
    slippage_bps: Decimal
    mark_from_last: bool
    input_ts: int
    _out: list[Event]

    def _executable(self, order: Order) -> Decimal:
        """Contracts the order may fill now; reduce-only orders shrink to the position."""
        pos = self.position(order.symbol)
        if order.reduce_only:
            if pos.side != -order.sign:
                self.cancel_order(order, "reduce_only_no_position")
                return ZERO
            target = order.filled + min(order.remaining, abs(pos.contracts))
            if order.close_position:
                target = order.filled + abs(pos.contracts)
            if target != order.contracts:
                order.apply(
                    self.emit(OrderAmended, order.symbol, order_id=order.order_id, contracts=target)
                )
            return order.remaining
        if order.order_type in TRIGGERED_TYPES and order.filled == 0:
            spec = self.specs[order.symbol]
            cmd = PlaceOrder(
                ts_ms=self.input_ts,
                symbol=order.symbol,
                side=order.side,  # type: ignore[arg-type]
                contracts=order.remaining,
            )
            ref = self.taker_base(order.symbol, order.side) or order.trigger_price or ZERO
            added = increase_of(self, cmd)
            needed = order_margin(self, spec, order.sign, added, ref, pos.leverage) if ref else ZERO
            if needed > self.available(spec.settle):
                self.cancel_order(order, "insufficient_margin_at_trigger")
                return ZERO
        return order.remaining

    def _take(self, order: Order, base: Decimal | None) -> None:
        """Fill ``order`` as a taker from ``base`` (walking the depth when there is one)."""
        qty = self._executable(order)
        if qty <= 0:
            return
        spec = self.specs[order.symbol]
        limit = order.price if order.is_limit else None
        for price, q in taker_fills(
            self.book(order.symbol), order.side, qty, limit, base, self.slippage_bps, spec
        ):
            if order.is_working:
                self.fill(order, price, min(q, order.remaining), "taker")

    def _work_limit(self, order: Order, base: Decimal | None, resting: bool = False) -> None:
        """A new (or triggered, or amended) limit: take what crosses, rest or cancel the rest."""
        marketable = (
            base is not None
            and order.price is not None
            and (base <= order.price if order.side == "buy" else base >= order.price)
        )
        if order.time_in_force == "FOK" and not self._fok_fillable(order, base, marketable):
            self.cancel_order(order, "fok_not_filled")
            return
        if marketable:
            self._take(order, base)
        if order.is_working and order.time_in_force in ("IOC", "FOK") and not resting:
            self.cancel_order(order, "ioc_remainder")

    def _fok_fillable(self, order: Order, base: Decimal | None, marketable: bool) -> bool:
        book = self.book(order.symbol)
        if not marketable:
            return False
        if not book.depth:
            return True
        levels = book.asks if order.side == "buy" else book.bids
        ok = (lambda p: p <= order.price) if order.side == "buy" else (lambda p: p >= order.price)
        return sum((q for p, q in levels if ok(p)), ZERO) >= order.remaining

    def _on_last(self, inp: LastTrade) -> None:
        book = self.book(inp.symbol)
        prev = book.last
        book.last = inp.price
        if self.mark_from_last:
            self.marks[inp.symbol] = inp.price
        if inp.symbol in self.stale or inp.symbol not in self.specs:
            return
        self._price_point(inp.symbol, inp.price, prev, "last", liquidate=False)
        if self.mark_from_last:
            self._price_point(
                inp.symbol, inp.price, prev, "mark", liquidate=True, liq_source="last"
            )

    def _on_mark(self, inp: MarkPrice) -> None:
        prev = self.marks.get(inp.symbol)
        self.marks[inp.symbol] = inp.price
        if inp.symbol in self.stale or inp.symbol not in self.specs:
            return
        self._price_point(inp.symbol, inp.price, prev, "mark", liquidate=True)

    def _on_book(self, inp: BookTop | BookDepth) -> None:
        book = self.book(inp.symbol)
        if isinstance(inp, BookTop):
            book.set_top(inp)
        else:
            book.set_depth(inp)
        if inp.symbol in self.stale or inp.symbol not in self.specs:
            return
        # Resting limits fill (as makers, at their price) against book levels at or through them.
        for order in self.working_orders(inp.symbol):
            if not order.is_working or not order.is_limit or order.needs_trigger:
                continue
            if order.price is None:
                continue
            want = self._executable(order)
            if want <= 0:
                continue
            got = sum((q for _, q in walk(book, order.side, want, order.price)), ZERO)
            if got > 0:
                self.fill(order, order.price, got, "maker")
        self.drop_finished()

    def _price_point(
        self,
        symbol: str,
        price: Decimal,
        prev: Decimal | None,
        source: str,
        liquidate: bool,
        liq_source: str = "mark",
    ) -> None:
        """Run triggers and limits at one price; a liquidation level reached first wins.

        ``liq_source`` says which price liquidated: "last" when it stood in for mark.
        """
        if liquidate:
            pos = self.position(symbol)
            lp = liq.liquidation_price(self, symbol)
            if pos.contracts != 0 and liq.crossed(pos.side, price, lp):
                self._run_orders(symbol, price, prev, source, stop_at=(pos.side, lp))
                for s in liq.to_liquidate(self, symbol):
                    liq.liquidate(self, s, liq_source)
        self._run_orders(symbol, price, prev, source)
        self.drop_finished()

    def _run_orders(
        self,
        symbol: str,
        price: Decimal,
        prev: Decimal | None,
        source: str,
        stop_at: tuple[int, Decimal | None] | None = None,
    ) -> None:
        before = {o.order_id for o in self.working_orders(symbol)}
        self._run_some(self.working_orders(symbol), symbol, price, prev, source, stop_at)
        # Brackets born at this price: the market moved on from their entry's fill to ``price``.
        for child in [o for o in self.working_orders(symbol) if o.order_id not in before]:
            fill = self._last_fill_price(child.parent_id)
            self._run_some([child], symbol, price, fill or price, source, stop_at)

    def _last_fill_price(self, order_id: str | None) -> Decimal | None:
        for e in reversed(self._out):
            if isinstance(e, OrderFilled) and e.order_id == order_id:
                return e.price
        return None

    def _run_some(
        self,
        orders: list[Order],
        symbol: str,
        price: Decimal,
        prev: Decimal | None,
        source: str,
        stop_at: tuple[int, Decimal | None] | None,
    ) -> None:
        for order in orders:
            if not order.is_working:
                continue
            if stop_at is not None and self._beyond_liquidation(order, *stop_at):
                continue
            if order.needs_trigger:
                if order.trigger_source != source:
                    continue
                base = trigger_base(order, price, prev)
                if base is None:
                    continue
                level = trigger_level(order) or base
                order.apply(
                    self.emit(
                        OrderTriggered,
                        symbol,
                        order_id=order.order_id,
                        trigger_price=level,
                        trigger_source=source,
                        observed_price=price,
                    )
                )
                if source == "mark" and not self.mark_from_last:
                    # Mark only triggers; the order trades on the book or at the last price.
                    base = self.taker_base(symbol, order.side) or base
                if order.is_limit:
                    self._work_limit(order, base, resting=True)
                else:
                    self._take(order, self._book_touch(symbol, order.side) or base)
            elif order.is_limit and source == "last" and trades_through(order, price):
                qty = self._executable(order)
                if qty > 0 and order.price is not None:
                    self.fill(order, order.price, qty, "maker")

    def _book_touch(self, symbol: str, side: str) -> Decimal | None:
        return self.book(symbol).touch(side)

    @staticmethod
    def _beyond_liquidation(order: Order, side: int, lp: Decimal | None) -> bool:
        level = trigger_level(order) if order.needs_trigger else order.price
        if level is None or lp is None:
            return False
        return level < lp if side > 0 else level > lp
