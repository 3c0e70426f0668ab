"""Dated futures: settle at expiry, close the position, expire orders, reject later orders."""

from __future__ import annotations

from decimal import Decimal as D

from sim.engine.market import Settlement
from tests.sim.engine._account_fixtures import Driver, account, synthetic_spec

EXPIRY = 1648195200000  # BTCUSDT_220325: 2022-03-25 08:00 UTC (recorded exchangeInfo)
SYMBOL = "BTC/USDT:USDT-220325"


def _driver() -> Driver:
    spec = synthetic_spec(SYMBOL, kind="future", expiry_ms=EXPIRY, taker="0.0005", maker="0")
    d = Driver(account(spec))
    d.ts = EXPIRY - 100_000
    d.deposit("1000")
    d.last("40000", SYMBOL)
    d.order(SYMBOL, side="buy", order_type="market", contracts="0.01", leverage="10")
    d.order(SYMBOL, side="sell", order_type="limit", contracts="0.01", price="45000")
    return d


def test_settlement_input_closes_the_position_at_the_settlement_price() -> None:
    d = _driver()

    events = d(Settlement("binanceusdm", SYMBOL, EXPIRY, D("41000")))

    assert [e.kind for e in events] == ["OrderExpired", "PositionSettled", "TradeClosed"]
    settled = events[1]
    assert (settled.settle_price, settled.realized_pnl, settled.fee) == (
        D("41000"),
        D("10.00"),
        D("0.2050000"),
    )
    assert events[2].exit_reason == "settlement"
    # 1000 − open fee 0.2 + 10 − delivery fee 0.205
    assert d.account.wallets()["USDT"] == D("1009.595")


def test_without_a_settlement_price_the_last_mark_settles_at_expiry() -> None:
    d = _driver()
    d.mark("40500", SYMBOL)

    d.ts = EXPIRY
    events = d.last("39000", SYMBOL)

    settled = next(e for e in events if e.kind == "PositionSettled")
    assert settled.settle_price == D("40500")
    later = d.order(SYMBOL, side="buy", order_type="market", contracts="0.01")
    assert later[0].kind == "OrderRejected"
    assert "expired" in later[0].reason
