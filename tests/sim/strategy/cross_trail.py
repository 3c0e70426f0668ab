"""A test strategy for the skip equivalence: cross positions on both symbols (their liquidation
levels are bands), trailing stops, resting limits and take-profits, re-entered when flat."""

from __future__ import annotations

from decimal import Decimal

from sim.strategy import Bar, Context, Strategy


class CrossTrail(Strategy):
    name = "cross_trail"
    symbol: str = "BTC/USDT:USDT"
    leverage: int = 20
    callback_pct: Decimal = Decimal("0.4")

    def markets(self) -> list[str]:
        return [self.symbol, "ETH/USDT:USDT"]

    def on_start(self, ctx: Context) -> None:
        self.n = 0
        for sym in self.markets():
            ctx.set_leverage(Decimal(self.leverage), "cross", sym)

    def on_bar(self, ctx: Context, bar: Bar) -> None:
        self.n += 1
        sym = bar.symbol
        if ctx.contracts(sym) != 0:
            return
        ctx.cancel_all(sym)  # what the last trade left working
        spec = ctx.spec(sym)
        size = spec.round_contracts(ctx.equity() / bar.close)
        side, exit_side = ("buy", "sell") if self.n % 2 else ("sell", "buy")
        sign = 1 if side == "buy" else -1
        ctx.market(side, size, sym, take_profit=bar.close * (1 + sign * Decimal("0.006")))
        ctx.trailing_stop(exit_side, size, self.callback_pct, sym)
        ctx.limit(side, size, bar.close * (1 - sign * Decimal("0.004")), sym)
