"""Read-only projections of an account for screens and replays (no state changes).

Positions with the numbers a screen shows (liquidation price included, the one the engine acts
on), working orders, and the quiet levels a fast replay may skip between. Every function takes
the ``AccountState`` and writes nothing but the margin cache's reusable view objects.
"""

from __future__ import annotations

from decimal import Decimal

from sim.engine.margin import margin_ratio, pnl
from sim.engine.money import ZERO
from sim.engine.orders import trigger_level
from sim.engine.positions import Position, PositionView
from sim.engine.risk import (
    CrossTerms,
    Slot,
    cross_ratio,
    cross_terms,
    liquidation_price,
    unrealized,
)
from sim.engine.state import AccountState
from sim.engine.triggers import cross_band_levels


def position_view(acct: AccountState, symbol: str, cross: CrossTerms | None = None) -> PositionView:
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
        upnl = unrealized(acct, symbol)
    if pos.margin_mode == "isolated":
        ratio = _isolated_ratio(slot, pos, mark)
    else:
        cross = cross or cross_terms(acct, spec.settle)
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


def view(acct: AccountState, symbol: str) -> PositionView | None:
    """One open position's view (None when flat): what a screen re-reads after a mark."""
    pos = acct.positions_by_symbol.get(symbol)
    if pos is None or pos.contracts == 0:
        return None
    return position_view(acct, symbol)


def positions(acct: AccountState) -> list[PositionView]:
    """Every open position with the numbers a screen shows, liquidation price included."""
    cross: dict[str, CrossTerms] = {}
    views = []
    for s, p in sorted(acct.positions_by_symbol.items()):
        if p.contracts == 0:
            continue
        settle = acct.specs[s].settle
        if p.margin_mode == "cross" and settle not in cross:
            cross[settle] = cross_terms(acct, settle)
        views.append(position_view(acct, s, cross.get(settle)))
    return views


def path_bias(acct: AccountState, symbol: str) -> int:
    """Which extreme hurts first: +1 low first, −1 high first, 0 nothing to hurt.

    Long: low first (stops below before targets above). Short: high first. Flat with only
    buy entries working: high first, so an entry filled later in the bar meets the low (its
    stop) rather than the high (its target); only sell entries: low first.
    """
    pos = acct.positions_by_symbol.get(symbol)
    if pos is not None and pos.contracts != 0:
        return pos.side
    sides = {o.sign for o in acct.working_orders(symbol) if not o.reduce_only}
    return -sides.pop() if len(sides) == 1 else 0


def _position_levels(acct: AccountState, symbol: str) -> list[Decimal] | None:
    """The position's liquidation price, or its cross band's edges (None: no band holds)."""
    pos = acct.positions_by_symbol.get(symbol)
    if pos is None or pos.contracts == 0:
        return []
    if pos.margin_mode == "cross":
        settle = acct.specs[symbol].settle
        others = [
            s
            for s, p in acct.positions_by_symbol.items()
            if s != symbol and p.contracts != 0 and acct.specs[s].settle == settle
        ]
        if others:  # its liquidation moves with the other marks: bands (triggers.py)
            return cross_band_levels(acct, symbol)
    lp = liquidation_price(acct, symbol)
    return [] if lp is None else [lp]


def quiet_levels(acct: AccountState, symbol: str) -> list[Decimal] | None:
    """Prices at which something can happen for ``symbol``; None when every price matters.

    A bar whose range holds none of these prices changes nothing but the last price, so a
    replay may skip it. A cross position sharing its wallet with another symbol gives the edges
    of its band instead of a liquidation price (``triggers.cross_band_levels``); None when no
    band can be drawn.
    """
    levels = _position_levels(acct, symbol)
    if levels is None:
        return None
    for o in acct.working_orders(symbol):
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
