"""Matching: working orders against last, mark and book prices.

Triggers (on last or mark), trailing stops, trade-throughs of resting limits, taker fills that
walk the book, time in force, brackets born at a price, and the liquidation level reached first.
Decides what fills; the ledger books it. Orders are read per symbol from the state's index.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sim.engine import liquidation as liq
from sim.engine.checks import increase_of, order_margin
from sim.engine.commands import LIMIT_TYPES, TRIGGERED_TYPES, PlaceOrder
from sim.engine.events import OrderAmended, OrderFilled, OrderTriggered
from sim.engine.fills import taker_fills, walk
from sim.engine.ledger import Ledger
from sim.engine.market import BookDepth, BookTop, LastTrade, MarkPrice
from sim.engine.money import ZERO
from sim.engine.orders import Order, fires_upward, trades_through, trigger_base, trigger_level
from sim.engine.risk import available, crossed, liquidation_price


@dataclass(slots=True)
class _Quiet:
    """A symbol's working orders at one event number, for one price source."""

    seq: int  # the symbol's order-change number it was drawn at
    orders: list[Order]
    down: Decimal | None  # a price at or below may act (None: nothing below)
    up: Decimal | None  # at or above
    trailing: list[Order]


def _draw(orders: list[Order], sources: set[str]) -> dict[str, list]:
    """Per price source: [down, up, trailing stops] of ``_Quiet`` for these orders."""
    acc: dict[str, list] = {src: [None, None, []] for src in sources}
    for o in orders:
        kind = o.order_type
        if kind in TRIGGERED_TYPES and o.status == "open":  # o.needs_trigger, inlined
            a = acc.get(o.trigger_source)
            if a is None:
                continue
            if kind == "trailing_stop_market":
                a[2].append(o)  # its extreme moves at any price beyond it
            elif o.trigger_price is not None:
                _tighten(a, fires_upward(o), o.trigger_price)
        elif kind in LIMIT_TYPES and o.price is not None and "last" in acc:
            # limits trade through last prices only, strictly beyond their price
            _tighten(acc["last"], o.side == "sell", o.price)
    return acc


def _tighten(a: list, up: bool, level: Decimal) -> None:
    """Move the bound on the ``up`` (else down) side of ``a`` to ``level`` if nearer."""
    k = 1 if up else 0
    if a[k] is None or (level < a[k] if up else level > a[k]):
        a[k] = level


class Matching:
    """Runs one account's working orders at each price the account sees."""

    __slots__ = ("_quiet", "ledger", "st")

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.st = ledger.state
        # (symbol, source) -> (event number, working orders, down, up, trailing stops): what
        # a price can do to the symbol's orders while no event happened since.
        self._quiet: dict[tuple[str, str], _Quiet] = {}

    def _executable(self, order: Order) -> Decimal:
        """Contracts the order may fill now; reduce-only orders shrink to the position."""
        pos = self.st.position(order.symbol)
        if order.reduce_only:
            if pos.side != -order.sign:
                self.ledger.cancel_order(order, "reduce_only_no_position")
                return ZERO
            target = order.filled + min(order.remaining, abs(pos.contracts))
            if order.close_position:
                target = order.filled + abs(pos.contracts)
            if target != order.contracts:
                self.ledger.record(order, OrderAmended, contracts=target)
            return order.remaining
        if order.order_type in TRIGGERED_TYPES and order.filled == 0:
            spec = self.st.specs[order.symbol]
            cmd = PlaceOrder(
                ts_ms=self.st.input_ts,
                symbol=order.symbol,
                side=order.side,  # type: ignore[arg-type]
                contracts=order.remaining,
            )
            ref = self.st.taker_base(order.symbol, order.side) or order.trigger_price or ZERO
            added = increase_of(self.st, cmd)
            needed = (
                order_margin(self.st, spec, order.sign, added, ref, pos.leverage) if ref else ZERO
            )
            if needed > available(self.st, spec.settle):
                self.ledger.cancel_order(order, "insufficient_margin_at_trigger")
                return ZERO
        return order.remaining

    def take(self, order: Order, base: Decimal | None) -> None:
        """Fill ``order`` as a taker from ``base`` (walking the depth when there is one)."""
        qty = self._executable(order)
        if qty <= 0:
            return
        spec = self.st.specs[order.symbol]
        limit = order.price if order.is_limit else None
        for price, q in taker_fills(
            self.st.book(order.symbol), order.side, qty, limit, base, self.st.slippage_bps, spec
        ):
            if order.is_working:
                self.ledger.fill(order, price, min(q, order.remaining), "taker")

    def work_limit(self, order: Order, base: Decimal | None, resting: bool = False) -> None:
        """A new (or triggered, or amended) limit: take what crosses, rest or cancel the rest."""
        marketable = (
            base is not None
            and order.price is not None
            and (base <= order.price if order.side == "buy" else base >= order.price)
        )
        if order.time_in_force == "FOK" and not self._fok_fillable(order, base, marketable):
            self.ledger.cancel_order(order, "fok_not_filled")
            return
        if marketable:
            self.take(order, base)
        if order.is_working and order.time_in_force in ("IOC", "FOK") and not resting:
            self.ledger.cancel_order(order, "ioc_remainder")

    def _fok_fillable(self, order: Order, base: Decimal | None, marketable: bool) -> bool:
        book = self.st.book(order.symbol)
        if not marketable:
            return False
        if not book.depth:
            return True
        levels = book.asks if order.side == "buy" else book.bids
        ok = (lambda p: p <= order.price) if order.side == "buy" else (lambda p: p >= order.price)
        return sum((q for p, q in levels if ok(p)), ZERO) >= order.remaining

    def on_last(self, inp: LastTrade) -> None:
        prev = self.ledger.observe_last(inp.symbol, inp.price)
        if inp.symbol in self.st.stale or inp.symbol not in self.st.specs:
            return
        self._price_point(inp.symbol, inp.price, prev, "last", liquidate=False)
        if self.st.mark_from_last:
            self._price_point(
                inp.symbol, inp.price, prev, "mark", liquidate=True, liq_source="last"
            )

    def on_mark(self, inp: MarkPrice) -> None:
        prev = self.ledger.observe_mark(inp.symbol, inp.price)
        if inp.symbol in self.st.stale or inp.symbol not in self.st.specs:
            return
        self._price_point(inp.symbol, inp.price, prev, "mark", liquidate=True)

    def on_book(self, inp: BookTop | BookDepth) -> None:
        book = self.ledger.observe_book(inp)
        if inp.symbol in self.st.stale or inp.symbol not in self.st.specs:
            return
        # Resting limits fill (as makers, at their price) against book levels at or through them.
        for order in self.st.working_orders(inp.symbol):
            if not order.is_working or not order.is_limit or order.needs_trigger:
                continue
            if order.price is None:
                continue
            want = self._executable(order)
            if want <= 0:
                continue
            got = sum((q for _, q in walk(book, order.side, want, order.price)), ZERO)
            if got > 0:
                self.ledger.fill(order, order.price, got, "maker")
        self.st.drop_finished()

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
            pos = self.st.position(symbol)
            lp = liquidation_price(self.st, symbol)
            if pos.contracts != 0 and crossed(pos.side, price, lp):
                self._run_orders(symbol, price, prev, source, stop_at=(pos.side, lp))
                for s in liq.to_liquidate(self.st, symbol):
                    liq.liquidate(self.ledger, s, liq_source)
        n = len(self.st.out)
        self._run_orders(symbol, price, prev, source)
        if len(self.st.out) != n:  # orders stop working only with an event
            self.st.drop_finished()

    def _run_orders(
        self,
        symbol: str,
        price: Decimal,
        prev: Decimal | None,
        source: str,
        stop_at: tuple[int, Decimal | None] | None = None,
    ) -> None:
        q = self._quiet_at(symbol, source)
        orders = q.orders
        if (
            stop_at is None
            and (q.down is None or price > q.down)
            and (q.up is None or price < q.up)
        ):
            orders = q.trailing  # no other order can act strictly between its levels
            if not orders:
                return
        n = len(self.st.out)
        self._run_some(orders, symbol, price, prev, source, stop_at)
        if len(self.st.out) == n:
            return  # no event: no order was born
        # Brackets born at this price: the market moved on from their entry's fill to ``price``.
        before = {o.order_id for o in q.orders}
        for child in [o for o in self.st.working_orders(symbol) if o.order_id not in before]:
            fill = self._last_fill_price(child.parent_id)
            self._run_some([child], symbol, price, fill or price, source, stop_at)

    def quiet_orders(self, symbol: str) -> tuple[Decimal | None, Decimal | None, list[Order]]:
        """Where the symbol's orders can act at a last or mark price: (down, up) between which
        only the returned trailing stops can (a replay's bounds, ``quiet.order_bounds``)."""
        last, mark = self._quiet_at(symbol, "last"), self._quiet_at(symbol, "mark")
        downs = [x for x in (last.down, mark.down) if x is not None]
        ups = [x for x in (last.up, mark.up) if x is not None]
        return (
            max(downs) if downs else None,
            min(ups) if ups else None,
            last.trailing + mark.trailing,
        )

    def _quiet_at(self, symbol: str, source: str) -> _Quiet:
        """The symbol's working orders and the levels between which only its trailing stops
        can act at a ``source`` price; drawn again after any change to the symbol's orders
        (``AccountState.order_moved``: the ledger moves orders only so), for both sources in
        one pass (a trade is a last and, standing in, a mark price)."""
        version = self.st.orders_changed.get(symbol, 0)
        q = self._quiet.get((symbol, source))
        if q is not None and q.seq == version:
            return q
        orders = self.st.working_orders(symbol)
        for src, (down, up, trailing) in _draw(orders, {"last", "mark", source}).items():
            self._quiet[(symbol, src)] = _Quiet(version, orders, down, up, trailing)
        return self._quiet[(symbol, source)]

    def _last_fill_price(self, order_id: str | None) -> Decimal | None:
        for e in reversed(self.st.out):
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
                self.ledger.record(
                    order,
                    OrderTriggered,
                    trigger_price=level,
                    trigger_source=source,
                    observed_price=price,
                )
                if source == "mark" and not self.st.mark_from_last:
                    # Mark only triggers; the order trades on the book or at the last price.
                    base = self.st.taker_base(symbol, order.side) or base
                if order.is_limit:
                    self.work_limit(order, base, resting=True)
                else:
                    self.take(order, self._book_touch(symbol, order.side) or base)
            elif order.is_limit and source == "last" and trades_through(order, price):
                qty = self._executable(order)
                if qty > 0 and order.price is not None:
                    self.ledger.fill(order, order.price, qty, "maker")

    def _book_touch(self, symbol: str, side: str) -> Decimal | None:
        return self.st.book(symbol).touch(side)

    @staticmethod
    def _beyond_liquidation(order: Order, side: int, lp: Decimal | None) -> bool:
        level = trigger_level(order) if order.needs_trigger else order.price
        if level is None or lp is None:
            return False
        return level < lp if side > 0 else level > lp
