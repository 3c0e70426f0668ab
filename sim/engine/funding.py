"""Funding payments on perpetuals: amount at the funding instant and the never-twice bookkeeping.

Sign convention (exchange-mechanics.md §A.6): the account receives ``−s × notional(mark) × rate``,
notional = contracts × contract size × mark (linear, quote) or contracts × contract size / mark
(inverse, coin). A positive rate makes longs pay. Only the position open at the instant pays,
and each (symbol, funding time) is paid at most once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from sim.engine import liquidation as liq
from sim.engine.events import FundingPaid
from sim.engine.money import ZERO
from sim.engine.spec import ContractSpec

if TYPE_CHECKING:
    from sim.engine.account import Account


def funding_amount(spec: ContractSpec, contracts: Decimal, mark: Decimal, rate: Decimal) -> Decimal:
    """What the account receives (negative: pays) for a signed position at one funding instant."""
    if contracts == 0:
        return ZERO
    side = 1 if contracts > 0 else -1
    return -side * spec.notional(contracts, mark) * rate


@dataclass(slots=True)
class FundingBook:
    """Announced rates waiting for their instant, and the last instant paid per symbol."""

    pending: dict[str, tuple[int, Decimal]] = field(default_factory=dict)  # symbol -> (t, rate)
    last_paid: dict[str, int] = field(default_factory=dict)

    def announce(self, symbol: str, funding_time_ms: int, rate: Decimal) -> bool:
        """Remember a rate; False when that instant was already paid (never double-counted)."""
        if funding_time_ms <= self.last_paid.get(symbol, -1):
            return False
        self.pending[symbol] = (funding_time_ms, rate)
        return True

    def due(self, ts_ms: int) -> list[tuple[str, int, Decimal]]:
        """Pending payments whose instant is at or before ``ts_ms``, in (time, symbol) order."""
        out = [(s, t, r) for s, (t, r) in self.pending.items() if t <= ts_ms]
        out.sort(key=lambda x: (x[1], x[0]))
        return out

    def mark_paid(self, symbol: str, funding_time_ms: int) -> None:
        self.pending.pop(symbol, None)
        self.last_paid[symbol] = funding_time_ms

    def to_dict(self) -> dict[str, object]:
        return {
            "pending": {s: [t, str(r)] for s, (t, r) in sorted(self.pending.items())},
            "last_paid": dict(sorted(self.last_paid.items())),
        }

    @classmethod
    def from_dict(cls, data: dict) -> FundingBook:
        return cls(
            pending={s: (int(t), Decimal(r)) for s, (t, r) in data["pending"].items()},
            last_paid={s: int(t) for s, t in data["last_paid"].items()},
        )


def pay_due(acct: Account) -> None:
    """Pay every announced funding whose instant has come, on the mark at that time.

    An isolated position pays from its own margin (exchange-mechanics.md §A.1); a payment
    larger than that margin empties it (the rest comes from the wallet, the amount is the
    venue's) and never leaves it negative. A payment that takes a position past its
    liquidation price liquidates it at once, at the funding instant's mark, closing at the
    bankruptcy price of what margin is left: never at a profit.
    """
    paid: list[str] = []
    for symbol, t, rate in acct.funding.due(acct.input_ts):
        acct.funding.mark_paid(symbol, t)
        pos = acct.positions_by_symbol.get(symbol)
        mark = acct.mark(symbol)
        if pos is None or pos.contracts == 0 or mark is None:
            continue
        spec = acct.specs[symbol]
        amount = funding_amount(spec, pos.contracts, mark, rate)
        wallet = acct.balances.get(spec.settle, ZERO) + amount
        acct.balances[spec.settle] = wallet
        pos.funding += amount
        if pos.margin_mode == "isolated":
            pos.isolated_margin = max(ZERO, pos.isolated_margin + amount)
        paid.append(symbol)
        acct.emit(
            FundingPaid,
            symbol,
            funding_time_ms=t,
            rate=rate,
            mark_price=mark,
            contracts=pos.contracts,
            contract_size=spec.contract_size,
            amount=amount,
            currency=spec.settle,
            wallet_after=wallet,
        )
    for symbol in paid:
        for s in liq.to_liquidate(acct, symbol):
            liq.liquidate(acct, s, "mark")
