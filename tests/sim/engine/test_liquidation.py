"""Liquidation through the account: the venue's close price and fee, loss bounded by margin."""

from __future__ import annotations

from decimal import Decimal as D

from tests.sim.engine._account_fixtures import Driver, account, synthetic_spec


def test_bybit_liquidation_closes_at_bankruptcy_price_with_its_fee() -> None:
    # Bybit "Bankruptcy Price (USDT Contract)": 1 BTC long @10,000, 50x → bankruptcy 9,800,
    # closing fee 1 × 9,800 × 0.075 % = 7.35; the position margin is IM + that fee = 207.35.
    spec = synthetic_spec(
        venue="bybit",
        taker="0.00075",
        maker="0.0002",
        mmr="0.005",
        max_leverage="100",
        min_notional=None,
    )
    d = Driver(account(spec))
    d.deposit("1000")
    d.last("10000")
    d.order(side="buy", order_type="market", contracts="1", leverage="50", margin_mode="isolated")
    view = d.account.positions()[0]
    assert view.isolated_margin == D("207.35")

    events = d.mark(str(view.liquidation_price - D("0.1")))

    liq = next(e for e in events if e.kind == "PositionLiquidated")
    assert (liq.close_price, liq.fee, liq.realized_pnl) == (D("9800"), D("7.35"), D("-200"))
    assert liq.loss == view.isolated_margin
    assert d.account.wallets()["USDT"] == D("1000") - D("7.5") - D("207.35")


def test_liquidation_cancels_the_symbol_orders_and_records_its_inputs() -> None:
    d = Driver(account(synthetic_spec()))
    d.deposit("1000")
    d.last("60000")
    d.order(
        side="buy",
        order_type="market",
        contracts="0.01",
        leverage="100",
        margin_mode="isolated",
        take_profit="61000",
    )
    lp = d.account.positions()[0].liquidation_price

    events = d.mark(str(lp))

    assert [e.kind for e in events] == [
        "OrderCancelled",
        "PositionLiquidated",
        "TradeClosed",
    ]
    assert events[0].reason == "liquidation"
    liq = events[1]
    assert (liq.side, liq.contracts, liq.entry_price, liq.mark_price) == (
        "long",
        D("0.01"),
        D("60000"),
        lp,
    )
    assert liq.rule.startswith("binance")
    assert liq.trigger_source == "mark"


def test_a_stop_above_the_liquidation_price_fills_before_liquidation() -> None:
    d = Driver(account(synthetic_spec(), mark_from_last=True))
    d.deposit("1000")
    d.last("60000")
    d.order(
        side="buy",
        order_type="market",
        contracts="0.01",
        leverage="20",
        margin_mode="isolated",
        stop_loss="58000",
    )
    lp = d.account.positions()[0].liquidation_price
    assert lp < D("58000")

    events = d.last("50000")  # one print far below both: the stop is met first on the way down

    assert "PositionLiquidated" not in [e.kind for e in events]
    assert next(e for e in events if e.kind == "OrderFilled").price == D("58000")
