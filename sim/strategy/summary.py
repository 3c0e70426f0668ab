"""The result summary of a strategy run, built from the events as they are published.

Definitions (money in the primary symbol's settle currency, exact Decimal):
    net P&L          closed trades: realized (gross) − fees + funding
    fees / funding   every fee paid (fills, liquidations, settlements) / every funding payment
                     (signed, + = received), open positions included
    equity change    equity at the end (wallet + unrealized at mark) − the opening balance
    max drawdown     largest fall of equity from its running peak, equity marked at each trade
                     close (opening balance + cumulative net of closed trades; the peak starts
                     at the opening balance): the one definition of ``sim/review/drawdown.py``,
                     so `run`, `sweep` and `journal report` agree
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sim.engine.account import Account
from sim.engine.events import Event, TradeClosed
from sim.review.drawdown import equity_curve, max_drawdown

ZERO = Decimal(0)
HUNDRED = Decimal(100)
FEE_EVENTS = frozenset({"OrderFilled", "PositionLiquidated", "PositionSettled"})
REJECTIONS = frozenset({"OrderRejected", "CommandRejected"})


@dataclass(frozen=True, slots=True)
class RunSummary:
    currency: str
    trades: int
    wins: int
    losses: int
    win_rate: Decimal | None
    gross_pnl: Decimal
    net_pnl: Decimal
    fees: Decimal
    funding: Decimal
    liquidations: int
    denials: int
    rejections: int
    starting_balance: Decimal
    ending_equity: Decimal
    equity_change: Decimal
    return_pct: Decimal
    max_drawdown: Decimal
    max_drawdown_pct: Decimal | None
    profit_factor: Decimal | None
    open_positions: int


METRICS: dict[str, bool] = {  # name -> higher is better
    "net_pnl": True,
    "equity_change": True,
    "return_pct": True,
    "win_rate": True,
    "profit_factor": True,
    "trades": True,
    "max_drawdown": False,
    "fees": False,
    "funding": True,
}


@dataclass
class Collector:
    """Bus subscriber that keeps what the summary needs (and the events, for the caller)."""

    currency: str
    balance: Decimal
    events: list[Event] = field(default_factory=list)
    fees: Decimal = ZERO
    funding: Decimal = ZERO

    def __call__(self, events: Sequence[Event]) -> None:
        self.events.extend(events)
        for e in events:
            if getattr(e, "currency", self.currency) != self.currency:
                continue
            if e.kind in FEE_EVENTS:
                self.fees += e.fee  # type: ignore[attr-defined]
            elif e.kind == "FundingPaid":
                self.funding += e.amount  # type: ignore[attr-defined]

    def summary(self, account: Account) -> RunSummary:
        trades = [e for e in self.events if isinstance(e, TradeClosed)]
        nets = [t.realized_pnl - t.fees + t.funding for t in trades]
        wins = [n for n in nets if n > 0]
        losses = [n for n in nets if n < 0]
        equity = account.equity(self.currency)
        drawdown, drawdown_pct = max_drawdown(self.balance, equity_curve(self.balance, nets))
        return RunSummary(
            currency=self.currency,
            trades=len(trades),
            wins=len(wins),
            losses=len(losses),
            win_rate=Decimal(len(wins)) / len(trades) if trades else None,
            gross_pnl=sum((t.realized_pnl for t in trades), ZERO),
            net_pnl=sum(nets, ZERO),
            fees=self.fees,
            funding=self.funding,
            liquidations=sum(1 for e in self.events if e.kind == "PositionLiquidated"),
            denials=sum(1 for e in self.events if e.kind == "OrderDenied"),
            rejections=sum(1 for e in self.events if e.kind in REJECTIONS),
            starting_balance=self.balance,
            ending_equity=equity,
            equity_change=equity - self.balance,
            return_pct=(equity - self.balance) / self.balance * HUNDRED if self.balance else ZERO,
            max_drawdown=drawdown,
            max_drawdown_pct=drawdown_pct,
            profit_factor=sum(wins, ZERO) / -sum(losses, ZERO) if losses else None,
            open_positions=len(account.positions()),
        )
