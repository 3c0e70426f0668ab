"""Account: the one entry point (``apply``) that turns market inputs and commands into events.

It routes each input to the modules that own the rules (checks, fills, positions, funding,
liquidation, settlement) and keeps only the state between inputs, plus the views the screens
read (``wallets``, ``positions``, ``open_orders``, ``equity``) and ``snapshot``/``restore``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sim.engine.checks import check_order, leverage_change
from sim.engine.commands import AmendOrder, CancelOrder, Deposit, PlaceOrder, SetLeverage
from sim.engine.events import (
    CommandRejected,
    Event,
    FeedStale,
    LeverageSet,
    OrderAccepted,
    OrderAmended,
    OrderCancelled,
    OrderFilled,
    OrderRejected,
    TradeClosed,
    WalletCredited,
)
from sim.engine.fills import Book, fee
from sim.engine.funding import FundingBook, pay_due
from sim.engine.margin import MarginCache, check_leverage, pnl
from sim.engine.market import (
    BookDepth,
    BookTop,
    FeedStatus,
    FundingRate,
    Heartbeat,
    LastTrade,
    MarkPrice,
    Settlement,
)
from sim.engine.money import ZERO
from sim.engine.orders import (
    Order,
    OrderWork,
    exit_reason_for,
    update_trail,
)
from sim.engine.positions import (
    AccountViews,
    Position,
    PositionView,
    apply_fill,
    average,
    reset_trade,
)
from sim.engine.settlement import settle_due, settle_symbol
from sim.engine.spec import ContractSpec
from sim.engine.venues import rules_for
from sim.engine.venues.base import Exposure
from sim.errors import InputError

DEFAULT_LEVERAGE = Decimal(20)
__all__ = ["DEFAULT_LEVERAGE", "Account", "PositionView"]  # PositionView: re-exported


class Account(OrderWork, AccountViews):
    """A paper futures account on one venue; deterministic: same inputs, same events."""

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
        self.rules = rules_for(self.venue)
        self.slippage_bps = slippage_bps
        self.upnl_price = upnl_price
        self.mark_from_last = mark_from_last
        self.seq = 0
        self.order_no = 0
        self.trade_no = 0
        self.now_ms = 0
        self.balances: dict[str, Decimal] = {}
        self.positions_by_symbol: dict[str, Position] = {}
        self.orders: dict[str, Order] = {}
        self.books: dict[str, Book] = {}
        self.marks: dict[str, Decimal] = {}
        self.funding = FundingBook()
        self.stale: set[str] = set()
        self.expired: set[str] = set()
        self._out: list[Event] = []
        self.input_ts = 0
        self.margin_cache = MarginCache()  # numbers kept between marks; never in the snapshot
        self._handlers: dict[type, Any] = {
            Deposit: self._on_deposit,
            SetLeverage: self._on_set_leverage,
            PlaceOrder: self._on_place,
            CancelOrder: self._on_cancel,
            AmendOrder: self._on_amend,
            LastTrade: self._on_last,
            MarkPrice: self._on_mark,
            BookTop: self._on_book,
            BookDepth: self._on_book,
            FundingRate: self._on_funding_rate,
            Settlement: self._on_settlement,
            FeedStatus: self._on_feed_status,
            Heartbeat: lambda inp: None,
        }

    # ---- the one way in -------------------------------------------------------------------
    def apply(self, inp: object) -> list[Event]:
        """Apply one market input or command; return the events it caused, in seq order."""
        handler = self._handlers.get(type(inp))
        if handler is None:
            raise InputError(f"the account does not accept {type(inp).__name__} inputs")
        self._out = []
        self.input_ts = int(inp.ts_ms)  # type: ignore[attr-defined]
        if isinstance(inp, Settlement):
            handler(inp)
        settle_due(self)
        pay_due(self)
        if not isinstance(inp, Settlement):
            handler(inp)
        self.now_ms = max(self.now_ms, self.input_ts)
        out, self._out = self._out, []
        return out

    def emit(self, cls: type, symbol: str = "", **kw: Any) -> Any:
        self.seq += 1
        ev = cls(
            seq=self.seq,
            ts_ms=self.input_ts,
            account=self.name,
            venue=self.venue,
            symbol=symbol,
            **kw,
        )
        self._out.append(ev)
        return ev

    # ---- state helpers --------------------------------------------------------------------
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
        return [
            o
            for o in self.orders.values()
            if o.is_working and (symbol is None or o.symbol == symbol)
        ]

    def drop_finished(self) -> None:
        for oid in [k for k, o in self.orders.items() if not o.is_working]:
            del self.orders[oid]

    # ---- commands -------------------------------------------------------------------------
    def _on_deposit(self, cmd: Deposit) -> None:
        balance = self.balances.get(cmd.currency, ZERO) + cmd.amount
        self.balances[cmd.currency] = balance
        self.emit(
            WalletCredited,
            currency=cmd.currency,
            amount=cmd.amount,
            balance_after=balance,
            reason=cmd.reason,
        )

    def _on_set_leverage(self, cmd: SetLeverage) -> None:
        reason = self._leverage_problem(cmd)
        if reason:
            self.emit(CommandRejected, cmd.symbol, command="SetLeverage", reason=reason)
            return
        pos = self.position(cmd.symbol)
        pos.isolated_margin += leverage_change(self, cmd.symbol, cmd.leverage)[1]
        pos.leverage, pos.margin_mode = cmd.leverage, cmd.margin_mode
        self.emit(LeverageSet, cmd.symbol, leverage=cmd.leverage, margin_mode=cmd.margin_mode)

    def _leverage_problem(self, cmd: SetLeverage) -> str | None:
        spec = self.specs.get(cmd.symbol)
        if spec is None:
            return f"unknown symbol '{cmd.symbol}' on {self.venue}"
        if cmd.margin_mode not in ("isolated", "cross"):
            return f"margin mode must be isolated or cross, was '{cmd.margin_mode}'"
        pos = self.position(cmd.symbol)
        busy = pos.contracts != 0 or self.working_orders(cmd.symbol)
        if cmd.margin_mode != pos.margin_mode and busy:
            return (
                f"cannot switch {cmd.symbol} to {cmd.margin_mode} while a position or order is open"
            )
        price = self.mark(cmd.symbol) or pos.entry_price or ZERO
        return (
            check_leverage(
                spec, spec.notional(pos.contracts, price) if price else ZERO, cmd.leverage
            )
            or leverage_change(self, cmd.symbol, cmd.leverage)[0]
        )

    def _on_place(self, cmd: PlaceOrder) -> None:
        self.order_no += 1
        oid = f"o{self.order_no}"
        reason = check_order(self, cmd)
        if reason:
            self.emit(
                OrderRejected,
                cmd.symbol,
                order_id=oid,
                reason=reason,
                side=cmd.side,
                order_type=cmd.order_type,
                contracts=cmd.contracts,
                price=cmd.price,
                tag=cmd.tag,
            )
            return
        pos = self.position(cmd.symbol)
        lev, mode = cmd.leverage or pos.leverage, cmd.margin_mode or pos.margin_mode
        if (lev, mode) != (pos.leverage, pos.margin_mode):
            pos.isolated_margin += leverage_change(self, cmd.symbol, lev)[1]
            pos.leverage, pos.margin_mode = lev, mode
            self.emit(LeverageSet, cmd.symbol, leverage=lev, margin_mode=mode)
        order = Order(
            order_id=oid,
            symbol=cmd.symbol,
            side=cmd.side,
            order_type=cmd.order_type,
            contracts=ZERO if cmd.close_position else cmd.contracts,
            ts_ms=cmd.ts_ms,
            price=cmd.price,
            trigger_price=cmd.trigger_price,
            trigger_source=cmd.trigger_source,
            callback_pct=cmd.callback_pct,
            time_in_force=cmd.time_in_force,
            reduce_only=cmd.reduce_only or cmd.close_position,
            close_position=cmd.close_position,
            stop_loss=cmd.stop_loss,
            take_profit=cmd.take_profit,
            tag=cmd.tag,
            source=cmd.source,
            exit_reason=exit_reason_for(cmd.order_type),
        )
        self._accept(order, leverage=lev, margin_mode=mode)
        if order.order_type == "market":
            self._take(order, self.taker_base(order.symbol, order.side))
        elif order.order_type == "limit":
            self._work_limit(order, self.taker_base(order.symbol, order.side))
        elif order.order_type == "trailing_stop_market":
            now = self.trigger_price_now(order.symbol, order.trigger_source)
            if now is not None:
                update_trail(order, now)
        self.drop_finished()

    def _accept(self, order: Order, **extra: Any) -> None:
        ev = self.emit(
            OrderAccepted,
            order.symbol,
            order_id=order.order_id,
            side=order.side,
            order_type=order.order_type,
            contracts=order.contracts,
            price=order.price,
            trigger_price=order.trigger_price,
            trigger_source=order.trigger_source,
            callback_pct=order.callback_pct,
            time_in_force=order.time_in_force,
            reduce_only=order.reduce_only,
            close_position=order.close_position,
            parent_id=order.parent_id,
            oco_group=order.oco_group,
            stop_loss=order.stop_loss,
            take_profit=order.take_profit,
            tag=order.tag,
            source=order.source,
            **extra,
        )
        self.orders[order.order_id] = order
        order.apply(ev)

    def _on_cancel(self, cmd: CancelOrder) -> None:
        order = self.orders.get(cmd.order_id)
        if order is None or not order.is_working:
            self.emit(
                CommandRejected,
                cmd.symbol,
                command="CancelOrder",
                order_id=cmd.order_id,
                reason=f"order {cmd.order_id} is not working (filled, cancelled or unknown)",
            )
            return
        self.cancel_order(order, "user")
        self.drop_finished()

    def cancel_order(self, order: Order, reason: str) -> None:
        order.apply(self.emit(OrderCancelled, order.symbol, order_id=order.order_id, reason=reason))

    def _on_amend(self, cmd: AmendOrder) -> None:
        order = self.orders.get(cmd.order_id)
        reason = None
        if order is None or not order.is_working:
            reason = f"order {cmd.order_id} is not working (filled, cancelled or unknown)"
        else:
            spec = self.specs[order.symbol]
            for value in (cmd.price, cmd.trigger_price):
                if value is not None and (value <= 0 or value % spec.price_tick != 0):
                    reason = f"price {value} is not on the tick {spec.price_tick} of {order.symbol}"
            if cmd.contracts is not None and (
                cmd.contracts <= order.filled or cmd.contracts % spec.amount_step != 0
            ):
                reason = (
                    f"new size {cmd.contracts} must be above the filled {order.filled} "
                    f"and a multiple of {spec.amount_step}"
                )
        if reason or order is None:
            self.emit(
                CommandRejected,
                cmd.symbol,
                command="AmendOrder",
                order_id=cmd.order_id,
                reason=reason or "",
            )
            return
        order.apply(
            self.emit(
                OrderAmended,
                order.symbol,
                order_id=order.order_id,
                contracts=cmd.contracts,
                price=cmd.price,
                trigger_price=cmd.trigger_price,
            )
        )
        if order.is_limit and not order.needs_trigger:
            self._work_limit(order, self.taker_base(order.symbol, order.side), resting=True)
        self.drop_finished()

    # ---- execution ------------------------------------------------------------------------
    def fill(self, order: Order, price: Decimal, qty: Decimal, liquidity: str) -> None:
        """Book one fill; a fill that flips the position is booked as a close then an open."""
        pos = self.position(order.symbol)
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
        spec = self.specs[order.symbol]
        pos = self.position(order.symbol)
        was_flat = pos.contracts == 0
        effect = apply_fill(pos, spec, order.side, qty, price)
        paid = fee(spec, qty, price, liquidity)
        if effect.opened:
            if was_flat:
                self.trade_no += 1
                pos.trade_no, pos.open_ts_ms, pos.tag = self.trade_no, self.input_ts, order.tag
                pos.trade_side = order.sign
                pos.stop_at_entry = order.stop_loss
            if pos.margin_mode == "isolated":
                part = Exposure(order.sign, qty, price, spec.contract_size, spec.linear)
                pos.isolated_margin += self.rules.isolated_margin(
                    part, pos.leverage, spec.taker_fee
                )
        pos.fees += paid
        wallet = self.balances.get(spec.settle, ZERO) + effect.realized_pnl - paid
        self.balances[spec.settle] = wallet
        reason = "order"
        if effect.closed:
            reason = "close" if order.exit_reason == "manual" else order.exit_reason
        order.apply(
            self.emit(
                OrderFilled,
                order.symbol,
                order_id=order.order_id,
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
        )
        if order.status == "filled" and order.oco_group:
            for other in self.working_orders(order.symbol):
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
            self.order_no += 1
            child = Order(
                order_id=f"o{self.order_no}",
                symbol=parent.symbol,
                side=opposite,
                order_type=kind,
                contracts=parent.contracts,
                ts_ms=self.input_ts,
                trigger_price=trigger,
                trigger_source=parent.trigger_source,
                reduce_only=True,
                parent_id=parent.order_id,
                oco_group=parent.order_id,
                tag=parent.tag,
                source=parent.source,
                exit_reason=exit_reason_for(kind),
            )
            self._accept(child)

    def close_trade(self, pos: Position, reason: str, keep: str = "") -> None:
        """The position is flat: emit the round trip and cancel its protective orders."""
        spec = self.specs[pos.symbol]
        entry = average(spec, pos.entries)
        exit_price = average(spec, pos.exits)
        side = pos.trade_side or 1
        risk = None
        if pos.stop_at_entry is not None:
            risk = abs(
                pnl(
                    Exposure(side, pos.max_contracts, entry, spec.contract_size, spec.linear),
                    pos.stop_at_entry,
                )
            )
        self.emit(
            TradeClosed,
            pos.symbol,
            trade_id=f"t{pos.trade_no}",
            side="long" if side > 0 else "short",
            open_ts_ms=pos.open_ts_ms or self.input_ts,
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
        for other in self.working_orders(pos.symbol):
            if other.order_id != keep and (other.oco_group or other.close_position):
                self.cancel_order(other, "position_closed")

    def _on_funding_rate(self, inp: FundingRate) -> None:
        spec = self.specs.get(inp.symbol)
        if spec is None or not spec.is_perpetual:
            return
        if self.funding.announce(inp.symbol, inp.funding_time_ms, inp.rate):
            pay_due(self)

    def _on_settlement(self, inp: Settlement) -> None:
        if inp.symbol in self.specs and inp.symbol not in self.expired:
            settle_symbol(self, inp.symbol, inp.price)

    def _on_feed_status(self, inp: FeedStatus) -> None:
        was = inp.symbol in self.stale
        if inp.stale:
            self.stale.add(inp.symbol)
        else:
            self.stale.discard(inp.symbol)
        if was != inp.stale:
            self.emit(FeedStale, inp.symbol, stale=inp.stale, reason=inp.reason)

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

    @classmethod
    def restore(cls, snap: Mapping[str, Any], specs: Mapping[str, ContractSpec]) -> Account:
        """Rebuild an account from :meth:`snapshot` with the same specs."""
        acct = cls(
            snap["name"],
            specs,
            slippage_bps=Decimal(snap["slippage_bps"]),
            upnl_price=snap["upnl_price"],
            mark_from_last=bool(snap["mark_from_last"]),
        )
        c = snap["counters"]
        acct.seq, acct.order_no, acct.trade_no = (
            int(c["seq"]),
            int(c["order_no"]),
            int(c["trade_no"]),
        )
        acct.now_ms = int(snap["now_ms"])
        acct.balances = {k: Decimal(v) for k, v in snap["wallets"].items()}
        acct.positions_by_symbol = {s: Position.from_dict(p) for s, p in snap["positions"].items()}
        acct.orders = {o["order_id"]: Order.from_dict(o) for o in snap["orders"]}
        acct.books = {s: Book.from_dict(b) for s, b in snap["books"].items()}
        acct.marks = {s: Decimal(v) for s, v in snap["marks"].items()}
        acct.funding = FundingBook.from_dict(snap["funding"])
        acct.stale = set(snap["stale"])
        acct.expired = set(snap["expired"])
        return acct
