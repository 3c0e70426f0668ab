"""The strategy API: subclass :class:`Strategy`, override the hooks you need, declare parameters.

A strategy is plain Python run by ``microfut run``. It sees the market through hooks and acts
through its :class:`~sim.strategy.context.Context` (``ctx``), which offers the account views and
the desk's order actions. Every order goes through the discipline guards and the same account
engine as manual trades, and lands in the journal with the strategy's name (``source``) and its
parameters (the session's params)::

    from decimal import Decimal
    from sim.strategy import Bar, Context, Strategy

    class Dip(Strategy):
        drop_pct: Decimal = Decimal("2")     # --param drop_pct=3

        def on_bar(self, ctx: Context, bar: Bar) -> None:
            if ctx.contracts() == 0 and bar.close < bar.open * (1 - self.drop_pct / 100):
                stop = bar.low
                size = ctx.size_by_risk(stop)
                ctx.bracket("buy", size.contracts, stop=stop)

Hooks run in time order. Orders a hook places are sent right after the hook returns (never in
the middle of another event's delivery), stamped with the time of the input that caused them.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from sim.engine.events import (
    Event,
    FundingPaid,
    OrderFilled,
    PositionLiquidated,
    TradeClosed,
)
from sim.strategy import params as P
from sim.strategy.values import Bar, Ticket

if TYPE_CHECKING:
    from sim.strategy.context import Context


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class Strategy:
    """Base class of a trading strategy; every hook is optional.

    Parameters are the annotated class attributes (``lookback: int = 20``); ``symbol`` and
    ``timeframe`` are shared by every strategy. ``timeframe`` "" means the finest recorded one.
    """

    name: ClassVar[str] = ""
    symbol: str = "BTC/USDT:USDT"
    timeframe: str = ""

    def __init__(self, **overrides: Any) -> None:
        self.params: dict[str, Any] = P.resolve(type(self), overrides)
        for key, value in self.params.items():
            setattr(self, key, value)

    @classmethod
    def strategy_name(cls) -> str:
        """The name journaled as the order source: ``name`` or the class name in snake case."""
        return cls.name or _snake(cls.__name__)

    @classmethod
    def param_specs(cls) -> dict[str, P.ParamSpec]:
        return P.declared(cls)

    def markets(self) -> list[str]:
        """Symbols this strategy needs prices for (loaded from the data or subscribed live)."""
        return [self.symbol]

    # ---- hooks (override what you need) ---------------------------------------------------
    def on_start(self, ctx: Context) -> None:
        """Called once before the first price, after the opening deposit."""

    def on_bar(self, ctx: Context, bar: Bar) -> None:
        """Called when a candle of one of :meth:`markets` closes."""

    def on_price(self, ctx: Context, symbol: str, price: Decimal, ts_ms: int) -> None:
        """Called on every last-price update (each intra-bar path point on replay)."""

    def on_fill(self, ctx: Context, fill: OrderFilled) -> None:
        """Called for each fill of an order (yours, a stop, a take-profit or a liquidation)."""

    def on_trade_closed(self, ctx: Context, trade: TradeClosed) -> None:
        """Called when a position went back to flat (the journal's trade row)."""

    def on_funding(self, ctx: Context, payment: FundingPaid) -> None:
        """Called when funding was paid or received on a position."""

    def on_liquidation(self, ctx: Context, event: PositionLiquidated) -> None:
        """Called when the venue's rule liquidated a position."""

    def on_denied(self, ctx: Context, event: Event) -> None:
        """Called when an order was refused: a guard denial (OrderDenied) or an exchange
        rejection (OrderRejected / CommandRejected); ``event.reason`` says why."""

    def on_event(self, ctx: Context, event: Event) -> None:
        """Called for every event (after the specific hook), guard locks and warnings included."""

    def on_stop(self, ctx: Context) -> None:
        """Called once at the end of the data (or when a live run is interrupted)."""


HOOKS: dict[str, str] = {
    "OrderFilled": "on_fill",
    "TradeClosed": "on_trade_closed",
    "FundingPaid": "on_funding",
    "PositionLiquidated": "on_liquidation",
    "OrderDenied": "on_denied",
    "OrderRejected": "on_denied",
    "CommandRejected": "on_denied",
}


def overrides(strategy: Strategy, hook: str) -> bool:
    """True when the strategy's class replaces the base class's ``hook``."""
    return getattr(type(strategy), hook) is not getattr(Strategy, hook)


__all__ = ["HOOKS", "Bar", "Strategy", "Ticket", "overrides"]
