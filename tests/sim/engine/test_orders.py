"""Order types through the account: brackets (OCO), trailing stops, reduce-only, amend, TIF."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from sim.engine.commands import AmendOrder, CancelOrder
from sim.engine.events import OrderAccepted, OrderCancelled, OrderFilled
from sim.engine.orders import Order
from sim.errors import InvalidTransition
from tests.sim.engine._account_fixtures import Driver, account, synthetic_spec


def _driver(**spec_kw: str) -> Driver:
    d = Driver(account(synthetic_spec(maker="0", taker="0", **spec_kw)))
    d.deposit("10000")
    d.last("100")
    return d


def test_bracket_activates_on_fill_and_take_profit_cancels_the_stop() -> None:
    d = _driver()
    d.order(
        side="buy",
        order_type="limit",
        contracts="1",
        price="99",
        leverage="10",
        stop_loss="95",
        take_profit="110",
    )
    assert [e.order_id for e in d.of("OrderAccepted")] == ["o1"]

    d.last("98.9")  # trades through the limit: entry fills, bracket goes live
    children = [e for e in d.of("OrderAccepted") if e.parent_id == "o1"]
    d.last("105")
    d.last("110.5")

    assert [(c.order_type, c.trigger_price, c.reduce_only) for c in children] == [
        ("stop_market", D("95"), True),
        ("take_profit_market", D("110"), True),
    ]
    fills = d.of("OrderFilled")
    assert [(f.order_id, f.price, f.liquidity) for f in fills] == [
        ("o1", D("99"), "maker"),
        ("o3", D("110"), "taker"),
    ]
    cancelled = d.of("OrderCancelled")
    assert [(c.order_id, c.reason) for c in cancelled] == [("o2", "oco")]
    trade = d.of("TradeClosed")[0]
    assert (trade.exit_reason, trade.realized_pnl, trade.stop_at_entry) == (
        "take_profit",
        D("11"),
        D("95"),
    )
    assert trade.risk_at_entry == D("4")


def test_stop_fills_at_the_trigger_when_the_market_moves_through_it() -> None:
    d = _driver()
    d.order(side="buy", order_type="market", contracts="1", leverage="10", stop_loss="95")

    d.last("96")
    d.last("94")

    fill = d.of("OrderFilled")[-1]
    assert (fill.price, fill.reason) == (D("95"), "stop")
    assert d.of("TradeClosed")[0].exit_reason == "stop"


def test_stop_after_a_gap_fills_at_the_first_price_beyond_it() -> None:
    d = _driver()
    d.order(side="buy", order_type="market", contracts="1", leverage="10")
    d.order(
        side="sell", order_type="stop_market", contracts="1", trigger_price="95", reduce_only=True
    )
    d.last("94")  # previous print 100 → 94 counts as passing 95 continuously

    assert d.of("OrderFilled")[-1].price == D("95")


def test_trailing_stop_follows_the_high_and_triggers_on_the_callback() -> None:
    d = _driver()
    d.order(side="buy", order_type="market", contracts="1", leverage="10")
    d.order(
        side="sell",
        order_type="trailing_stop_market",
        contracts="1",
        callback_pct="1",
        reduce_only=True,
    )

    for price in ("105", "110", "109", "108.95"):
        assert "OrderFilled" not in d.kinds(d.last(price))
    events = d.last("108.8")

    trig = next(e for e in events if e.kind == "OrderTriggered")
    assert trig.trigger_price == D("108.9")  # 110 × (1 − 1 %)
    fill = next(e for e in events if e.kind == "OrderFilled")
    assert (fill.price, fill.reason) == (D("108.9"), "trailing")


def test_trailing_stop_waits_for_its_activation_price() -> None:
    d = _driver()
    d.order(side="buy", order_type="market", contracts="1", leverage="10")
    d.order(
        side="sell",
        order_type="trailing_stop_market",
        contracts="1",
        callback_pct="2",
        trigger_price="104",
        reduce_only=True,
    )

    d.last("103")
    d.last("97")  # not active yet: no trigger although 103 → 97 is more than 2 %
    assert "OrderTriggered" not in d.kinds()
    d.last("105")
    d.last("102.8")

    assert d.of("OrderTriggered")[0].trigger_price == D("102.9")


def test_close_position_stop_sizes_itself_to_the_position() -> None:
    d = _driver()
    d.order(side="buy", order_type="market", contracts="0.7", leverage="10")
    d.order(side="sell", order_type="stop_market", trigger_price="95", close_position=True)

    d.last("94")

    assert d.of("OrderAmended")[0].contracts == D("0.7")
    assert d.of("OrderFilled")[-1].contracts == D("0.7")
    assert d.account.positions() == []


def test_reduce_only_shrinks_to_the_position_and_never_flips() -> None:
    d = _driver()
    d.order(side="buy", order_type="market", contracts="0.5", leverage="10")

    d.order(side="sell", order_type="market", contracts="2", reduce_only=True)

    assert d.of("OrderFilled")[-1].contracts == D("0.5")
    assert d.account.positions() == []


def test_cancel_and_amend_a_resting_limit() -> None:
    d = _driver()
    d.order(side="buy", order_type="limit", contracts="1", price="95")
    d(AmendOrder(ts_ms=d.tick(), order_id="o1", price=D("96"), contracts=D("2")))
    d.last("95.9")
    assert d.of("OrderFilled")[0].price == D("96")
    assert d.of("OrderFilled")[0].contracts == D("2")

    d.order(side="buy", order_type="limit", contracts="1", price="90")
    d(CancelOrder(ts_ms=d.tick(), order_id="o2"))
    again = d(CancelOrder(ts_ms=d.tick(), order_id="o2"))

    assert d.of("OrderCancelled")[-1].reason == "user"
    assert again[0].kind == "CommandRejected"
    assert "not working" in again[0].reason
    assert d.account.open_orders() == []


def test_amending_a_limit_through_the_market_fills_it() -> None:
    d = _driver()
    d.order(side="buy", order_type="limit", contracts="1", price="95")

    events = d(AmendOrder(ts_ms=d.tick(), order_id="o1", price=D("101")))

    assert "OrderFilled" in d.kinds(events)


def test_marketable_limit_takes_at_the_market_not_at_its_limit() -> None:
    d = _driver()

    d.order(side="buy", order_type="limit", contracts="1", price="105")

    fill = d.of("OrderFilled")[0]
    assert (fill.price, fill.liquidity) == (D("100"), "taker")


def test_post_only_that_would_take_is_rejected() -> None:
    d = _driver()

    events = d.order(
        side="buy", order_type="limit", contracts="1", price="101", time_in_force="post_only"
    )

    assert events[0].kind == "OrderRejected"
    assert "post-only buy at 101 would take liquidity at 100" in events[0].reason


def test_ioc_and_fok_never_rest() -> None:
    d = _driver()

    d.order(side="buy", order_type="limit", contracts="1", price="99", time_in_force="IOC")
    d.order(side="buy", order_type="limit", contracts="1", price="99", time_in_force="FOK")

    assert [c.reason for c in d.of("OrderCancelled")] == ["ioc_remainder", "fok_not_filled"]
    assert d.account.open_orders() == []


def test_stop_limit_rests_as_a_limit_after_its_trigger() -> None:
    d = _driver()
    d.order(
        side="buy",
        order_type="stop_limit",
        contracts="1",
        trigger_price="102",
        price="102.5",
        leverage="10",
    )

    d.last("103")  # triggered at 102 (moved through it): marketable at 102 ≤ 102.5
    fill = d.of("OrderFilled")[0]

    assert fill.price == D("102")


def test_mark_triggered_stop_ignores_last_price() -> None:
    d = _driver()
    d.order(side="buy", order_type="market", contracts="1", leverage="10")
    d.mark("100")
    d.order(
        side="sell",
        order_type="stop_market",
        contracts="1",
        trigger_price="95",
        trigger_source="mark",
        reduce_only=True,
    )

    assert "OrderTriggered" not in d.kinds(d.last("94"))
    events = d.mark("94.5")

    assert next(e for e in events if e.kind == "OrderTriggered").trigger_source == "mark"
    assert next(e for e in events if e.kind == "OrderFilled").price == D("94")  # at last price


def test_order_status_moves_only_through_the_table() -> None:
    order = Order("o1", "BTC/USDT:USDT", "buy", "limit", D(1), 0, price=D(1))
    base = {"seq": 1, "ts_ms": 0, "account": "a"}
    order.apply(
        OrderAccepted(**base, order_id="o1", side="buy", order_type="limit", contracts=D(1))
    )
    order.apply(OrderCancelled(**base, order_id="o1"))

    with pytest.raises(InvalidTransition):
        order.apply(
            OrderFilled(
                **base,
                order_id="o1",
                side="buy",
                contracts=D(1),
                price=D(1),
                fee=D(0),
                currency="USDT",
                liquidity="maker",
                realized_pnl=D(0),
                contract_size=D(1),
                position_after=D(1),
                entry_price_after=D(1),
                wallet_after=D(0),
            )
        )
