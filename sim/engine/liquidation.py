"""Liquidation on mark: the price every screen shows is the price this module acts on.

Isolated positions use their own margin; cross positions share the wallet balance minus the
isolated margins, with the other cross positions' maintenance margin and unrealized PnL at mark
(Binance TMM1/UPNL1). The venue's rules class gives the close price and fee; a cross liquidation
closes every cross position in that wallet. Decides here, books through the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sim.engine.events import PositionLiquidated
from sim.engine.ledger import Ledger
from sim.engine.margin import pnl
from sim.engine.money import ZERO
from sim.engine.risk import context, crossed, liquidation_price
from sim.engine.state import AccountState
from sim.engine.venues.base import MarginContext
from sim.engine.venues.generic import equity_for


@dataclass(frozen=True, slots=True)
class Closeout:
    """How one position is closed by liquidation: price, gross PnL and fee."""

    close_price: Decimal
    realized_pnl: Decimal
    fee: Decimal


def closeout(acct: AccountState, symbol: str, ctx: MarginContext) -> Closeout:
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


def to_liquidate(acct: AccountState, symbol: str) -> list[str]:
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


def liquidate(ledger: Ledger, symbol: str, source: str) -> None:
    """Close ``symbol``'s position by the venue rule; cancel its orders; emit the inputs."""
    acct = ledger.state
    pos = acct.position(symbol)
    spec = acct.specs[symbol]
    ctx = context(acct, symbol)
    lp = liquidation_price(acct, symbol)
    if ctx is None or pos.contracts == 0:
        return
    tier = acct.margin_cache.slots[symbol].lp_tier or ctx.tier
    for order in acct.working_orders(symbol):
        ledger.cancel_order(order, "liquidation")
    out = closeout(acct, symbol, ctx)
    ledger.close_position(
        pos,
        out.close_price,
        out.realized_pnl,
        out.fee,
        "liquidation",
        PositionLiquidated,
        side="long" if pos.side > 0 else "short",
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
