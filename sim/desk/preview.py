"""What an order will do, shown before it is sent: notional, margin and liquidation price.

A market order is tried on a copy of the account (``Account.restore`` of its snapshot), so the
echoed fill price and liquidation price are the engine's own. A resting order is quoted with the
venue's formula (``sizing.quote_liquidation``) at its limit or trigger price, the position it
would add to included.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Protocol

from sim.desk.describe import money, position_effect
from sim.display import fmt
from sim.engine.account import Account
from sim.engine.commands import PlaceOrder
from sim.engine.events import OrderAccepted, OrderFilled, OrderRejected
from sim.engine.hedge import HedgeResult
from sim.engine.messages import price_places
from sim.engine.money import on_step
from sim.engine.sizing import SizeResult, quote_liquidation
from sim.errors import InputError

if TYPE_CHECKING:
    from adapters.specs import SpecBook


class DeskSession(Protocol):
    """What an echo reads of the desk (kept a protocol so the desk session may import this)."""

    @property
    def account(self) -> Account: ...

    @property
    def book(self) -> SpecBook: ...

    @property
    def now_ms(self) -> int: ...

    def wallet(self) -> Decimal: ...

    def position_contracts(self, symbol: str) -> Decimal: ...

    def leverage_of(self, symbol: str) -> tuple[Decimal, str]: ...

    def reference_price(self, symbol: str, side: str | None = None) -> Decimal | None: ...


@dataclass(frozen=True, slots=True)
class Echo:
    """An order as the trader will see it before it goes out."""

    symbol: str
    side: str
    order_type: str
    contracts: Decimal
    contract_size: Decimal
    price: Decimal | None  # expected fill (market) or limit/trigger price
    notional: Decimal | None
    leverage: Decimal
    margin_mode: str
    margin: Decimal | None
    liquidation_price: Decimal | None
    currency: str
    exact: bool  # True when the engine itself computed it on a copy of the account
    price_step: Decimal = Decimal("0.01")  # display step of prices
    note: str = ""
    effect: str = ""  # what it does to the open position: reduces / flips / closes / adds to

    def shown(self, price: Decimal | None) -> Decimal | None:
        """A price rounded for display (the engine keeps the exact value)."""
        return None if price is None else on_step(price, self.price_step, ROUND_HALF_UP)

    def line(self) -> str:
        """One line: what, at what price, notional, margin, liquidation price."""
        how = "≈" if self.order_type == "market" else "@"
        parts = [
            f"→ {self.side} {fmt(self.contracts)} {self.symbol} (×{fmt(self.contract_size)}) "
            f"{self.order_type} {how} {fmt(self.shown(self.price))}",
            f"notional {money(self.notional, self.currency)}",
            f"margin {money(self.margin, self.currency)} "
            f"({fmt(self.leverage)}x {self.margin_mode})",
            f"liq {fmt(self.shown(self.liquidation_price))}",
        ]
        if self.effect:
            parts.insert(1, self.effect)
        if self.note:
            parts.append(self.note)
        return " | ".join(parts)


def _try_market(desk: DeskSession, order: PlaceOrder) -> tuple[Decimal | None, Decimal | None, str]:
    """Fill price and resulting liquidation price of a market order, on a copy of the account."""
    acct = desk.account
    copy = Account.restore(acct.snapshot(), acct.specs)
    events = copy.apply(order)
    accepted = next((e for e in events if isinstance(e, OrderAccepted)), None)
    fills = [e for e in events if isinstance(e, OrderFilled) and accepted is not None
             and e.order_id == accepted.order_id]  # fmt: skip
    rejected = [e for e in events if isinstance(e, OrderRejected)]
    if rejected:
        return None, None, f"the exchange would reject it: {rejected[0].reason}"
    if not fills:
        return None, None, "no price yet to fill against"
    qty = sum((f.contracts for f in fills), Decimal(0))
    price = sum((f.price * f.contracts for f in fills), Decimal(0)) / qty
    spec = acct.specs[order.symbol]
    price = spec.round_price(price)
    view = next((p for p in copy.positions() if p.symbol == order.symbol), None)
    return price, view.liquidation_price if view else None, ""


def _quote_resting(
    desk: DeskSession, order: PlaceOrder, price: Decimal, lev: Decimal, mode: str
) -> tuple[Decimal | None, str]:
    spec = desk.account.specs[order.symbol]
    held = desk.position_contracts(order.symbol)
    pos = desk.account.positions_by_symbol.get(order.symbol)
    held_entry = pos.entry_price if pos is not None else None
    if order.tag and order.tag.startswith("scale "):
        # a ladder's rung is quoted as the position once it and the rungs before it filled
        held, held_entry = ladder_position(desk, order, held, held_entry)
    signed = order.contracts if order.side == "buy" else -order.contracts
    after = held + signed
    if after == 0 or order.reduce_only:
        return None, ""
    entry = price
    if held_entry and held * after > 0 and abs(after) > abs(held):
        entry = (held_entry * abs(held) + price * order.contracts) / abs(after)
        entry = spec.round_price(entry)
    wallet = desk.wallet() if mode == "cross" else None
    try:
        q = quote_liquidation(
            spec, side="long" if after > 0 else "short", entry=entry, contracts=abs(after),
            leverage=lev, margin_mode=mode, wallet=wallet,  # type: ignore[arg-type]
        )  # fmt: skip
    except InputError as e:
        return None, str(e)
    return q.liquidation_price, "" if mode == "isolated" else "cross liq ignores other positions"


def ladder_position(
    desk: DeskSession, order: PlaceOrder, held: Decimal, entry: Decimal | None
) -> tuple[Decimal, Decimal | None]:
    """``held`` contracts at ``entry`` plus the working rungs of the same ladder (same symbol
    and side, tagged ``scale i/n``) as if filled: the position a rung's fill adds to."""
    for o in desk.account.open_orders():
        if (o.symbol != order.symbol or o.side != order.side or o.price is None
                or not (o.tag or "").startswith("scale ")):  # fmt: skip
            continue
        size = o.contracts - o.filled
        signed = size if o.side == "buy" else -size
        if held * signed >= 0:
            total = abs(held) + size
            entry = (
                o.price if not entry or held == 0 else (entry * abs(held) + o.price * size) / total
            )
            held += signed
    return held, entry


def _held_for(desk: DeskSession, order: PlaceOrder) -> Decimal:
    """The position an order acts on: a ladder rung's includes the rungs before it."""
    held = desk.position_contracts(order.symbol)
    if order.tag and order.tag.startswith("scale "):
        held, _ = ladder_position(desk, order, held, None)
    return held


def preview(desk: DeskSession, order: PlaceOrder) -> Echo:
    """The echo of ``order`` before sending."""
    spec = desk.account.specs.get(order.symbol)
    if spec is None:
        raise InputError(f"unknown symbol '{order.symbol}' on {desk.book.exchange}")
    cur_lev, cur_mode = desk.leverage_of(order.symbol)
    lev, mode = order.leverage or cur_lev, order.margin_mode or cur_mode
    # quoted as the kernel will send it: a new position's configured leverage and mode
    order = replace(order, leverage=lev, margin_mode=mode)
    note, exact = "", False
    if order.order_type == "market":
        price, liq, note = _try_market(desk, order)
        exact = price is not None
        if price is None:
            price = desk.reference_price(order.symbol, order.side)
    else:
        price = order.price or order.trigger_price or desk.reference_price(order.symbol)
        liq = None
        if price is not None:
            liq, note = _quote_resting(desk, order, price, lev, mode)
    notional = spec.notional(order.contracts, price) if price else None
    margin = notional / lev if notional is not None and not order.reduce_only else None
    return Echo(
        symbol=order.symbol, side=order.side, order_type=order.order_type,
        contracts=order.contracts, contract_size=spec.contract_size, price=price,
        notional=notional, leverage=lev, margin_mode=mode, margin=margin,
        liquidation_price=liq, currency=spec.settle, exact=exact, note=note,
        price_step=price_places(spec),
        effect=position_effect(_held_for(desk, order), order.side, order.contracts,
                               order.reduce_only),
    )  # fmt: skip


def size_as_echoed(
    desk: DeskSession, r: SizeResult, entry: Decimal | None
) -> tuple[SizeResult, str]:
    """The proposal with the liquidation price the order's own echo shows, and the margin mode.

    The sizing calculator quotes an isolated position; the account may be cross. The order the
    proposal tells the trader to type is previewed like any order (the engine on a copy of the
    account for a market order, the venue's rule at the limit otherwise), so the proposal and
    the echo state the same liquidation price for the account's margin mode.
    """
    if r.contracts == 0:
        return r, desk.leverage_of(r.symbol)[1]
    order = PlaceOrder(
        ts_ms=desk.now_ms, venue=desk.book.exchange, symbol=r.symbol,
        side="buy" if r.side == "long" else "sell",
        order_type="market" if entry is None else "limit", price=entry,
        contracts=r.contracts, leverage=r.leverage, stop_loss=r.stop,
    )  # fmt: skip
    echo = preview(desk, order)
    liq = echo.shown(echo.liquidation_price)
    warnings = [w for w in r.warnings if not w.startswith("liquidation price ")]
    if liq is not None and (liq >= r.stop if r.side == "long" else liq <= r.stop):
        warnings.insert(0, f"liquidation price {fmt(liq)} is at or beyond the stop {fmt(r.stop)}: "
                        "the position would be liquidated before the stop triggers; lower the "
                        "leverage")  # fmt: skip
    return replace(r, liquidation_price=liq, warnings=tuple(warnings)), echo.margin_mode


def size_text(r: SizeResult, mode: str = "isolated") -> list[str]:
    """The size proposal in two lines, ending with the order to type."""
    if r.contracts == 0:
        return [f"size: {r.reason or 'no size fits the risk budget'}"]
    side = "buy" if r.side == "long" else "sell"
    liq = fmt(r.liquidation_price)
    if r.liquidation_price is None and mode == "cross":
        liq = "- (cross: the wallet covers it)"
    lines = [
        f"size: {fmt(r.contracts)} contracts (×{fmt(r.contract_size)}) {r.symbol} {r.side} from "
        f"{fmt(r.entry)} stop {fmt(r.stop)}: loses {money(r.max_loss, r.currency)} of "
        f"{money(r.risk_budget, r.currency)} ({fmt(r.risk_pct)}% of {money(r.equity, r.currency)}"
        f"), notional {money(r.notional, r.currency)}, margin {money(r.margin, r.currency)} at "
        f"{fmt(r.leverage)}x {mode}, liq {liq}",
        f"type: {side} {fmt(r.contracts)} {r.symbol} stop {fmt(r.stop)}",
    ]
    lines += [f"warning: {w}" for w in r.warnings]
    return lines


def hedge_text(r: HedgeResult, side: str, held: Decimal = Decimal(0)) -> list[str]:
    """The hedge proposal, ending with the order to type (and what it does to ``held``)."""
    if r.contracts == 0:
        return [f"hedge: {r.reason or 'the hedge rounds to zero contracts'}"]
    effect = position_effect(held, side, r.contracts)
    lines = [
        f"hedge: {side} {fmt(r.contracts)} {r.symbol} (×{fmt(r.contract_size)}) @ {fmt(r.price)} "
        f"covers {money(r.hedged_notional)} of {money(r.beta_exposure)} beta exposure "
        f"({money(r.portfolio)} × beta {fmt(r.beta)}); unhedged {money(r.unhedged)}, margin "
        f"{money(r.margin, r.margin_currency)} at {fmt(r.leverage)}x",
        f"type: {side} {fmt(r.contracts)} {r.symbol}",
    ]
    if effect and not effect.startswith("adds"):
        lines.insert(1, f"note: this order {effect} (the hedge offsets your own position)")
    lines += [f"warning: {w}" for w in r.warnings]
    return lines
