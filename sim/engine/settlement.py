"""Dated-futures expiry: which contracts expired and what settling a position pays.

At expiry an open position closes at the settlement price (a ``Settlement`` input, or the last
mark seen before expiry when the venue's price never arrived) and pays a delivery fee, taken as
the taker fee of the spec (the venues publish delivery fees per product; the taker rate is the
cautious stand-in). Working orders expire and later orders are rejected.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sim.engine.events import OrderExpired, PositionSettled
from sim.engine.ledger import Ledger
from sim.engine.margin import pnl
from sim.engine.money import ZERO
from sim.engine.spec import ContractSpec
from sim.engine.venues.base import Exposure


@dataclass(frozen=True, slots=True)
class SettlementResult:
    price: Decimal
    realized_pnl: Decimal
    fee: Decimal


def due(dated: list[tuple[int, str]], expired: set[str], ts_ms: int) -> list[str]:
    """Dated contracts whose expiry is at or before ``ts_ms`` and that are not settled yet.

    ``dated`` is (expiry_ms, symbol) sorted by expiry (``Account.dated``), so perpetual-only
    accounts pay nothing per input.
    """
    out = []
    for expiry, symbol in dated:
        if expiry > ts_ms:
            break
        if symbol not in expired:
            out.append(symbol)
    return out


def settle(spec: ContractSpec, exp: Exposure, price: Decimal) -> SettlementResult:
    """Close ``exp`` at the settlement price: gross PnL and the delivery fee."""
    return SettlementResult(
        price, pnl(exp, price), spec.notional(exp.contracts, price) * spec.taker_fee
    )


def settle_due(ledger: Ledger) -> None:
    """Settle every dated contract whose expiry has passed, at its last mark."""
    acct = ledger.state
    for symbol in due(acct.dated, acct.expired, acct.input_ts):
        settle_symbol(ledger, symbol, acct.mark(symbol))


def settle_symbol(ledger: Ledger, symbol: str, price: Decimal | None) -> None:
    """Expire ``symbol``: its orders expire, its position closes at ``price``."""
    acct = ledger.state
    ledger.expire(symbol)
    for order in acct.working_orders(symbol):
        ledger.record(order, OrderExpired, reason="contract expired")
    acct.drop_finished()
    pos = acct.positions_by_symbol.get(symbol)
    if pos is None or pos.contracts == 0 or price is None:
        return
    spec = acct.specs[symbol]
    res = settle(spec, pos.exposure(spec), price)
    ledger.close_position(
        pos,
        price,
        res.realized_pnl,
        res.fee,
        "settlement",
        PositionSettled,
        contracts=pos.contracts,
        entry_price=pos.entry_price or ZERO,
        settle_price=price,
        realized_pnl=res.realized_pnl,
        fee=res.fee,
        currency=spec.settle,
    )
