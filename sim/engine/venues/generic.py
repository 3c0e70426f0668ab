"""GenericRules: any ccxt venue without its own rules class (margin balance = maintenance margin).

The rule is the one every documented venue shares: a position is liquidated when the margin
balance (wallet + unrealized PnL) falls to the maintenance margin (notional at mark × MMR − cum),
and the whole margin is lost at the bankruptcy price (exchange-mechanics.md §A.2/§A.3
derivation). Results are marked approximate: the venue may add fees or buffers we do not know.
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from sim.engine.money import ZERO
from sim.engine.spec import ContractSpec
from sim.engine.venues.base import Exposure, MarginContext, perpetual_funding_times


def cross_buffer(ctx: MarginContext) -> Decimal:
    """Wallet left for this position: WB − TMM1 + UPNL1 (isolated: the position margin)."""
    if ctx.mode == "isolated":
        return ctx.wallet
    return ctx.wallet - ctx.other_maint + ctx.other_upnl


def equity_for(ctx: MarginContext) -> Decimal:
    """Wallet that can be lost before bankruptcy: WB (+ UPNL1 of other positions in cross)."""
    if ctx.mode == "isolated":
        return ctx.wallet
    return ctx.wallet + ctx.other_upnl


def positive_or_none(price: Decimal) -> Decimal | None:
    """A formula's price, or None when it is not positive (that price is never reached)."""
    return price if price > 0 else None


def bankruptcy_margin_lost(pos: Exposure, ctx: MarginContext) -> Decimal | None:
    """Price where wallet + PnL = 0, so the whole margin is used up.

    Linear: EP − s·W/N. Inverse: solves W + s·Q·(1/EP − 1/P) = 0 for P.
    """
    w = equity_for(ctx)
    if pos.linear:
        return positive_or_none(pos.entry_price - pos.side * w / pos.qty)
    denom = w + pos.side * pos.qty / pos.entry_price
    if pos.side < 0:
        # A short inverse loses at most Q/EP coin; with that much margin it never goes bust.
        return positive_or_none(pos.qty / -denom) if denom < 0 else None
    return pos.qty / denom


class GenericRules:
    """Closest documented rule for venues microfut has no formulas for (results approximate)."""

    name: ClassVar[str] = "generic (margin balance = maintenance margin)"
    approximate: ClassVar[bool] = True
    tier_at_liquidation: ClassVar[bool] = True
    trigger_sources: ClassVar[frozenset[str]] = frozenset({"last", "mark"})

    def liquidation_price(self, pos: Exposure, ctx: MarginContext) -> Decimal | None:
        """Solve margin balance(P) = maintenance margin(P), affine in P (linear) or 1/P (inverse).

        Linear: W' + s·N·(P − EP) = N·P·MMR − cum. Inverse with x = 1/P:
        W' + s·Q·(1/EP − x) = Q·x·MMR − cum. W' = WB − TMM1 + UPNL1 in cross.
        """
        w = cross_buffer(ctx)
        mmr, cum = ctx.tier.mmr, ctx.tier.cum
        if pos.linear:
            slope = pos.side * pos.qty - pos.qty * mmr
            offset = w - pos.side * pos.qty * pos.entry_price + cum
            if slope == 0:
                return None
            return positive_or_none(-offset / slope)
        if pos.side + mmr == 0:
            return None
        inv_price = (w + pos.side * pos.qty / pos.entry_price + cum) / (pos.qty * (pos.side + mmr))
        return positive_or_none(1 / inv_price) if inv_price > 0 else None

    def bankruptcy_price(self, pos: Exposure, ctx: MarginContext) -> Decimal | None:
        """Price at which the margin is used up (wallet + PnL = 0)."""
        return bankruptcy_margin_lost(pos, ctx)

    def funding_times(self, spec: ContractSpec, start_ms: int, end_ms: int) -> list[int]:
        """Every ``spec.funding_interval_h`` hours (8 h by default) from 00:00 UTC."""
        return perpetual_funding_times(spec, start_ms, end_ms)

    def liquidation_close_price(self, pos: Exposure, ctx: MarginContext, mark: Decimal) -> Decimal:
        """Close at the bankruptcy price: the margin is lost, never more (as Binance isolated)."""
        price = self.bankruptcy_price(pos, ctx)
        return mark if price is None else price

    def liquidation_fee(self, pos: Exposure, ctx: MarginContext, close_price: Decimal) -> Decimal:
        """No separate fee: what was left of the margin is already gone at the bankruptcy price."""
        return ZERO

    def isolated_margin(self, pos: Exposure, leverage: Decimal, taker_fee: Decimal) -> Decimal:
        """Initial margin only: notional at entry / leverage."""
        return pos.notional(pos.entry_price) / leverage
