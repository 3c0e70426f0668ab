"""Liquidation on mark: the price every screen shows is the price this module acts on.

Isolated positions use their own margin; cross positions share the wallet balance minus the
isolated margins, with the other cross positions' maintenance margin and unrealized PnL at mark
(Binance TMM1/UPNL1). The venue's rules class gives the liquidation price, the close price and
fee; a cross liquidation closes every cross position in that wallet.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from sim.engine.events import PositionLiquidated
from sim.engine.margin import CrossTerms, pnl
from sim.engine.margin import liquidation_price as solve_liquidation
from sim.engine.money import ZERO
from sim.engine.venues.base import MarginContext
from sim.engine.venues.generic import equity_for

if TYPE_CHECKING:
    from sim.engine.account import Account


@dataclass(frozen=True, slots=True)
class Closeout:
    """How one position is closed by liquidation: price, gross PnL and fee."""

    close_price: Decimal
    realized_pnl: Decimal
    fee: Decimal


def cross_wallet(acct: Account, currency: str) -> Decimal:
    """Wallet balance left for cross positions: the wallet minus isolated margins in it."""
    iso = sum(
        (
            p.isolated_margin
            for s, p in acct.positions_by_symbol.items()
            if p.contracts != 0 and p.margin_mode == "isolated" and acct.specs[s].settle == currency
        ),
        ZERO,
    )
    return acct.balances.get(currency, ZERO) - iso


def cross_terms(acct: Account, currency: str) -> CrossTerms:
    """The cross wallet of ``currency`` and its positions' maintenance and uPnL at mark."""
    return acct.margin_cache.cross(acct, currency)


def context(acct: Account, symbol: str, cross: CrossTerms | None = None) -> MarginContext | None:
    """The formula inputs for ``symbol``'s position at the current marks; None when flat.

    ``cross``: the wallet's terms when the caller already has them (same numbers).
    """
    pos = acct.positions_by_symbol.get(symbol)
    mark = acct.mark(symbol)
    if pos is None or pos.contracts == 0 or mark is None:
        return None
    spec = acct.specs[symbol]
    slot = acct.margin_cache.slot(symbol, pos, spec, mark)
    if pos.margin_mode == "isolated":
        return MarginContext(
            "isolated", pos.isolated_margin, pos.leverage, slot.tier, spec.taker_fee
        )
    if cross is None:
        cross = cross_terms(acct, spec.settle)
    other_maint, other_upnl = acct.margin_cache.others(spec.settle, cross, symbol)
    return MarginContext(
        "cross", cross.wallet, pos.leverage, slot.tier, spec.taker_fee, other_maint, other_upnl
    )


def liquidation_price(
    acct: Account, symbol: str, cross: CrossTerms | None = None
) -> Decimal | None:
    """The mark price at which ``symbol``'s position is liquidated now (None: flat or never).

    Kept on the position's slot while its numbers, its margin (isolated) or the wallet's terms
    (cross), its leverage and the rules are the same objects: the mark path and the screens
    then share one computation.
    """
    pos = acct.positions_by_symbol.get(symbol)
    mark = acct.mark(symbol)
    if pos is None or pos.contracts == 0 or mark is None:
        return None
    spec = acct.specs[symbol]
    slot = acct.margin_cache.slot(symbol, pos, spec, mark)
    if pos.margin_mode == "cross" and cross is None:
        cross = cross_terms(acct, spec.settle)
    basis = cross if pos.margin_mode == "cross" else pos.isolated_margin
    if (
        slot.lp_fresh
        and slot.lp_basis is basis
        and slot.lp_leverage is pos.leverage
        and slot.lp_mode is pos.margin_mode
        and slot.lp_rules is acct.rules
    ):
        return slot.lp
    ctx = context(acct, symbol, cross)
    if ctx is None:
        return None
    lp, tier = solve_liquidation(acct.rules, pos.exposure(spec), ctx, spec.tiers)
    slot.lp, slot.lp_tier, slot.lp_fresh, slot.lp_basis = lp, tier, True, basis
    slot.lp_leverage, slot.lp_mode, slot.lp_rules = pos.leverage, pos.margin_mode, acct.rules
    return lp


def crossed(side: int, mark: Decimal, lp: Decimal | None) -> bool:
    """Long liquidates when mark ≤ LP, short when mark ≥ LP."""
    if lp is None:
        return False
    return mark <= lp if side > 0 else mark >= lp


def closeout(acct: Account, symbol: str, ctx: MarginContext) -> Closeout:
    """Close price, gross PnL and fee of liquidating ``symbol`` with the venue's rule.

    The loss (fee included) never exceeds the margin (isolated) or the cross wallet's equity;
    when the venue's numbers would take more, the fee is cut, then the loss is capped.
    """
    pos = acct.positions_by_symbol[symbol]
    spec = acct.specs[symbol]
    exp = pos.exposure(spec)
    mark = acct.mark(symbol) or exp.entry_price
    # Past bankruptcy already (the wallet cannot cover the others' losses): at the mark, so
    # a bankruptcy price from negative equity never books a profit.
    at = acct.rules.liquidation_close_price(exp, ctx, mark) if equity_for(ctx) >= 0 else mark
    price = spec.round_price(at)
    gross = pnl(exp, price)
    fee = max(ZERO, acct.rules.liquidation_fee(exp, ctx, price))
    # What this close may take: the isolated margin, or in cross the wallet plus the other
    # cross positions' uPnL (they close next, at their own bankruptcy prices), so the last
    # close leaves the cross wallet at zero, never a rounding below it (−0.00225 USDT).
    limit = max(ZERO, equity_for(ctx))
    if fee - gross > limit:
        fee = max(ZERO, limit + gross)
        if -gross > limit:
            # Rounding the close price to the tick can step past bankruptcy; cap the loss.
            gross = -limit
    return Closeout(price, gross, fee)


def to_liquidate(acct: Account, symbol: str) -> list[str]:
    """Symbols to close because ``symbol``'s mark crossed its liquidation price.

    Isolated: that position alone. Cross: every cross position sharing the wallet (the
    account-level margin ratio reached 100 %).
    """
    pos = acct.positions_by_symbol.get(symbol)
    mark = acct.mark(symbol)
    if pos is None or pos.contracts == 0 or mark is None:
        return []
    if not crossed(pos.side, mark, liquidation_price(acct, symbol)):
        return []
    if pos.margin_mode == "isolated":
        return [symbol]
    settle = acct.specs[symbol].settle
    # The position whose mark crossed goes first, at the price it showed; then the others.
    return [symbol] + [
        s
        for s, p in sorted(acct.positions_by_symbol.items())
        if s != symbol
        and p.contracts != 0
        and p.margin_mode == "cross"
        and acct.specs[s].settle == settle
    ]


def liquidate(acct: Account, symbol: str, source: str) -> None:
    """Close ``symbol``'s position by the venue rule; cancel its orders; emit the inputs."""
    pos = acct.position(symbol)
    spec = acct.specs[symbol]
    ctx = context(acct, symbol)
    lp = liquidation_price(acct, symbol)
    if ctx is None or pos.contracts == 0:
        return
    tier = acct.margin_cache.slots[symbol].lp_tier or ctx.tier
    for order in acct.working_orders(symbol):
        acct.cancel_order(order, "liquidation")
    out = closeout(acct, symbol, ctx)
    wallet = acct.balances.get(spec.settle, ZERO) + out.realized_pnl - out.fee
    acct.balances[spec.settle] = wallet
    side = pos.side
    acct.emit(
        PositionLiquidated,
        symbol,
        side="long" if side > 0 else "short",
        contracts=abs(pos.contracts),
        entry_price=pos.entry_price or ZERO,
        mark_price=acct.mark(symbol) or ZERO,
        liquidation_price=lp or ZERO,
        close_price=out.close_price,
        margin_mode=pos.margin_mode,
        leverage=pos.leverage,
        tier=tier.tier,
        mmr=tier.mmr,
        cum=tier.cum,
        wallet_before=ctx.wallet,
        loss=out.fee - out.realized_pnl,
        fee=out.fee,
        currency=spec.settle,
        rule=f"{acct.rules.name} · {pos.margin_mode}",
        realized_pnl=out.realized_pnl,
        trigger_source=source,
    )
    pos.exits.append((abs(pos.contracts), out.close_price))
    pos.realized += out.realized_pnl
    pos.fees += out.fee
    pos.contracts, pos.entry_price = ZERO, None
    acct.close_trade(pos, "liquidation")
