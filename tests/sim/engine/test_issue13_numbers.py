"""The six wrong numbers of issue 13, each pinned to its source (exchange page or hand scenario).

Sources: exchange-mechanics.md §A.1 (Binance brackets: floor inclusive, cap exclusive; the
bracket of the notional AT the liquidation price, Binance FAQ "How to Calculate Liquidation Price
of USDⓈ-M Futures Contracts"), §A.2 (the FAQ formula), §A.6 (funding on notional at mark).
"""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path

import pytest

from adapters.tiers import tiers_from_ccxt
from sim.engine.commands import SetLeverage
from sim.engine.margin import liquidation_price
from sim.engine.market import FundingRate
from sim.engine.money import cents
from sim.engine.sizing import quote_liquidation
from sim.engine.spec import ContractSpec
from sim.engine.venues import MarginContext, rules_for
from sim.engine.venues.base import Exposure
from tests.sim.engine._account_fixtures import Driver, account, synthetic_spec
from tests.sim.engine._specs import BTC_TIERS, btc_usdt


def real_btc_spec(shared_data: Path) -> ContractSpec:
    """binanceusdm BTC/USDT:USDT with the real brackets of the recorded tiers file."""
    path = shared_data / "leverage_tiers" / "binance_leverage_tiers_freqtrade-2026.9.json"
    rows = json.loads(path.read_text())["BTC/USDT:USDT"]
    return btc_usdt(tiers=tiers_from_ccxt(rows), taker_fee=D("0.0005"), min_amount=D("0.001"))


# ---- 1. one liquidation price, bracket of the notional at that price ---------------------------
# Long 5.001 BTC at 60,000, 10x isolated: notional 300,060 (bracket 2 at entry: 0.5 %, cum 300).
# By hand with bracket 1 (0.4 %, cum 0) and WB = 30,006:
#   (30,006 − 300,060) / (5.001 × 0.004 − 5.001) = 54,216.868… → notional 271,138 < 300,000 ✓
# With bracket 2: (30,006 + 300 − 300,060) / (5.001 × 0.005 − 5.001) = 54,211.07 → 271,110,
# not in bracket 2: inconsistent, so Binance's FAQ rule gives 54,216.87.
def test_real_brackets_by_hand(shared_data: Path) -> None:
    spec = real_btc_spec(shared_data)
    t1, t2 = spec.tiers[0], spec.tiers[1]
    assert (t1.floor, t1.cap, t1.mmr, t1.cum) == (D(0), D(300000), D("0.004"), D(0))
    assert (t2.floor, t2.cap, t2.mmr, t2.cum) == (D(300000), D(800000), D("0.005"), D(300))


@pytest.mark.parametrize("contracts", ["5.001", "0.01"])
def test_calc_liq_uses_the_bracket_at_the_liquidation_price(
    shared_data: Path, contracts: str
) -> None:
    spec = real_btc_spec(shared_data)
    q = quote_liquidation(spec, side="long", entry=D(60000), contracts=D(contracts), leverage=D(10))
    assert q.liquidation_price == D("54216.87")
    assert (q.tier, q.mmr, q.maint_amount) == (1, D("0.004"), D(0))


def test_engine_liquidates_where_calc_liq_says(shared_data: Path) -> None:
    spec = real_btc_spec(shared_data)
    d = Driver(account(spec))
    d.deposit("100000")
    d.last("60000")
    d.order(
        side="buy", order_type="market", contracts="5.001", leverage="10", margin_mode="isolated"
    )
    # At mark 60,000 (bracket 2 by the mark's notional) the view already shows the price the
    # engine will act on.
    d.mark("60000")
    shown = d.account.positions()[0].liquidation_price
    assert cents(shown) == D("54216.87")
    assert "PositionLiquidated" not in d.kinds(d.mark("54216.9"))
    liq = next(e for e in d.mark("54216.8") if e.kind == "PositionLiquidated")
    assert liq.liquidation_price == shown
    assert (liq.tier, liq.mmr, liq.cum) == (1, D("0.004"), D(0))


def test_one_function_for_calc_and_engine() -> None:
    """Bracket choice for a position whose price crosses a floor (synthetic 3 brackets)."""
    spec = btc_usdt(tiers=BTC_TIERS)
    rules = rules_for(spec.venue)
    exp = Exposure(1, D("5.001"), D(60000), D(1), True)
    ctx = MarginContext("isolated", D(30006), D(10), spec.tier_for(exp.notional(D(60000))))
    lp, tier = liquidation_price(rules, exp, ctx, spec.tiers)
    assert (cents(lp), tier.tier) == (D("54216.87"), 1)
    # Without the brackets (one --mmr tier) the given tier is used as is.
    lp2, tier2 = liquidation_price(rules, exp, ctx, ())
    assert (cents(lp2), tier2.tier) == (D("54211.07"), 2)


# ---- 2. a notional exactly at a floor belongs to the upper bracket -----------------------------
def test_notional_at_a_floor_is_in_the_upper_bracket() -> None:
    # Binance brackets: notionalFloor inclusive, notionalCap exclusive (exchange-mechanics §A.1).
    spec = btc_usdt(tiers=BTC_TIERS)
    assert spec.tier_for(D(300000)).tier == 2
    assert spec.tier_for(D("299999.99")).tier == 1
    assert spec.tier_for(D(800000)).tier == 3
    assert spec.tier_for(D(0)).tier == 1
    # 5 BTC at 60,000 = 300,000 exactly: maintenance 300,000 × 0.5 % − 300 = 1,200, and 100x
    # is the highest leverage allowed (bracket 2), not 150x.
    assert spec.max_leverage_for(D(300000)) == D(100)
    assert spec.tier_for(D(300000)).maintenance_margin(D(300000)) == D(1200)


def test_engine_refuses_bracket_one_leverage_at_the_floor() -> None:
    spec = synthetic_spec(tiers=BTC_TIERS)
    d = Driver(account(spec))
    d.deposit("100000")
    d.last("60000")
    out = d.order(side="buy", order_type="market", contracts="5", leverage="125")
    assert d.kinds(out) == ["OrderRejected"]
    assert "maximum 100x" in out[0].reason


# ---- 3. funding larger than an isolated position's margin --------------------------------------
# exchange-mechanics.md §A.1/§A.6: funding = notional at mark × rate, paid from an isolated
# position's own margin; when it eats the margin the position is liquidated at once, at the
# bankruptcy price of what is left, never at a profit. Hand scenario: long 1 BTC at 70,000, 10x
# isolated (margin 7,000), mark 66,000, rate 12 %: funding 66,000 × 0.12 = 7,920 > 7,000.
def test_funding_that_eats_the_isolated_margin_liquidates_without_profit() -> None:
    spec = synthetic_spec(maker="0", taker="0")
    d = Driver(account(spec))
    d.deposit("100000")
    d.last("70000")
    d.order(side="buy", order_type="market", contracts="1", leverage="10", margin_mode="isolated")
    d.mark("66000")
    assert d.account.positions()[0].isolated_margin == D(7000)

    out = d(FundingRate("binanceusdm", "BTC/USDT:USDT", d.tick(), D("0.12"), d.ts))

    assert d.kinds(out)[:2] == ["FundingPaid", "PositionLiquidated"]
    paid = out[0]
    assert paid.amount == D(-7920)
    liq = out[1]
    assert liq.wallet_before == D(0)  # the margin is used up, never negative
    assert liq.close_price <= D(70000)  # a long is never closed above its entry here
    assert liq.realized_pnl == D(0)
    assert liq.loss == D(0)
    assert d.account.positions() == []
    assert d.account.wallets() == {"USDT": D(100000) - D(7920)}
    trade = next(e for e in out if e.kind == "TradeClosed")
    assert trade.realized_pnl == D(0)
    assert trade.funding == D(-7920)


def test_funding_within_the_margin_only_moves_it() -> None:
    d = Driver(account(synthetic_spec(maker="0", taker="0")))
    d.deposit("100000")
    d.last("70000")
    d.order(side="buy", order_type="market", contracts="1", leverage="10", margin_mode="isolated")
    d.mark("69000")
    out = d(FundingRate("binanceusdm", "BTC/USDT:USDT", d.tick(), D("0.01"), d.ts))
    assert d.kinds(out) == ["FundingPaid"]
    assert d.account.positions()[0].isolated_margin == D(7000) - D(690)


# ---- 4. lowering leverage with an open position needs the new initial margin ------------------
# exchange-mechanics.md §A.1: the venue refuses a lower leverage whose new initial margin is
# not covered by the available balance (isolated: the extra margin is moved from it).
# Hand scenario (issue 13): 0.9 BTC at 50,000, 100x → IM 450; 1x would need 45,000.
def _opened(mode: str) -> Driver:
    d = Driver(account(synthetic_spec(maker="0", taker="0")))
    d.deposit("5000")
    d.last("50000")
    d.mark("50000")
    d.order(side="buy", order_type="market", contracts="0.9", leverage="100", margin_mode=mode)
    return d


def _set(d: Driver, lev: str, mode: str) -> list:
    return d(SetLeverage(ts_ms=d.tick(), symbol="BTC/USDT:USDT", leverage=D(lev), margin_mode=mode))


def test_cross_leverage_cut_refused_when_margin_is_short() -> None:
    d = _opened("cross")
    assert d.account.available("USDT") == D(4550)
    out = _set(d, "1", "cross")
    assert d.kinds(out) == ["CommandRejected"]
    assert "needs 44550.00 USDT more, available 4550.00" in out[0].reason
    assert d.account.positions()[0].leverage == D(100)
    ok = _set(d, "10", "cross")  # 4,500 − 450 = 4,050 ≤ 4,550
    assert d.kinds(ok) == ["LeverageSet"]
    assert d.account.available("USDT") == D(500)


def test_isolated_leverage_cut_tops_up_the_margin_or_is_refused() -> None:
    d = _opened("isolated")
    assert d.account.positions()[0].isolated_margin == D(450)
    assert d.kinds(_set(d, "5", "isolated")) == ["CommandRejected"]  # 9,000 − 450 > 4,550
    assert d.kinds(_set(d, "10", "isolated")) == ["LeverageSet"]
    assert d.account.positions()[0].isolated_margin == D(4500)
    assert d.account.available("USDT") == D(500)
    # The order path: a new order at a lower leverage is refused the same way.
    out = d.order(side="buy", order_type="market", contracts="0.001", leverage="2")
    assert d.kinds(out) == ["OrderRejected"]
    assert "insufficient margin" in out[0].reason


# ---- 5. cross liquidation never leaves the wallet below zero; open loss in the margin check ----
# Hand scenario: cross long 0.003 BTC at 60,000, no fees, wallet 10.0001. Bankruptcy price
# 60,000 − 10.0001/0.003 = 56,666.6333…, on the 0.1 tick 56,666.6: closing there would book
# −10.0002 and leave −0.0001 USDT. The close may take the wallet, not a rounding more.
@pytest.mark.parametrize("wallet", ["10.0001", "10.0004", "20.00013"])
def test_cross_liquidation_leaves_no_negative_wallet(wallet: str) -> None:
    d = Driver(account(synthetic_spec(maker="0", taker="0")))
    d.deposit(wallet)
    d.last("60000")
    d.mark("60000")
    d.order(side="buy", order_type="market", contracts="0.003", leverage="20")
    lp = d.account.positions()[0].liquidation_price
    out = d.mark(str((lp - D("0.1")).quantize(D("0.1"))))
    liq = next(e for e in out if e.kind == "PositionLiquidated")
    assert liq.margin_mode == "cross"
    assert d.account.wallets()["USDT"] >= 0
    assert liq.loss <= D(wallet)


# Binance counts the open loss in an order's initial margin (COIN-M FAQ, exchange-mechanics.md
# §A.3). Issue 13: a short at last 48,525 with the mark at 51,630 was accepted and liquidated
# on the next mark. 1 BTC at 20x: IM 2,426.25 + open loss 3,105 = 5,531.25 > 3,000 available.
def test_margin_check_counts_the_loss_already_showing_at_mark() -> None:
    d = Driver(account(synthetic_spec(maker="0", taker="0")))
    d.deposit("3000")
    d.mark("51630")
    d.last("48525")
    out = d.order(side="sell", order_type="market", contracts="1", leverage="20")
    assert d.kinds(out) == ["OrderRejected"]
    assert "needs 5531.25 USDT" in out[0].reason
    # With enough for the open loss too the order goes through and survives the next mark.
    d.deposit("3000")
    assert "OrderFilled" in d.kinds(d.order(side="sell", order_type="market", contracts="1"))
    assert "PositionLiquidated" not in d.kinds(d.mark("51630"))


def test_open_loss_by_hand() -> None:
    from sim.engine.checks import open_loss

    spec = synthetic_spec()
    assert open_loss(spec, -1, D(1), D(48525), D(51630)) == D(3105)
    assert open_loss(spec, 1, D(1), D(48525), D(51630)) == D(0)  # a long bought below mark
    inverse = synthetic_spec("BTC/USD:BTC", linear=False, contract_size="100", step="1")
    # COIN-M: 10 contracts × 100 USD long at 10,000 with mark 9,800: 1,000 × (1/9,800 − 1/10,000)
    loss = open_loss(inverse, 1, D(10), D(10000), D(9800))
    assert loss.quantize(D("0.00000001")) == D("0.00204082")


# ---- 6. fee overrides: one helper for calc and replay -----------------------------------------
def test_with_fees_replaces_only_what_is_given() -> None:
    from sim.engine.spec import with_fees
    from sim.errors import InputError

    spec = btc_usdt(maker_fee=D("0.0002"), taker_fee=D("0.0005"))
    assert with_fees(spec) == spec
    assert with_fees(spec, taker=D("0.00075")).taker_fee == D("0.00075")
    assert with_fees(spec, taker=D("0.00075")).maker_fee == D("0.0002")
    assert with_fees(spec, maker=D("-0.0001")).maker_fee == D("-0.0001")  # a rebate
    with pytest.raises(InputError, match="--taker-fee"):
        with_fees(spec, taker=D("-0.0001"))
