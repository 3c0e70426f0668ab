"""Account: the thin façade; ``apply(input)`` routes each input to the module that owns it.

What the account holds is ``state.py``; every write goes through ``ledger.py``; margin and
liquidation numbers are ``risk.py`` (one cache); working orders meet prices in ``matching.py``;
the rules are ``checks``/``funding``/``liquidation``/``settlement``; screens read ``views.py``.
This class keeps the public API the session, strategies, replays and tests use.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sim.engine import risk, views
from sim.engine.checks import check_order, leverage_change
from sim.engine.commands import AmendOrder, CancelOrder, Deposit, PlaceOrder, SetLeverage
from sim.engine.events import (
    CommandRejected,
    Event,
    OrderAmended,
    OrderRejected,
)
from sim.engine.fills import Book
from sim.engine.funding import pay_due
from sim.engine.ledger import Ledger
from sim.engine.margin import check_leverage
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
from sim.engine.matching import Matching
from sim.engine.money import ZERO
from sim.engine.orders import Order, update_trail
from sim.engine.positions import Position, PositionView
from sim.engine.settlement import settle_due, settle_symbol
from sim.engine.spec import ContractSpec
from sim.engine.state import DEFAULT_LEVERAGE, AccountState
from sim.errors import InputError

__all__ = ["DEFAULT_LEVERAGE", "Account", "PositionView"]  # re-exported for callers


class _State:
    """An attribute of the account that lives on its state (read and write through)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Account | None, owner: type | None = None) -> Any:
        return self if obj is None else getattr(obj.state, self.name)

    def __set__(self, obj: Account, value: Any) -> None:
        setattr(obj.state, self.name, value)


class Account:
    """A paper futures account on one venue; deterministic: same inputs, same events."""

    name = _State()
    specs = _State()
    venue = _State()
    dated = _State()
    rules = _State()
    slippage_bps = _State()
    upnl_price = _State()
    mark_from_last = _State()
    seq = _State()
    order_no = _State()
    trade_no = _State()
    now_ms = _State()
    input_ts = _State()
    balances = _State()
    positions_by_symbol = _State()
    orders = _State()
    books = _State()
    marks = _State()
    funding = _State()
    stale = _State()
    expired = _State()
    margin_cache = _State()

    def __init__(
        self,
        name: str,
        specs: Mapping[str, ContractSpec],
        *,
        slippage_bps: Decimal = Decimal(2),
        upnl_price: str = "mark",
        mark_from_last: bool = False,
    ) -> None:
        self.state = AccountState(
            name,
            specs,
            slippage_bps=slippage_bps,
            upnl_price=upnl_price,
            mark_from_last=mark_from_last,
        )
        self.ledger = Ledger(self.state)
        self.matching = Matching(self.ledger)
        m = self.matching
        self._handlers: dict[type, Any] = {
            Deposit: self._on_deposit,
            SetLeverage: self._on_set_leverage,
            PlaceOrder: self._on_place,
            CancelOrder: self._on_cancel,
            AmendOrder: self._on_amend,
            LastTrade: m.on_last,
            MarkPrice: m.on_mark,
            BookTop: m.on_book,
            BookDepth: m.on_book,
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
        st = self.state
        st.out = []
        st.input_ts = int(inp.ts_ms)  # type: ignore[attr-defined]
        if isinstance(inp, Settlement):
            handler(inp)
        settle_due(self.ledger)
        pay_due(self.ledger)
        if not isinstance(inp, Settlement):
            handler(inp)
        st.now_ms = max(st.now_ms, st.input_ts)
        out, st.out = st.out, []
        return out

    def emit(self, cls: type, symbol: str = "", **kw: Any) -> Any:
        return self.ledger.emit(cls, symbol, **kw)

    def cancel_order(self, order: Order, reason: str) -> None:
        self.ledger.cancel_order(order, reason)

    def close_trade(self, pos: Position, reason: str, keep: str = "") -> None:
        self.ledger.close_trade(pos, reason, keep)

    # ---- state reads ----------------------------------------------------------------------
    def position(self, symbol: str) -> Position:
        return self.state.position(symbol)

    def book(self, symbol: str) -> Book:
        return self.state.book(symbol)

    def mark(self, symbol: str) -> Decimal | None:
        return self.state.mark(symbol)

    def taker_base(self, symbol: str, side: str) -> Decimal | None:
        return self.state.taker_base(symbol, side)

    def trigger_price_now(self, symbol: str, source: str) -> Decimal | None:
        return self.state.trigger_price_now(symbol, source)

    def working_orders(self, symbol: str | None = None) -> list[Order]:
        return self.state.working_orders(symbol)

    def drop_finished(self) -> None:
        self.state.drop_finished()

    # ---- views (read-only) ----------------------------------------------------------------
    def wallets(self) -> dict[str, Decimal]:
        """Balance per currency (realized money: deposits, PnL, fees, funding)."""
        return dict(sorted(self.state.balances.items()))

    def unrealized(self, symbol: str) -> Decimal:
        return risk.unrealized(self.state, symbol)

    def equity(self, currency: str) -> Decimal:
        return risk.equity(self.state, currency)

    def available(self, currency: str) -> Decimal:
        return risk.available(self.state, currency)

    def view(self, symbol: str) -> PositionView | None:
        return views.view(self.state, symbol)

    def positions(self) -> list[PositionView]:
        return views.positions(self.state)

    def open_orders(self) -> list[Order]:
        """Working orders in the order they were placed."""
        return self.state.working_orders()

    def path_bias(self, symbol: str) -> int:
        return views.path_bias(self.state, symbol)

    def quiet_levels(self, symbol: str) -> list[Decimal] | None:
        return views.quiet_levels(self.state, symbol)

    # ---- commands -------------------------------------------------------------------------
    def _on_deposit(self, cmd: Deposit) -> None:
        self.ledger.deposit(cmd.currency, cmd.amount, cmd.reason)

    def _on_set_leverage(self, cmd: SetLeverage) -> None:
        reason = self._leverage_problem(cmd)
        if reason:
            self.ledger.emit(CommandRejected, cmd.symbol, command="SetLeverage", reason=reason)
            return
        top_up = leverage_change(self.state, cmd.symbol, cmd.leverage)[1]
        self.ledger.set_leverage(self.position(cmd.symbol), cmd.leverage, cmd.margin_mode, top_up)

    def _leverage_problem(self, cmd: SetLeverage) -> str | None:
        spec = self.state.specs.get(cmd.symbol)
        if spec is None:
            return f"unknown symbol '{cmd.symbol}' on {self.state.venue}"
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
            or leverage_change(self.state, cmd.symbol, cmd.leverage)[0]
        )

    def _on_place(self, cmd: PlaceOrder) -> None:
        led, st = self.ledger, self.state
        oid = led.next_order_id()
        reason = check_order(st, cmd)
        if reason:
            led.emit(
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
        pos = st.position(cmd.symbol)
        lev, mode = cmd.leverage or pos.leverage, cmd.margin_mode or pos.margin_mode
        if (lev, mode) != (pos.leverage, pos.margin_mode):
            led.set_leverage(pos, lev, mode, leverage_change(st, cmd.symbol, lev)[1])
        order = Order.from_command(cmd, oid)
        led.accept(order, leverage=lev, margin_mode=mode)
        if order.order_type == "market":
            self.matching.take(order, st.taker_base(order.symbol, order.side))
        elif order.order_type == "limit":
            self.matching.work_limit(order, st.taker_base(order.symbol, order.side))
        elif order.order_type == "trailing_stop_market":
            now = st.trigger_price_now(order.symbol, order.trigger_source)
            if now is not None:
                update_trail(order, now)
        st.drop_finished()

    def _on_cancel(self, cmd: CancelOrder) -> None:
        order = self.state.orders.get(cmd.order_id)
        if order is None or not order.is_working:
            self.ledger.emit(
                CommandRejected,
                cmd.symbol,
                command="CancelOrder",
                order_id=cmd.order_id,
                reason=f"order {cmd.order_id} is not working (filled, cancelled or unknown)",
            )
            return
        self.ledger.cancel_order(order, cmd.reason)
        self.state.drop_finished()

    def _on_amend(self, cmd: AmendOrder) -> None:
        order = self.state.orders.get(cmd.order_id)
        reason = None
        if order is None or not order.is_working:
            reason = f"order {cmd.order_id} is not working (filled, cancelled or unknown)"
        else:
            spec = self.state.specs[order.symbol]
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
            self.ledger.emit(
                CommandRejected,
                cmd.symbol,
                command="AmendOrder",
                order_id=cmd.order_id,
                reason=reason or "",
            )
            return
        self.ledger.record(
            order,
            OrderAmended,
            contracts=cmd.contracts,
            price=cmd.price,
            trigger_price=cmd.trigger_price,
        )
        if order.is_limit and not order.needs_trigger:
            base = self.state.taker_base(order.symbol, order.side)
            self.matching.work_limit(order, base, resting=True)
        self.state.drop_finished()

    # ---- market status --------------------------------------------------------------------
    def _on_funding_rate(self, inp: FundingRate) -> None:
        spec = self.state.specs.get(inp.symbol)
        if spec is None or not spec.is_perpetual:
            return
        if self.state.funding.announce(inp.symbol, inp.funding_time_ms, inp.rate):
            pay_due(self.ledger)

    def _on_settlement(self, inp: Settlement) -> None:
        if inp.symbol in self.state.specs and inp.symbol not in self.state.expired:
            settle_symbol(self.ledger, inp.symbol, inp.price)

    def _on_feed_status(self, inp: FeedStatus) -> None:
        self.ledger.set_stale(inp.symbol, inp.stale, inp.reason)

    # ---- snapshot -------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """Complete JSON-safe state (Decimals as str): ``restore`` continues exactly from it."""
        return self.state.snapshot()

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
        acct.state.restore_from(snap)
        return acct
