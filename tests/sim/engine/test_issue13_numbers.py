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
from sim.engine.margin import liquidation_price
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
