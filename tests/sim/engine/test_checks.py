"""Exchange rules before acceptance: every rejection carries a reason a trader understands."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from sim.engine.commands import SetLeverage
from sim.engine.spec import MarginTier
from tests.sim.engine._account_fixtures import Driver, account, synthetic_spec

BTC = "BTC/USDT:USDT"
TIERS = (
    MarginTier(1, D(0), D(50000), D("0.004"), D(0), D(125)),
    MarginTier(2, D(50000), D(250000), D("0.005"), D(50), D(100)),
    MarginTier(3, D(250000), None, D("0.01"), D(1300), D(50)),
)


def _driver(balance: str = "100000") -> Driver:
    d = Driver(account(synthetic_spec(tiers=TIERS, min_notional="100")))
    d.deposit(balance)
    d.last("60000")
    return d


@pytest.mark.parametrize(
    ("order", "reason"),
    [
        (
            {"symbol": "BTC/USDT", "contracts": "0.01"},
            "unknown symbol 'BTC/USDT' on binanceusdm; this account trades: BTC/USDT:USDT",
        ),
        (
            {"contracts": "0.0015"},
            "0.0015 contracts is not a multiple of the step 0.001 of BTC/USDT:USDT",
        ),
        ({"contracts": "0"}, "contracts must be > 0, was 0"),
        (
            {"order_type": "limit", "contracts": "0.01", "price": "60000.05"},
            "price 60000.05 is not on the price tick 0.1 of BTC/USDT:USDT; round it to the tick",
        ),
        (
            {"contracts": "0.001"},
            "order value 60 USDT is below the minimum 100 USDT of BTC/USDT:USDT",
        ),
        (
            {"contracts": "1", "leverage": "125"},
            "leverage 125x is above the maximum 100x for a notional of 60000 USDT on binanceusdm "
            "BTC/USDT:USDT",
        ),
        (
            {"contracts": "1", "reduce_only": True},
            "reduce-only buy would open a long position in BTC/USDT:USDT",
        ),
        (
            {"order_type": "stop_market", "contracts": "0.01", "trigger_price": "59000"},
            "the stop_market would trigger immediately: last price 60000 is already at or beyond "
            "the trigger 59000",
        ),
        (
            {"contracts": "0.01", "stop_loss": "61000"},
            "stop-loss 61000 is on the wrong side of the entry 60000",
        ),
        (
            {"order_type": "trailing_stop_market", "contracts": "0.01", "callback_pct": "20"},
            "a trailing stop needs a callback between 0.1 % and 10 %",
        ),
    ],
)
def test_rejections_read_like_the_exchange(order: dict, reason: str) -> None:
    d = _driver()
    kw = {"side": "buy", "order_type": "market", **order}

    events = d.order(**kw)

    assert [e.kind for e in events] == ["OrderRejected"]
    assert events[0].reason == reason


def test_insufficient_margin_says_how_much() -> None:
    d = _driver(balance="50")

    events = d.order(side="buy", order_type="market", contracts="0.01", leverage="10")

    assert (
        events[0].reason == "insufficient margin: the order needs 60.30 USDT, available 50.00 USDT"
    )


def test_reduce_only_that_would_increase_is_rejected() -> None:
    d = _driver()
    d.order(side="buy", order_type="market", contracts="0.01", leverage="10")

    events = d.order(side="buy", order_type="market", contracts="0.01", reduce_only=True)

    assert events[0].reason == "reduce-only buy would increase the long position in BTC/USDT:USDT"


def test_expired_contract_rejects_orders() -> None:
    spec = synthetic_spec("BTC/USDT:USDT-220325", kind="future", expiry_ms=1648195200000)
    d = Driver(account(spec))
    d.deposit("1000")
    d.ts = 1648195200000

    events = d.order(spec.symbol, side="buy", order_type="market", contracts="0.01")

    assert events[0].reason == (
        "BTC/USDT:USDT-220325 expired at 2022-03-25 08:00 UTC; it takes no more orders"
    )


def test_leverage_change_is_checked_against_the_position_tier() -> None:
    d = _driver()
    d.order(side="buy", order_type="market", contracts="1", leverage="50")

    ok = d(SetLeverage(ts_ms=d.tick(), symbol=BTC, leverage=D("100"), margin_mode="cross"))
    too_high = d(SetLeverage(ts_ms=d.tick(), symbol=BTC, leverage=D("125"), margin_mode="cross"))
    switch = d(SetLeverage(ts_ms=d.tick(), symbol=BTC, leverage=D("10"), margin_mode="isolated"))

    assert ok[0].kind == "LeverageSet"
    assert too_high[0].kind == "CommandRejected"
    assert "above the maximum 100x" in too_high[0].reason
    assert "cannot switch BTC/USDT:USDT to isolated" in switch[0].reason


@pytest.mark.parametrize("order", [{"contracts": "1e99"}, {"order_type": "limit",
                                   "contracts": "0.01", "price": "1e99"}])  # fmt: skip
def test_an_absurd_size_or_price_is_rejected_not_raised(order: dict) -> None:
    """``1e99`` passes the grid check exactly (its quotient by the step exceeds the 28 digits
    ``%`` needs: it raised DivisionImpossible and the web desk answered 500) and is then
    refused like any order the wallet cannot carry."""
    d = _driver()

    events = d.order(**{"side": "buy", "order_type": "market", **order})

    assert [e.kind for e in events] == ["OrderRejected"]
    assert events[0].reason.startswith("insufficient margin: the order needs ")


def test_on_step_quantizes_beyond_the_contexts_28_digits() -> None:
    from decimal import ROUND_HALF_UP

    from sim.engine.messages import show
    from sim.engine.money import on_step

    big = D("999999999999999") * D("999999999999999")  # a typed size x a typed price: 1e30

    assert on_step(big, D("0.01")) == big  # plain quantize raises InvalidOperation here
    assert on_step(D("1.005"), D("0.01"), ROUND_HALF_UP) == D("1.01")
    assert show(big, D("0.01")) == "999,999,999,999,998,000,000,000,000,000"  # 28 digits kept
