"""Channel breakout that risks a fixed percent of equity per trade, with a stop and a target.

When a bar closes above the highest high of the ``lookback`` bars before it, buy; below their
lowest low, sell. The stop goes at the other side of that channel, the size is what loses
``risk_pct`` % of equity at the stop (fees in and out included, ``sizing.size_by_risk``), and the
take-profit sits ``reward`` times the stop distance away (0 = none). One position at a time.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from sim.strategy import Bar, Context, Range, Strategy


class Breakout(Strategy):
    name = "breakout"
    lookback: Annotated[int, Range(2, 1000)] = 20
    risk_pct: Annotated[Decimal, Range(Decimal("0.01"), 10)] = Decimal(1)
    reward: Annotated[Decimal, Range(0, 50)] = Decimal(2)
    leverage: Annotated[int, Range(1, 125)] = 10
    direction: str = "both"  # both | long | short

    def on_start(self, ctx: Context) -> None:
        if self.direction not in ("both", "long", "short"):
            raise ValueError(f"direction must be both, long or short, was {self.direction!r}")
        ctx.set_leverage(Decimal(self.leverage), "isolated")

    def channel(self, ctx: Context) -> tuple[Decimal, Decimal] | None:
        """Highest high and lowest low of the ``lookback`` bars before the last one."""
        bars = ctx.ohlc(n=self.lookback + 1)  # numpy views: runs on every flat bar
        if len(bars) <= self.lookback:
            return None
        return Decimal(str(bars.high[:-1].max())), Decimal(str(bars.low[:-1].min()))

    def on_bar(self, ctx: Context, bar: Bar) -> None:
        if bar.symbol != ctx.primary or ctx.contracts() != 0 or ctx.orders():
            return
        levels = self.channel(ctx)
        if levels is None:
            return
        high, low = levels
        if bar.close > high and self.direction != "short":
            side, stop = "buy", low
        elif bar.close < low and self.direction != "long":
            side, stop = "sell", high
        else:
            return
        size = ctx.size_by_risk(
            stop, self.risk_pct, entry=bar.close, leverage=Decimal(self.leverage)
        )
        if size.contracts == 0:
            ctx.log(f"{bar.symbol} breakout at {bar.close} skipped: {size.reason}")
            return
        target = None
        if self.reward > 0:
            target = bar.close + (bar.close - stop) * self.reward
        ctx.bracket(side, size.contracts, stop=stop, take_profit=target)  # type: ignore[arg-type]
