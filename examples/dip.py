"""The README's strategy example: buy a dip bar, stop at its low, target 1 % above the close."""

from decimal import Decimal

from sim.strategy import Bar, Context, Strategy


class Dip(Strategy):
    drop_pct: Decimal = Decimal("2")  # a parameter: -p drop_pct=3

    def on_bar(self, ctx: Context, bar: Bar) -> None:
        dipped = bar.close < bar.open * (1 - self.drop_pct / 100)
        # a bar that closes at its low leaves no room for a stop below the entry: skip it
        if ctx.contracts() == 0 and dipped and bar.low < bar.close:
            size = ctx.size_by_risk(stop=bar.low)  # risk % of equity at the stop
            ctx.bracket(
                "buy", size.contracts, stop=bar.low, take_profit=bar.close * Decimal("1.01")
            )
