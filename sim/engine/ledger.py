"""Ledger: the only writer of an account's state.

Money, positions and orders change here and leave an event: a credit, an accepted/amended/
triggered/cancelled/expired order, a fill (a flip is booked as a close then an open), a bracket
attached to its entry, a position closed by liquidation or settlement, a round trip closed.
Market data the account keeps (last, mark, book, feed status, expiries, funding instants done)
is recorded here too. The rule modules (checks, matching, funding, liquidation, settlement)
decide; the ledger books. (Two in-place moves stay with their owners: a trailing stop's extreme
is the order's own geometry, and a taker walk consumes the book's levels in ``fills.py``.)
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sim.engine.events import (
    Event,
    FeedStale,
    LeverageSet,
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    TradeClosed,
    WalletCredited,
)
from sim.engine.fills import Book, fee
from sim.engine.margin import pnl
from sim.engine.market import BookDepth, BookTop
from sim.engine.money import ZERO
from sim.engine.orders import Order, exit_reason_for
from sim.engine.positions import Position, apply_fill, average, reset_trade
from sim.engine.state import AccountState
from sim.engine.venues.base import Exposure


class Ledger:
    """Books changes into one :class:`AccountState` and numbers the events it returns."""

    __slots__ = ("state",)

    def __init__(self, state: AccountState) -> None:
        self.state = state

    # ---- events ---------------------------------------------------------------------------
    def emit(self, cls: type, symbol: str = "", **kw: Any) -> Any:
        """Number an event of the input being applied and keep it for ``Account.apply``."""
        st = self.state
        st.seq += 1
        ev = cls(
            seq=st.seq, ts_ms=st.input_ts, account=st.name, venue=st.venue, symbol=symbol, **kw
        )
        st.out.append(ev)
        return ev

    def record(self, order: Order, cls: type, **kw: Any) -> Event:
        """Emit an event about ``order`` and move the order by it (Order.apply's table)."""
        ev = self.emit(cls, order.symbol, order_id=order.order_id, **kw)
        order.apply(ev)
        self.state.order_moved(order)
        return ev

    # ---- market data the account keeps ---------------------------------------------------
    def observe_last(self, symbol: str, price: Decimal) -> Decimal | None:
        """A trade price: the book's last (and the mark when last stands in); the previous last."""
        book = self.state.book(symbol)
        prev, book.last = book.last, price
        if self.state.mark_from_last:
            self.state.marks[symbol] = price
        return prev

    def observe_mark(self, symbol: str, price: Decimal) -> Decimal | None:
        """A mark price; the previous mark."""
        prev = self.state.marks.get(symbol)
        self.state.marks[symbol] = price
        return prev

    def observe_book(self, inp: BookTop | BookDepth) -> Book:
        book = self.state.book(inp.symbol)
        if isinstance(inp, BookTop):
            book.set_top(inp)
        else:
            book.set_depth(inp)
        return book

    def set_stale(self, symbol: str, stale: bool, reason: str) -> None:
        """Feed status; FeedStale is emitted only when it changes."""
        was = symbol in self.state.stale
        if stale:
            self.state.stale.add(symbol)
        else:
            self.state.stale.discard(symbol)
        if was != stale:
            self.emit(FeedStale, symbol, stale=stale, reason=reason)

    def expire(self, symbol: str) -> None:
        """A dated contract expired: it takes no more orders."""
        self.state.expired.add(symbol)

    def funding_settled(self, symbol: str, funding_time_ms: int) -> None:
        """That funding instant is done (paid or nothing to pay): never again."""
        self.state.funding.mark_paid(symbol, funding_time_ms)

    # ---- money ----------------------------------------------------------------------------
    def credit(self, currency: str, amount: Decimal) -> Decimal:
        """Add ``amount`` (negative: debit) to a wallet; the balance after."""
        balance = self.state.balances.get(currency, ZERO) + amount
        self.state.balances[currency] = balance
        return balance

    def deposit(self, currency: str, amount: Decimal, reason: str) -> None:
        balance = self.credit(currency, amount)
        self.emit(
            WalletCredited, currency=currency, amount=amount, balance_after=balance, reason=reason
        )

    def pay_funding(self, pos: Position, currency: str, amount: Decimal) -> Decimal:
        """Book a funding payment; an isolated position's margin pays it and never goes < 0."""
        wallet = self.credit(currency, amount)
        pos.funding += amount
        if pos.margin_mode == "isolated":
            pos.isolated_margin = max(ZERO, pos.isolated_margin + amount)
        return wallet

    def set_leverage(self, pos: Position, leverage: Decimal, mode: str, top_up: Decimal) -> None:
        """New leverage and mode; ``top_up`` isolated margin moved in for a lower leverage."""
        pos.isolated_margin += top_up
        pos.leverage, pos.margin_mode = leverage, mode
        self.emit(LeverageSet, pos.symbol, leverage=leverage, margin_mode=mode)

    # ---- orders ---------------------------------------------------------------------------
    def next_order_id(self) -> str:
        self.state.order_no += 1
        return f"o{self.state.order_no}"

    def accept(self, order: Order, **extra: Any) -> None:
        """The order is working: OrderAccepted carries every field of the one order shape."""
        ev = self.emit(OrderAccepted, order.symbol, **order.accepted_fields(), **extra)
        self.state.add_order(order)
        order.apply(ev)
        self.state.order_moved(order)

    def cancel_order(self, order: Order, reason: str) -> None:
        self.record(order, OrderCancelled, reason=reason)

    # ---- fills ----------------------------------------------------------------------------
    def fill(self, order: Order, price: Decimal, qty: Decimal, liquidity: str) -> None:
        """Book one fill; a fill that flips the position is booked as a close then an open."""
        pos = self.state.position(order.symbol)
        first_fill = order.filled == 0
        if pos.side == -order.sign and qty > abs(pos.contracts):
            closing = abs(pos.contracts)
            self._fill_part(order, price, closing, liquidity)
            self._fill_part(order, price, qty - closing, liquidity)
        else:
            self._fill_part(order, price, qty, liquidity)
        if first_fill and (order.stop_loss is not None or order.take_profit is not None):
            self._attach_bracket(order)

    def _fill_part(self, order: Order, price: Decimal, qty: Decimal, liquidity: str) -> None:
        st = self.state
        spec = st.specs[order.symbol]
        pos = st.position(order.symbol)
        was_flat = pos.contracts == 0
        effect = apply_fill(pos, spec, order.side, qty, price)
        paid = fee(spec, qty, price, liquidity)
        if effect.opened:
            if was_flat:
                st.trade_no += 1
                pos.trade_no, pos.open_ts_ms, pos.tag = st.trade_no, st.input_ts, order.tag
                pos.trade_side = order.sign
                pos.stop_at_entry = order.stop_loss
            if pos.margin_mode == "isolated":
                part = Exposure(order.sign, qty, price, spec.contract_size, spec.linear)
                pos.isolated_margin += st.rules.isolated_margin(part, pos.leverage, spec.taker_fee)
        pos.fees += paid
        wallet = self.credit(spec.settle, effect.realized_pnl - paid)
        reason = "order"
        if effect.closed:
            reason = "close" if order.exit_reason == "manual" else order.exit_reason
        self.record(
            order,
            OrderFilled,
            side=order.side,
            contracts=qty,
            price=price,
            fee=paid,
            currency=spec.settle,
            liquidity=liquidity,
            realized_pnl=effect.realized_pnl,
            contract_size=spec.contract_size,
            position_after=pos.contracts,
            entry_price_after=pos.entry_price,
            wallet_after=wallet,
            remaining=order.remaining - qty,
            reason=reason,
        )
        if order.status == "filled" and order.oco_group:
            for other in st.working_orders(order.symbol):
                if other.oco_group == order.oco_group:
                    self.cancel_order(other, "oco")
        if effect.closed and pos.contracts == 0:
            self.close_trade(pos, order.exit_reason, keep=order.order_id)

    def _attach_bracket(self, parent: Order) -> None:
        """Activate the entry's stop-loss / take-profit: reduce-only, cancelling each other."""
        opposite = "sell" if parent.side == "buy" else "buy"
        for kind, trigger in (
            ("stop_market", parent.stop_loss),
            ("take_profit_market", parent.take_profit),
        ):
            if trigger is None:
                continue
            child = Order(
                order_id=self.next_order_id(),
                symbol=parent.symbol,
                side=opposite,
                order_type=kind,
                contracts=parent.contracts,
                ts_ms=self.state.input_ts,
                trigger_price=trigger,
                trigger_source=parent.trigger_source,
                reduce_only=True,
                parent_id=parent.order_id,
                oco_group=parent.order_id,
                tag=parent.tag,
                source=parent.source,
                exit_reason=exit_reason_for(kind),
            )
            self.accept(child)

    # ---- closing --------------------------------------------------------------------------
    def close_position(
        self,
        pos: Position,
        price: Decimal,
        realized: Decimal,
        paid: Decimal,
        reason: str,
        event: type,
        **fields: Any,
    ) -> None:
        """Close the whole position at ``price`` outside an order (liquidation, settlement).

        The wallet takes ``realized − paid``, ``event`` is emitted with ``fields``, then the
        round trip is closed with ``reason``.
        """
        spec = self.state.specs[pos.symbol]
        self.credit(spec.settle, realized - paid)
        self.emit(event, pos.symbol, **fields)
        pos.exits.append((abs(pos.contracts), price))
        pos.realized += realized
        pos.fees += paid
        pos.contracts, pos.entry_price = ZERO, None
        self.close_trade(pos, reason)

    def close_trade(self, pos: Position, reason: str, keep: str = "") -> None:
        """The position is flat: emit the round trip and cancel its protective orders."""
        st = self.state
        spec = st.specs[pos.symbol]
        entry = average(spec, pos.entries)
        exit_price = average(spec, pos.exits)
        side = pos.trade_side or 1
        risk = None
        if pos.stop_at_entry is not None:
            exp = Exposure(side, pos.max_contracts, entry, spec.contract_size, spec.linear)
            risk = abs(pnl(exp, pos.stop_at_entry))
        self.emit(
            TradeClosed,
            pos.symbol,
            trade_id=f"t{pos.trade_no}",
            side="long" if side > 0 else "short",
            open_ts_ms=pos.open_ts_ms or st.input_ts,
            entry_price=entry,
            exit_price=exit_price,
            contracts=pos.max_contracts,
            contract_size=spec.contract_size,
            leverage=pos.leverage,
            margin_mode=pos.margin_mode,
            stop_at_entry=pos.stop_at_entry,
            risk_at_entry=risk,
            realized_pnl=pos.realized,
            fees=pos.fees,
            funding=pos.funding,
            currency=spec.settle,
            exit_reason=reason,
            tag=pos.tag,
        )
        reset_trade(pos)
        for other in st.working_orders(pos.symbol):
            if other.order_id != keep and (other.oco_group or other.close_position):
                self.cancel_order(other, "position_closed")
