"""AccountState: working orders indexed by symbol, kept right through fills, cancels, restore."""

from __future__ import annotations

from decimal import Decimal as D

from sim.engine.account import Account
from sim.engine.commands import CancelOrder
from tests.sim.engine._account_fixtures import Driver, account, synthetic_spec

BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"


def _two_symbols() -> Driver:
    d = Driver(account(synthetic_spec(BTC), synthetic_spec(ETH, tick="0.01")))
    d.deposit("100000")
    d.last("60000", BTC)
    d.last("3000", ETH)
    d.order(BTC, side="buy", order_type="limit", contracts="0.01", price="59000")
    d.order(ETH, side="buy", order_type="limit", contracts="0.1", price="2900")
    d.order(BTC, side="sell", order_type="limit", contracts="0.01", price="61000")
    return d


def test_working_orders_of_one_symbol_come_from_its_index() -> None:
    d = _two_symbols()
    st = d.account.state
    assert [o.order_id for o in st.working_orders(BTC)] == ["o1", "o3"]
    assert [o.order_id for o in st.working_orders(ETH)] == ["o2"]
    assert [o.order_id for o in st.working_orders()] == ["o1", "o2", "o3"]
    assert set(st.by_symbol) == {BTC, ETH}


def test_filled_and_cancelled_orders_leave_the_index() -> None:
    d = _two_symbols()
    d.last("58999", BTC)  # trades through o1: filled as maker
    d(CancelOrder(ts_ms=d.tick(), order_id="o2"))
    st = d.account.state
    assert [o.order_id for o in st.working_orders(BTC)] == ["o3"]
    assert st.working_orders(ETH) == []
    assert {s: list(v) for s, v in st.by_symbol.items()} == {BTC: ["o3"], ETH: []}
    assert list(st.orders) == ["o3"]


def test_restore_rebuilds_the_index() -> None:
    d = _two_symbols()
    again = Account.restore(d.account.snapshot(), d.account.specs)
    assert {s: list(v) for s, v in again.state.by_symbol.items()} == {
        BTC: ["o1", "o3"],
        ETH: ["o2"],
    }
    assert again.snapshot() == d.account.snapshot()
    assert again.available("USDT") == d.account.available("USDT")
    assert again.available("USDT") < D(100000)
