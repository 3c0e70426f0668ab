"""Account: worked exchange examples through the one entry point, views, snapshot/restore."""

from __future__ import annotations

import json
from decimal import Decimal as D

from sim.engine.account import Account
from sim.engine.market import FeedStatus
from sim.engine.money import cents
from tests.sim.engine._account_fixtures import Driver, account, synthetic_spec

ETH = "ETH/USDT:USDT"
BTC = "BTC/USDT:USDT"


def _faq_cross_account() -> Driver:
    # Binance FAQ "How to Calculate Liquidation Price of USDⓈ-M Futures Contracts": cross
    # wallet 1,535,443.01; ETH 3,683.979 @1,456.84 (MMR 10 %, cum 135,365) and BTC 109.488
    # @32,481.98 (MMR 2.5 %, cum 16,300). Zero fees so the wallet stays the FAQ's.
    eth = synthetic_spec(
        ETH, tick="0.01", mmr="0.10", cum="135365", max_leverage="20", maker="0", taker="0"
    )
    btc = synthetic_spec(
        BTC, tick="0.01", mmr="0.025", cum="16300", max_leverage="20", maker="0", taker="0"
    )
    d = Driver(account(eth, btc))
    d.deposit("1535443.01")
    d.last("1456.84", ETH)
    d.last("32481.98", BTC)
    d.order(
        ETH,
        side="buy",
        order_type="market",
        contracts="3683.979",
        leverage="20",
        margin_mode="cross",
    )
    d.order(
        BTC,
        side="buy",
        order_type="market",
        contracts="109.488",
        leverage="20",
        margin_mode="cross",
    )
    d.mark("1335.18", ETH)
    d.mark("31967.27", BTC)
    return d


def test_cross_liquidation_prices_match_binance_faq() -> None:
    d = _faq_cross_account()

    shown = {p.symbol: cents(p.liquidation_price) for p in d.account.positions()}

    assert shown == {ETH: D("1153.26"), BTC: D("26316.89")}


def test_cross_liquidation_acts_at_the_shown_price_and_closes_the_whole_wallet() -> None:
    d = _faq_cross_account()
    lp = next(p.liquidation_price for p in d.account.positions() if p.symbol == ETH)

    before = d.mark(str(cents(lp) + D("0.01")), ETH)
    at = d.mark(str(cents(lp) - D("0.01")), ETH)

    assert "PositionLiquidated" not in [e.kind for e in before]
    liquidated = [e for e in at if e.kind == "PositionLiquidated"]
    assert [e.symbol for e in liquidated] == [ETH, BTC]
    assert liquidated[0].liquidation_price == lp
    assert liquidated[0].rule.endswith("cross")
    assert d.account.positions() == []


def test_isolated_micro_long_liquidates_at_the_price_it_shows() -> None:
    # exchange-mechanics.md §A.2 micro example: 0.01 BTC @60,000, 10x isolated, tier 1
    # (0.4 %, cum 0): margin 60 USDT, LP 54,216.87.
    d = Driver(account(synthetic_spec()))
    d.deposit("1000")
    d.last("60000")
    d.order(
        side="buy", order_type="market", contracts="0.01", leverage="10", margin_mode="isolated"
    )
    view = d.account.positions()[0]

    assert cents(view.liquidation_price) == D("54216.87")
    assert view.isolated_margin == D("60")
    assert "PositionLiquidated" not in d.kinds(d.mark("54216.9"))
    events = d.mark("54216.8")

    liq = next(e for e in events if e.kind == "PositionLiquidated")
    assert liq.liquidation_price == view.liquidation_price
    assert (liq.mmr, liq.cum, liq.tier, liq.wallet_before) == (D("0.004"), D(0), 1, D(60))
    assert liq.loss == D("60")  # the whole isolated margin, never more
    trade = next(e for e in events if e.kind == "TradeClosed")
    assert trade.exit_reason == "liquidation"
    # 1000 − open fee 0.3 − margin 60
    assert d.account.wallets() == {"USDT": D("939.7")}


def test_isolated_micro_short_liquidation_price() -> None:
    d = Driver(account(synthetic_spec()))
    d.deposit("1000")
    d.last("60000")
    d.order(
        side="sell", order_type="market", contracts="0.01", leverage="10", margin_mode="isolated"
    )

    assert cents(d.account.positions()[0].liquidation_price) == D("65737.05")


def test_bybit_linear_isolated_liquidation_price_19700() -> None:
    # Bybit "Liquidation Price (USDT Contract)": long 1 BTC @20,000, 50x, MMR 0.5 % → 19,700.
    spec = synthetic_spec(venue="bybit", mmr="0.005", maker="0", taker="0", max_leverage="100")
    d = Driver(account(spec))
    d.deposit("1000")
    d.last("20000")
    d.order(side="buy", order_type="market", contracts="1", leverage="50", margin_mode="isolated")

    view = d.account.positions()[0]
    assert view.isolated_margin == D("400")
    assert cents(view.liquidation_price) == D("19700.00")


def test_bybit_inverse_isolated_liquidation_price() -> None:
    # Bybit UTA isolated inverse: 60,000 USD @50,000, 10x, MMR 0.5 % → LP 45,662.10.
    spec = synthetic_spec(
        "BTC/USD:BTC",
        venue="bybit",
        linear=False,
        tick="0.5",
        step="1",
        min_amount="1",
        min_notional=None,
        mmr="0.005",
        maker="0",
        taker="0",
        max_leverage="100",
    )
    d = Driver(account(spec))
    d.deposit("1", "BTC")
    d.last("50000", spec.symbol)
    d.order(
        spec.symbol,
        side="buy",
        order_type="market",
        contracts="60000",
        leverage="10",
        margin_mode="isolated",
    )

    view = d.account.positions()[0]
    assert view.isolated_margin == D("0.12")
    assert cents(view.liquidation_price) == D("45662.10")


def test_inverse_average_entry_is_harmonic_and_pnl_in_coin() -> None:
    # Bybit FAQ: 1,000 @5,000 + 2,000 @6,000 → entry 5,625;
    # 1,000 × (1/5,000 − 1/5,500) = 0.01818 BTC.
    spec = synthetic_spec(
        "BTC/USD:BTC",
        venue="bybit",
        linear=False,
        tick="0.5",
        step="1",
        min_amount="1",
        min_notional=None,
        maker="0",
        taker="0",
    )
    d = Driver(account(spec))
    d.deposit("1", "BTC")
    d.last("5000", spec.symbol)
    d.order(spec.symbol, side="buy", order_type="market", contracts="1000", leverage="5")
    d.last("6000", spec.symbol)
    d.order(spec.symbol, side="buy", order_type="market", contracts="2000", leverage="5")
    assert d.account.positions()[0].entry_price == D("5625")

    d2 = Driver(account(spec))
    d2.deposit("1", "BTC")
    d2.last("5000", spec.symbol)
    d2.order(spec.symbol, side="buy", order_type="market", contracts="1000", leverage="5")
    d2.last("5500", spec.symbol)
    fills = d2.order(spec.symbol, side="sell", order_type="market", contracts="1000")

    fill = next(e for e in fills if e.kind == "OrderFilled")
    assert fill.realized_pnl.quantize(D("0.00001")) == D("0.01818")
    assert d2.account.wallets()["BTC"] == 1 + fill.realized_pnl


def test_linear_average_entry_and_realized_pnl_on_reduction() -> None:
    # §A.5: 0.5 @5,000 + 0.3 @6,000 → 5,375; selling 0.4 at 6,000 realizes 0.4 × 625 = 250.
    d = Driver(account(synthetic_spec(maker="0", taker="0")))
    d.deposit("10000")
    d.last("5000")
    d.order(side="buy", order_type="market", contracts="0.5", leverage="10")
    d.last("6000")
    d.order(side="buy", order_type="market", contracts="0.3", leverage="10")
    assert d.account.positions()[0].entry_price == D("5375")

    fills = d.order(side="sell", order_type="market", contracts="0.4")

    assert next(e for e in fills if e.kind == "OrderFilled").realized_pnl == D("250")
    assert d.account.positions()[0].contracts == D("0.4")
    assert d.account.wallets()["USDT"] == D("10250")


def test_flip_closes_the_trade_then_opens_the_other_side() -> None:
    d = Driver(account(synthetic_spec(maker="0", taker="0")))
    d.deposit("10000")
    d.last("100")
    d.order(side="buy", order_type="market", contracts="1", leverage="10")
    d.last("110")

    events = d.order(side="sell", order_type="market", contracts="3")

    assert d.kinds(events) == ["OrderAccepted", "OrderFilled", "TradeClosed", "OrderFilled"]
    assert events[2].realized_pnl == D("10")
    assert d.account.positions()[0].contracts == D("-2")


def test_several_wallets_and_equity() -> None:
    d = Driver(account(synthetic_spec()))
    d.deposit("1000")
    d.deposit("0.5", "BTC")
    d.deposit("200", "USDC")

    assert d.account.wallets() == {"BTC": D("0.5"), "USDC": D("200"), "USDT": D("1000")}
    assert d.account.equity("USDT") == D("1000")


def test_stale_feed_pauses_fills_and_refuses_orders() -> None:
    d = Driver(account(synthetic_spec()))
    d.deposit("1000")
    d.last("100")
    d.order(side="sell", order_type="limit", contracts="0.1", price="101")
    d(FeedStatus("binanceusdm", BTC, d.tick(), stale=True, reason="no data for 10 s"))

    paused = d.last("105")
    refused = d.order(side="buy", order_type="market", contracts="0.1")
    d(FeedStatus("binanceusdm", BTC, d.tick(), stale=False))
    resumed = d.last("105")

    assert "OrderFilled" not in d.kinds(paused)
    assert "stale" in refused[0].reason
    assert "OrderFilled" in d.kinds(resumed)
    assert [e.stale for e in d.of("FeedStale")] == [True, False]


def test_snapshot_is_json_and_restore_continues_identically() -> None:
    d = Driver(account(synthetic_spec()))
    d.deposit("1000")
    d.last("100")
    d.order(
        side="buy",
        order_type="market",
        contracts="1",
        leverage="10",
        margin_mode="isolated",
        stop_loss="95",
        take_profit="110",
    )
    d.order(side="buy", order_type="limit", contracts="0.5", price="98")
    snap = json.loads(json.dumps(d.account.snapshot()))
    twin = Driver(Account.restore(snap, d.account.specs))
    twin.ts = d.ts

    for price in ("99", "97.5", "96", "94", "100"):
        a, b = d.last(price), twin.last(price)
        assert a == b

    assert twin.account.snapshot() == d.account.snapshot()
