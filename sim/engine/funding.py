"""Funding payments on perpetuals: amount at the funding instant and the never-twice bookkeeping.

Sign convention (exchange-mechanics.md §A.6): the account receives ``−s × notional(mark) × rate``,
notional = contracts × contract size × mark (linear, quote) or contracts × contract size / mark
(inverse, coin). A positive rate makes longs pay. Only the position open at the instant pays,
and each (symbol, funding time) is paid at most once.
"""

from __future__ import annotations

from decimal import Decimal

from sim.engine import liquidation as liq
from sim.engine.events import FundingPaid
from sim.engine.ledger import Ledger
from sim.engine.money import ZERO
from sim.engine.spec import ContractSpec
from sim.engine.state import FundingBook

__all__ = ["FundingBook", "funding_amount", "pay_due"]  # FundingBook lives in state.py


def funding_amount(spec: ContractSpec, contracts: Decimal, mark: Decimal, rate: Decimal) -> Decimal:
    """What the account receives (negative: pays) for a signed position at one funding instant."""
    if contracts == 0:
        return ZERO
    side = 1 if contracts > 0 else -1
    return -side * spec.notional(contracts, mark) * rate


def pay_due(ledger: Ledger) -> None:
    """Pay every announced funding whose instant has come, on the mark at that time.

    An isolated position pays from its own margin (exchange-mechanics.md §A.1); a payment
    larger than that margin empties it (the rest comes from the wallet, the amount is the
    venue's) and never leaves it negative. A payment that takes a position past its
    liquidation price liquidates it at once, at the funding instant's mark, closing at the
    bankruptcy price of what margin is left: never at a profit.
    """
    acct = ledger.state
    paid: list[str] = []
    for symbol, t, rate in acct.funding.due(acct.input_ts):
        ledger.funding_settled(symbol, t)
        pos = acct.positions_by_symbol.get(symbol)
        mark = acct.mark(symbol)
        if pos is None or pos.contracts == 0 or mark is None:
            continue
        spec = acct.specs[symbol]
        amount = funding_amount(spec, pos.contracts, mark, rate)
        wallet = ledger.pay_funding(pos, spec.settle, amount)
        paid.append(symbol)
        ledger.emit(
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
            liq.liquidate(ledger, s, "mark")
