"""BinanceRules: USDⓈ-M (linear) and COIN-M (inverse) liquidation with the maintenance amount.

Sources (exchange-mechanics.md): §A.2 Binance FAQ "How to Calculate Liquidation Price of USDⓈ-M
Futures Contracts" (one-way form, isolated and cross); §A.3 COIN-M FAQ (inverse PnL, derived
liquidation); §A.6 funding every 8 h at 00:00/08:00/16:00 UTC or the symbol's own interval.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import ClassVar

from sim.engine.spec import MarginTier
from sim.engine.venues.base import Exposure, MarginContext
from sim.engine.venues.generic import GenericRules, cross_buffer, positive_or_none


class BinanceRules(GenericRules):
    """Binance USDⓈ-M and COIN-M futures, one-way mode.

    Liquidation close (our choice, documented): Binance hands a liquidated position to its
    liquidation engine and whatever isolated margin remains goes to the insurance fund as the
    clearance fee, so the trader loses the position's whole isolated margin. We model that as a
    close at the bankruptcy price (wallet + PnL = 0) with no further fee, inherited from
    :class:`GenericRules`; the loss is exactly the margin, never more.
    """

    name: ClassVar[str] = "binance (FAQ liquidation price with maintenance amount)"
    approximate: ClassVar[bool] = False
    trigger_sources: ClassVar[frozenset[str]] = frozenset({"last", "mark"})

    def liquidation_price(self, pos: Exposure, ctx: MarginContext) -> Decimal | None:
        """Binance FAQ formula, one-way mode.

        USDⓈ-M (§A.2): LP = (WB − TMM1 + UPNL1 + cum − s·N·EP) / (N·MMR − s·N);
        isolated sets TMM1 = UPNL1 = 0. FAQ examples: isolated ETH 1,114.78, isolated BTC
        18,778.73, cross ETH 1,153.26, cross BTC 26,316.89.
        COIN-M (§A.3): LP = (N·CS·MMR + s·N·CS) / (WB + cum + s·N·CS/EP).
        """
        wb = cross_buffer(ctx)
        mmr, cum, s, n = ctx.tier.mmr, ctx.tier.cum, pos.side, pos.qty
        if pos.linear:
            denom = n * mmr - s * n
            if denom == 0:
                return None
            return positive_or_none((wb + cum - s * n * pos.entry_price) / denom)
        denom = wb + cum + s * n / pos.entry_price
        numer = n * mmr + s * n
        if denom == 0 or (numer > 0) != (denom > 0):
            return None
        return numer / denom

    def prices_by_tier(
        self, pos: Exposure, ctx: MarginContext, tiers: tuple[MarginTier, ...]
    ) -> Iterator[tuple[MarginTier, Decimal | None]]:
        """``liquidation_price`` with each bracket in turn, for ``margin.liquidation_price``'s
        bracket search: the same operations in the same order, the terms that do not depend
        on the bracket (buffer, s·N, s·N·EP or s·N/EP) computed once instead of per bracket."""
        wb = cross_buffer(ctx)
        n = pos.qty
        sn = pos.side * n
        if pos.linear:
            sn_ep = sn * pos.entry_price
            for t in tiers:
                denom = n * t.mmr - sn
                yield t, None if denom == 0 else positive_or_none((wb + t.cum - sn_ep) / denom)
            return
        sn_ep = sn / pos.entry_price
        for t in tiers:
            denom = wb + t.cum + sn_ep
            numer = n * t.mmr + sn
            yield t, None if denom == 0 or (numer > 0) != (denom > 0) else numer / denom
