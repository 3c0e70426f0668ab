"""One-way position: signed contracts, average entry, realized PnL, trade bookkeeping, the view.

Averages and PnL come from ``sim.engine.margin`` (linear size-weighted, inverse harmonic); this
module only keeps the state between fills and splits a fill into its closing and opening parts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sim.engine import liquidation as liq
from sim.engine.liquidation import liquidation_price
from sim.engine.margin import Slot, avg_entry_inverse, avg_entry_linear, margin_ratio, pnl
from sim.engine.money import ZERO
from sim.engine.orders import Order, trigger_level
from sim.engine.spec import ContractSpec
from sim.engine.venues.base import Exposure

if TYPE_CHECKING:
    from sim.engine.account import Account


@dataclass(slots=True)
class Position:
    """A symbol's position in one-way mode; ``contracts`` > 0 long, < 0 short, 0 flat."""

    symbol: str
    leverage: Decimal
    margin_mode: str
    contracts: Decimal = ZERO
    entry_price: Decimal | None = None
    isolated_margin: Decimal = ZERO  # margin locked for an isolated position (settle currency)
    # The round trip in progress: reset when the position returns to zero.
    trade_no: int = 0
    trade_side: int = 0  # +1 long, −1 short for the round trip in progress
    open_ts_ms: int | None = None
    max_contracts: Decimal = ZERO
    entries: list[tuple[Decimal, Decimal]] = field(default_factory=list)  # (contracts, price)
    exits: list[tuple[Decimal, Decimal]] = field(default_factory=list)
    realized: Decimal = ZERO
    fees: Decimal = ZERO
    funding: Decimal = ZERO
    stop_at_entry: Decimal | None = None
    tag: str | None = None

    @property
    def side(self) -> int:
        return (self.contracts > 0) - (self.contracts < 0)

    def exposure(self, spec: ContractSpec) -> Exposure:
        """The position as the venue formulas see it (absolute contracts)."""
        return Exposure(
            side=self.side,
            contracts=abs(self.contracts),
            entry_price=self.entry_price or ZERO,
            contract_size=spec.contract_size,
            linear=spec.linear,
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, Decimal):
                v = str(v)
            elif isinstance(v, list):
                v = [[str(a), str(b)] for a, b in v]
            out[f.name] = v
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Position:
        kw: dict[str, Any] = {}
        for f in fields(cls):
            v = data[f.name]
            if f.name in ("entries", "exits"):
                v = [(Decimal(a), Decimal(b)) for a, b in v]
            elif isinstance(v, str) and f.name not in ("symbol", "margin_mode", "tag"):
                v = Decimal(v)
            kw[f.name] = v
        return cls(**kw)


@dataclass(frozen=True, slots=True)
class FillEffect:
    """What one fill did to a position."""

    closed: Decimal  # contracts closed (absolute)
    opened: Decimal  # contracts opened (absolute, after any flip)
    realized_pnl: Decimal  # gross, settle currency
    margin_released: Decimal  # isolated margin freed by the closing part


def average(spec: ContractSpec, rows: list[tuple[Decimal, Decimal]]) -> Decimal:
    """Average price of (contracts, price) rows: size-weighted (linear) or harmonic (inverse)."""
    return avg_entry_linear(rows) if spec.linear else avg_entry_inverse(rows)


def apply_fill(
    pos: Position, spec: ContractSpec, side: str, contracts: Decimal, price: Decimal
) -> FillEffect:
    """Book a fill of ``contracts`` at ``price``: reduce first, then open (a flip does both)."""
    sign = 1 if side == "buy" else -1
    closed = ZERO
    realized = ZERO
    released = ZERO
    if pos.contracts != 0 and pos.side != sign:
        closed = min(contracts, abs(pos.contracts))
        part = Exposure(pos.side, closed, pos.entry_price or price, spec.contract_size, spec.linear)
        realized = pnl(part, price)
        released = pos.isolated_margin * closed / abs(pos.contracts)
        pos.isolated_margin -= released
        pos.contracts += sign * closed
        pos.exits.append((closed, price))
        pos.realized += realized
        if pos.contracts == 0:
            pos.entry_price = None
    opened = contracts - closed
    if opened > 0:
        if pos.contracts == 0:
            pos.entry_price = price
        else:
            pos.entry_price = average(
                spec, [(abs(pos.contracts), pos.entry_price or price), (opened, price)]
            )
        pos.contracts += sign * opened
        pos.entries.append((opened, price))
        pos.max_contracts = max(pos.max_contracts, abs(pos.contracts))
    return FillEffect(closed, opened, realized, released)


def reset_trade(pos: Position) -> None:
    """Forget the finished round trip (the position is flat)."""
    pos.open_ts_ms = None
    pos.trade_side = 0
    pos.max_contracts = ZERO
    pos.entries = []
    pos.exits = []
    pos.realized = ZERO
    pos.fees = ZERO
    pos.funding = ZERO
    pos.stop_at_entry = None
    pos.tag = None
    pos.isolated_margin = ZERO


@dataclass(frozen=True, slots=True)
class PositionView:
    """An open position as screens show it; ``liquidation_price`` is the one the engine acts on."""

    symbol: str
    side: str
    contracts: Decimal  # signed
    entry_price: Decimal
    contract_size: Decimal
    leverage: Decimal
    margin_mode: str
    isolated_margin: Decimal
    mark_price: Decimal | None
    notional: Decimal
    unrealized_pnl: Decimal
    maintenance_margin: Decimal
    margin_ratio: Decimal
    liquidation_price: Decimal | None
    currency: str
    funding: Decimal


def position_view(acct: Account, symbol: str, cross: liq.CrossTerms | None = None) -> PositionView:
    """Build the view of one open position from the account's state.

    ``cross``: the terms of the symbol's cross wallet when the caller already has them.
    The numbers come from the account's margin cache (the ones the liquidation check of the
    last mark computed); the view object itself is reused while every number in it is the same.
    """
    pos = acct.positions_by_symbol[symbol]
    spec = acct.specs[symbol]
    mark_price = acct.mark(symbol)
    mark = mark_price or pos.entry_price or ZERO
    slot = acct.margin_cache.slot(symbol, pos, spec, mark)
    if acct.upnl_price == "mark" and mark and pos.contracts != 0 and slot.upnl is not None:
        upnl = slot.upnl  # the same pnl at the same price ``unrealized`` computes
    else:
        upnl = acct.unrealized(symbol)
    if pos.margin_mode == "isolated":
        ratio = _isolated_ratio(slot, pos, mark)
    else:
        cross = cross or liq.cross_terms(acct, spec.settle)
        ratio = cross_ratio(acct, spec.settle, cross)
    lp = liquidation_price(acct, symbol, cross)
    k = slot.view_key
    if (
        k is not None
        and k[0] == slot.version
        and k[1] is pos.leverage
        and k[2] is pos.margin_mode
        and k[3] is pos.isolated_margin
        and k[4] is mark_price
        and k[5] is upnl
        and k[6] is ratio
        and k[7] is lp
        and k[8] is pos.funding
    ):
        return slot.view  # type: ignore[return-value]
    assert slot.exp is not None
    view = PositionView(
        symbol=symbol,
        side="long" if pos.side > 0 else "short",
        contracts=pos.contracts,
        entry_price=slot.exp.entry_price,
        contract_size=spec.contract_size,
        leverage=pos.leverage,
        margin_mode=pos.margin_mode,
        isolated_margin=pos.isolated_margin,
        mark_price=mark_price,
        notional=slot.notional,
        unrealized_pnl=upnl,
        maintenance_margin=slot.maint,
        margin_ratio=ratio,
        liquidation_price=lp,
        currency=spec.settle,
        funding=pos.funding,
    )
    slot.view = view
    slot.view_key = (slot.version, pos.leverage, pos.margin_mode, pos.isolated_margin, mark_price)
    slot.view_key += (upnl, ratio, lp, pos.funding)
    return view


def _isolated_ratio(slot: Slot, pos: Position, mark: Decimal) -> Decimal:
    """maintenance / (isolated margin + uPnL at mark), kept while the margin is the same."""
    if slot.ratio_basis is pos.isolated_margin and slot.ratio is not None:
        return slot.ratio
    upnl = slot.upnl if slot.upnl is not None else pnl(slot.exp, mark)  # type: ignore[arg-type]
    slot.ratio = margin_ratio(slot.maint, pos.isolated_margin + upnl)
    slot.ratio_basis = pos.isolated_margin
    return slot.ratio


def cross_ratio(acct: Account, currency: str, cross: liq.CrossTerms | None = None) -> Decimal:
    """Account margin ratio of the cross wallet: Σ maintenance / (cross wallet + Σ uPnL)."""
    cross = cross or liq.cross_terms(acct, currency)
    return acct.margin_cache.ratio(currency, cross)


class AccountViews:
    """What screens and the replay read from an account (no state changes).

    A mixin of :class:`sim.engine.account.Account`.
    """

    specs: dict[str, ContractSpec]
    balances: dict[str, Decimal]
    positions_by_symbol: dict[str, Position]
    upnl_price: str

    def wallets(self) -> dict[str, Decimal]:
        """Balance per currency (realized money: deposits, PnL, fees, funding)."""
        return dict(sorted(self.balances.items()))

    def unrealized(self, symbol: str) -> Decimal:
        """Unrealized PnL at mark (or last, per ``upnl_price``)."""
        pos = self.positions_by_symbol.get(symbol)
        if pos is None or pos.contracts == 0:
            return ZERO
        price = self.book(symbol).last if self.upnl_price == "last" else self.mark(symbol)
        price = price or pos.entry_price
        return pnl(pos.exposure(self.specs[symbol]), price) if price else ZERO

    def equity(self, currency: str) -> Decimal:
        """Wallet balance plus the unrealized PnL of the positions settled in ``currency``."""
        upnl = sum(
            (
                self.unrealized(s)
                for s in self.positions_by_symbol
                if self.specs[s].settle == currency
            ),
            ZERO,
        )
        return self.balances.get(currency, ZERO) + upnl

    def available(self, currency: str) -> Decimal:
        """What new orders may use: cross wallet + cross uPnL − cross margin − open-order margin."""
        total = liq.cross_wallet(self, currency)
        for s, pos in self.positions_by_symbol.items():
            spec = self.specs[s]
            if spec.settle != currency or pos.contracts == 0 or pos.margin_mode != "cross":
                continue
            mark = self.mark(s) or pos.entry_price or ZERO
            exp = pos.exposure(spec)
            total += pnl(exp, mark) - exp.notional(mark) / pos.leverage
        for o in self.working_orders():
            spec = self.specs[o.symbol]
            if spec.settle == currency and o.is_limit and not o.reduce_only and o.price:
                total -= spec.notional(o.remaining, o.price) / self.position(o.symbol).leverage
        return total

    def view(self, symbol: str) -> PositionView | None:
        """One open position's view (None when flat): what a screen re-reads after a mark."""
        pos = self.positions_by_symbol.get(symbol)
        if pos is None or pos.contracts == 0:
            return None
        return position_view(self, symbol)  # type: ignore[arg-type]

    def positions(self) -> list[PositionView]:
        """Every open position with the numbers a screen shows, liquidation price included."""
        cross: dict[str, liq.CrossTerms] = {}
        views = []
        for s, p in sorted(self.positions_by_symbol.items()):
            if p.contracts == 0:
                continue
            settle = self.specs[s].settle
            if p.margin_mode == "cross" and settle not in cross:
                cross[settle] = liq.cross_terms(self, settle)
            views.append(position_view(self, s, cross.get(settle)))
        return views

    def open_orders(self) -> list[Order]:
        """Working orders in the order they were placed."""
        return self.working_orders()

    def path_bias(self, symbol: str) -> int:
        """Which extreme hurts first: +1 low first, −1 high first, 0 nothing to hurt.

        Long: low first (stops below before targets above). Short: high first. Flat with only
        buy entries working: high first, so an entry filled later in the bar meets the low (its
        stop) rather than the high (its target); only sell entries: low first.
        """
        pos = self.positions_by_symbol.get(symbol)
        if pos is not None and pos.contracts != 0:
            return pos.side
        sides = {o.sign for o in self.working_orders(symbol) if not o.reduce_only}
        return -sides.pop() if len(sides) == 1 else 0

    def quiet_levels(self, symbol: str) -> list[Decimal] | None:
        """Prices at which something can happen for ``symbol``; None when every price matters.

        A bar whose range holds none of these prices changes nothing but the last price, so a
        replay may skip it. None when a cross position shares its wallet with another symbol
        (its liquidation price moves with the other mark).
        """
        levels: list[Decimal] = []
        pos = self.positions_by_symbol.get(symbol)
        if pos is not None and pos.contracts != 0:
            if pos.margin_mode == "cross":
                settle = self.specs[symbol].settle
                others = [
                    s
                    for s, p in self.positions_by_symbol.items()
                    if s != symbol and p.contracts != 0 and self.specs[s].settle == settle
                ]
                if others:
                    return None
            lp = liq.liquidation_price(self, symbol)
            if lp is not None:
                levels.append(lp)
        for o in self.working_orders(symbol):
            if o.order_type == "trailing_stop_market":
                if o.trail_extreme is None:
                    if o.trigger_price is None:
                        return None
                    levels.append(o.trigger_price)
                else:
                    levels.append(o.trail_extreme)
                    levels.append(trigger_level(o) or o.trail_extreme)
            elif o.needs_trigger and o.trigger_price is not None:
                levels.append(o.trigger_price)
            elif o.price is not None:
                levels.append(o.price)
        return levels
