"""BybitRules: linear (USDT) and inverse (coin) perpetuals, IM − MM form and bankruptcy close.

Sources (exchange-mechanics.md §A.4/§A.5): Bybit "Liquidation Price (USDT Contract)"
(LP = EP ∓ (IM − MM)/Size, MM = Size·EP·MMR − deduction), "Bankruptcy Price (USDT Contract)"
(EP·(1 ∓ 1/lev); closing fee = qty × bankruptcy price × taker; order cost = IM + open fee +
close fee), UTA isolated inverse (LP = Qty / [PV ± (IM − MM)]) and the legacy inverse bankruptcy
price with the close fee folded in (1.00075 × 10,000 / (10,000/8,000 + 0.5) = 5,718.57).
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from sim.engine.money import ZERO
from sim.engine.venues.base import Exposure, MarginContext
from sim.engine.venues.generic import GenericRules, cross_buffer, equity_for, positive_or_none


class BybitRules(GenericRules):
    """Bybit v5 perpetuals, isolated (and cross approximated per position).

    ``ctx.wallet`` is the position margin as Bybit locks it: IM plus the fee to close at the
    bankruptcy price (:meth:`isolated_margin`). The bankruptcy price is where that wallet pays
    both the price loss and the taker fee of the close, so a liquidation closes there and costs
    exactly the margin. With ``ctx.taker_fee`` = 0 and wallet = IM the formulas reduce to the
    help-centre examples (19,700; 9,800; 45,662.10).
    Cross/UTA has no per-position price (liquidation at account MMR = 100 %); we solve the same
    IM − MM form with WB − TMM1 + UPNL1, which is that account rule for one moving price.
    """

    name: ClassVar[str] = "bybit (IM − MM form, close at bankruptcy price + taker fee)"
    approximate: ClassVar[bool] = False
    tier_at_liquidation: ClassVar[bool] = False
    trigger_sources: ClassVar[frozenset[str]] = frozenset({"last", "mark", "index"})

    def bankruptcy_price(self, pos: Exposure, ctx: MarginContext) -> Decimal | None:
        """Price where wallet = price loss + taker fee on the close at that price.

        Linear: W + s·N·(P − EP) − t·N·P = 0 → P = (s·N·EP − W) / (N·(s − t)).
        Inverse: W + s·Q·(1/EP − 1/P) − t·Q/P = 0 → P = Q·(s + t) / (W + s·Q/EP).
        Example: 1 BTC long at 10,000, 50x, wallet = IM 200 and t = 0 → 9,800.
        """
        w, t, s, n = equity_for(ctx), ctx.taker_fee, pos.side, pos.qty
        if pos.linear:
            return positive_or_none((s * n * pos.entry_price - w) / (n * (s - t)))
        denom = w + s * n / pos.entry_price
        numer = n * (s + t)
        if denom == 0 or (numer > 0) != (denom > 0):
            return None
        return numer / denom

    def liquidation_price(self, pos: Exposure, ctx: MarginContext) -> Decimal | None:
        """IM − MM form with MM at the entry position value.

        Linear: LP = EP − s·(W − fee to close − MM)/Size (1 BTC @20,000, 50x, MMR 0.5 % → 19,700).
        Inverse: LP = Qty / [PV + s·(W − fee to close − MM)], PV = Qty/EP
        (60,000 USD @50,000, 10x, MMR 0.5 % → 45,662.10 long, 55,248.62 short).
        The fee to close is the part of the wallet reserved for the close at bankruptcy price.
        """
        entry_value = pos.notional(pos.entry_price)
        maint = entry_value * ctx.tier.mmr - ctx.tier.cum
        free = cross_buffer(ctx) - self._close_fee_reserve(pos, ctx) - maint
        if pos.linear:
            return positive_or_none(pos.entry_price - pos.side * free / pos.qty)
        denom = entry_value + pos.side * free
        return pos.qty / denom if denom > 0 else None

    def liquidation_close_price(self, pos: Exposure, ctx: MarginContext, mark: Decimal) -> Decimal:
        """Bybit closes a liquidated position at its bankruptcy price (fee included in it)."""
        price = self.bankruptcy_price(pos, ctx)
        return mark if price is None else price

    def liquidation_fee(self, pos: Exposure, ctx: MarginContext, close_price: Decimal) -> Decimal:
        """Taker fee on the close: qty × bankruptcy price × taker (1 × 9,800 × 0.075 % = 7.35)."""
        return pos.notional(close_price) * ctx.taker_fee

    def isolated_margin(self, pos: Exposure, leverage: Decimal, taker_fee: Decimal) -> Decimal:
        """IM plus the fee to close at the bankruptcy price EP·(1 ∓ 1/lev) (200 + 7.35 = 207.35)."""
        initial = pos.notional(pos.entry_price) / leverage
        if pos.linear:
            bankrupt_value = pos.qty * pos.entry_price * (1 - pos.side / leverage)
        else:
            bankrupt_value = pos.notional(pos.entry_price) + pos.side * initial
        return initial + bankrupt_value * taker_fee

    def order_cost(self, pos: Exposure, leverage: Decimal, taker_fee: Decimal) -> Decimal:
        """IM + open fee + close fee, what Bybit checks against the balance (example 214.85)."""
        open_fee = pos.notional(pos.entry_price) * taker_fee
        return self.isolated_margin(pos, leverage, taker_fee) + open_fee

    def _close_fee_reserve(self, pos: Exposure, ctx: MarginContext) -> Decimal:
        """Taker fee of a close at the bankruptcy price; zero when there is none."""
        price = self.bankruptcy_price(pos, ctx)
        return ZERO if price is None else pos.notional(price) * ctx.taker_fee
