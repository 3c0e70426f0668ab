"""Keep a spot altcoin bag hedged with short micro contracts, rebalancing when it drifts.

The bag (``bag_qty`` coins, priced from the ``bag`` symbol's candles as a stand-in for spot) is
held outside the futures account. Its beta-weighted dollar exposure is shorted with ``symbol``
contracts sized by ``hedge.beta_hedge`` (rounded to the venue step, so a small bag keeps an honest
unhedged residual). When the residual (exposure − hedged notional) drifts beyond
``threshold_pct`` % of the exposure, the hedge is resized to the new target.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from sim.strategy import Bar, Context, Range, Strategy


class HedgedBag(Strategy):
    name = "hedged_bag"
    symbol: str = "BTC/USDT:USDT"
    bag: str = "ETH/USDT:USDT"
    bag_qty: Annotated[Decimal, Range(0, None)] = Decimal(2)
    beta: Annotated[Decimal, Range(Decimal("0.01"), 10)] = Decimal("1.2")
    threshold_pct: Annotated[Decimal, Range(0, 100)] = Decimal(10)
    leverage: Annotated[int, Range(1, 125)] = 10

    def markets(self) -> list[str]:
        return [self.symbol, self.bag]

    def on_start(self, ctx: Context) -> None:
        self.symbol, self.bag = ctx.symbol(self.symbol), ctx.symbol(self.bag)  # 'ETH' → unified
        ctx.set_leverage(Decimal(self.leverage), "isolated", self.symbol)
        self.first_value: Decimal | None = None
        self.last_value: Decimal | None = None
        self.rebalances = 0
        self.start_equity = ctx.equity()

    def on_bar(self, ctx: Context, bar: Bar) -> None:
        hedge_bar = ctx.last_bar(self.symbol)
        if bar.symbol != self.bag or hedge_bar is None or hedge_bar.ts_ms != bar.ts_ms:
            return  # act once both closes of the same instant are known
        value = self.bag_qty * bar.close
        self.first_value = self.first_value or value
        self.last_value = value
        spec = ctx.spec(self.symbol)
        short = -ctx.contracts(self.symbol)
        exposure = value * self.beta
        hedged = (
            spec.notional(short, hedge_bar.close) if spec.linear else short * spec.contract_size
        )
        if abs(exposure - hedged) <= exposure * self.threshold_pct / 100:
            return
        target = ctx.hedge(value, self.beta, symbol=self.symbol, leverage=Decimal(self.leverage))
        change = target.contracts - short
        if change > 0:
            ctx.sell(change, self.symbol, tag="hedge")
        elif change < 0:
            ctx.buy(-change, self.symbol, reduce_only=True, tag="hedge")
        if change != 0:
            self.rebalances += 1

    def on_stop(self, ctx: Context) -> None:
        if self.first_value is None or self.last_value is None:
            return
        bag_pnl = self.last_value - self.first_value
        hedge_pnl = ctx.equity() - self.start_equity
        ctx.log(
            f"bag {self.bag_qty} x {self.bag}: {bag_pnl:+.2f}; hedge account: {hedge_pnl:+.2f}; "
            f"together: {bag_pnl + hedge_pnl:+.2f} after {self.rebalances} hedge changes"
        )
