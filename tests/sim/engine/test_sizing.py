"""Risk sizing and the liquidation quote on hand-built specs (numbers from the issue and §A)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine.sizing import quote_liquidation, size_by_risk
from sim.engine.spec import MarginTier
from sim.errors import InputError
from tests.sim.engine._specs import BTC_TIERS, btc_usdt, coin_margined

D = Decimal

BTC = btc_usdt(
    min_amount=D("0.001"),
    min_notional=D(10),
    max_leverage=D(150),
    taker_fee=D("0.0005"),
    tiers=BTC_TIERS,
)
COIN = coin_margined(
    BTC, min_notional=None, tiers=(MarginTier(1, D(0), None, D("0.004"), D(0), D(125)),)
)


# Issue 2: E 1,000, R 1, entry 70,000, stop 69,300 on Binance USDⓈ-M (step 0.001) → 0.014 BTC, $9.80
def test_issue_example_sizes_to_0_014_btc_with_9_80_max_loss() -> None:
    result = size_by_risk(BTC, equity=D(1000), risk_pct=D(1), entry=D(70000), stop=D(69300))

    assert result.contracts == D("0.014")
    assert result.base_qty == D("0.014")
    assert result.max_loss == D("9.80")
    assert result.notional == D("980.00")
    assert result.side == "long"
    assert result.tier == 1
    assert result.reason is None


def test_fees_count_toward_the_risk() -> None:
    # per contract: 700 + 0.0005 × (70,000 + 69,300) = 769.65 → 10 / 769.65 = 0.01299 → 0.012
    result = size_by_risk(
        BTC, equity=D(1000), risk_pct=D(1), entry=D(70000), stop=D(69300), include_fees=True
    )

    assert result.contracts == D("0.012")
    assert result.max_loss == D("9.24")


def test_short_sizes_from_a_stop_above_entry() -> None:
    result = size_by_risk(
        BTC, equity=D(1000), risk_pct=D(1), entry=D(70000), stop=D(70700), leverage=D(10)
    )

    assert result.side == "short"
    assert result.contracts == D("0.014")
    assert result.liquidation_price is not None
    assert result.liquidation_price > D(70700)
    assert result.margin == D("98.00")


def test_high_leverage_warns_and_flags_liquidation_inside_the_stop() -> None:
    result = size_by_risk(
        BTC,
        equity=D(1000),
        risk_pct=D(1),
        entry=D(70000),
        stop=D(65000),
        leverage=D(50),
        leverage_warning=D(20),
    )

    assert result.liquidation_price is not None
    assert result.liquidation_price > D(65000)
    assert any("warning level 20x" in w for w in result.warnings)
    assert any("before the stop triggers" in w for w in result.warnings)


def test_size_below_venue_minimum_is_zero_with_a_reason() -> None:
    result = size_by_risk(BTC, equity=D(50), risk_pct=D(1), entry=D(70000), stop=D(60000))

    assert result.contracts == D(0)
    assert result.reason is not None
    assert "below the venue minimum" in result.reason
    assert result.liquidation_price is None


# E 1,000, R 1, 70,000 → 69,300 sizes 0.014 BTC = 980 USDT: the check names that notional
def test_leverage_above_the_market_maximum_names_the_sized_notional() -> None:
    with pytest.raises(InputError) as err:
        size_by_risk(
            BTC, equity=D(1000), risk_pct=D(1), entry=D(70000), stop=D(69300), leverage=D(200)
        )

    assert "maximum 150x for a notional of 980 USDT (tier 1)" in str(err.value)
    assert "at most 150x at any size" in str(err.value)


# E 1,000,000, R 1, 70,000 → 69,000: 10 BTC = 700,000 USDT, tier 2 (max 100x). At 125x only
# tier 1 is allowed: up to 300,000 USDT = 4.2857 → 4.285 BTC at 70,000.
def test_leverage_above_the_tier_of_the_sized_notional_is_an_error_with_the_largest_size() -> None:
    with pytest.raises(InputError) as err:
        size_by_risk(
            BTC, equity=D(10**6), risk_pct=D(1), entry=D(70000), stop=D(69000), leverage=D(125)
        )

    text = str(err.value)
    assert "leverage 125x is above the maximum 100x for a notional of 700,000 USDT (tier 2)" in text
    assert "at 125x the largest size is 4.285 contracts (notional up to 300,000 USDT)" in text
    assert "\n" not in text


# --mmr 0.2 at 10x: maintenance 20 % of notional > 10 % initial margin → liquidated at once
def test_maintenance_above_initial_margin_is_liquidated_at_once_never_a_price() -> None:
    tier = MarginTier(0, D(0), None, D("0.2"), D(0), D(0))
    with pytest.raises(InputError, match="liquidated at once"):
        size_by_risk(
            BTC, equity=D(1000), risk_pct=D(1), entry=D(70000), stop=D(69300),
            leverage=D(10), tier=tier,
        )  # fmt: skip
    with pytest.raises(InputError, match=r"maintenance margin 120 USDT is more than the margin"):
        quote_liquidation(
            BTC, side="long", entry=D(60000), contracts=D("0.01"), leverage=D(10), tier=tier
        )
    with pytest.raises(InputError, match="liquidated at once"):
        quote_liquidation(
            BTC, side="short", entry=D(60000), contracts=D("0.01"), leverage=D(10), tier=tier
        )


@given(
    lev=st.integers(min_value=1, max_value=150),
    mmr=st.decimals(min_value=D("0.001"), max_value=D("0.9"), places=3),
    long=st.booleans(),
)
@settings(max_examples=60, deadline=None)
def test_a_shown_liquidation_price_is_never_beyond_the_entry(lev: int, mmr: D, long: bool) -> None:
    tier = MarginTier(0, D(0), None, mmr, D(0), D(0))
    side = "long" if long else "short"
    try:
        result = quote_liquidation(
            BTC, side=side, entry=D(60000), contracts=D("0.01"), leverage=D(lev), tier=tier
        )
    except InputError as e:
        refused = str(e)
    else:
        refused = ""
    if refused:
        assert "liquidated at once" in refused
        assert mmr * lev >= D("0.9")
        return
    liq = result.liquidation_price
    assert liq is None or (liq < D(60000) if long else liq > D(60000))


@pytest.mark.parametrize("leverage", ["0.5", "0"])
def test_leverage_below_one_is_refused(leverage: str) -> None:
    with pytest.raises(InputError, match="at least 1"):
        quote_liquidation(
            BTC, side="long", entry=D(60000), contracts=D("0.01"), leverage=D(leverage)
        )
    with pytest.raises(InputError, match="at least 1"):
        size_by_risk(
            BTC, equity=D(1000), risk_pct=D(1), entry=D(70000), stop=D(69300),
            leverage=D(leverage),
        )  # fmt: skip


def test_below_minimum_reason_shows_a_short_size() -> None:
    result = size_by_risk(BTC, equity=D(1), risk_pct=D(1), entry=D(70000), stop=D(69930))

    assert result.reason is not None
    assert "buys 0.00014 contracts, below the venue minimum of 0.001" in result.reason


@pytest.mark.parametrize(
    ("equity", "risk", "entry", "stop", "side", "message"),
    [
        ("0", "1", "70000", "69300", None, "equity must be positive"),
        ("1000", "-1", "70000", "69300", None, "risk % must be more than 0"),
        ("1000", "0", "70000", "69300", None, "risk % must be more than 0"),
        ("1000", "1", "70000", "70000", None, "equals the entry"),
        ("1000", "1", "70000", "71000", "long", "wrong side for a long"),
        ("1000", "1", "70000", "69000", "short", "wrong side for a short"),
        ("1000", "101", "70000", "69000", None, "at most 100"),
        ("1000", "1", "-5", "69000", None, "entry must be positive"),
    ],
)
def test_bad_sizing_input_is_an_input_error(
    equity: str, risk: str, entry: str, stop: str, side: str | None, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        size_by_risk(
            BTC,
            equity=D(equity),
            risk_pct=D(risk),
            entry=D(entry),
            stop=D(stop),
            side=side,  # type: ignore[arg-type]
        )


def test_inverse_sizing_in_coin() -> None:
    # 1 % of 0.1 BTC = 0.001 BTC; one 100 USD contract from 70,000 to 63,000 loses
    # 100 × (1/63,000 − 1/70,000) = 0.00015873 BTC → 6 contracts
    result = size_by_risk(COIN, equity=D("0.1"), risk_pct=D(1), entry=D(70000), stop=D(63000))

    assert result.contracts == D(6)
    assert result.currency == "BTC"
    assert result.max_loss == D("0.00095238")


@settings(max_examples=100, deadline=None)
@given(
    equity=st.decimals(min_value=D(10), max_value=D(10**6), places=2),
    risk=st.decimals(min_value=D("0.1"), max_value=D(5), places=2),
    entry=st.decimals(min_value=D(1000), max_value=D(100000), places=1),
    gap=st.decimals(min_value=D("0.001"), max_value=D("0.2"), places=3),
    fees=st.booleans(),
)
def test_max_loss_never_exceeds_the_budget(
    equity: Decimal, risk: Decimal, entry: Decimal, gap: Decimal, fees: bool
) -> None:
    stop = entry * (1 - gap)

    result = size_by_risk(
        BTC, equity=equity, risk_pct=risk, entry=entry, stop=stop, include_fees=fees
    )

    assert result.max_loss <= result.risk_budget + D("0.005")
    assert result.contracts % BTC.amount_step == 0


# exchange-mechanics.md §A.2 micro case through the quote: 54,216.87, bankruptcy 54,000
def test_quote_liquidation_micro_case() -> None:
    result = quote_liquidation(
        BTC, side="long", entry=D(60000), contracts=D("0.01"), leverage=D(10)
    )

    assert result.liquidation_price == D("54216.87")
    assert result.bankruptcy_price == D("54000.00")
    assert result.initial_margin == D("60.00")
    assert result.maintenance_margin == D("2.40")
    assert result.tier == 1


def test_quote_liquidation_refuses_bad_input() -> None:
    with pytest.raises(InputError, match="maximum 100x"):
        quote_liquidation(BTC, side="long", entry=D(60000), contracts=D(6), leverage=D(125))
    with pytest.raises(InputError, match="multiple of the step"):
        quote_liquidation(BTC, side="long", entry=D(60000), contracts=D("0.0105"), leverage=D(1))
    with pytest.raises(InputError, match="--wallet"):
        quote_liquidation(
            BTC, side="long", entry=D(60000), contracts=D(1), leverage=D(1), margin_mode="cross"
        )
    with pytest.raises(InputError, match="no maintenance-margin tiers recorded"):
        quote_liquidation(
            replace(BTC, venue="bybit", tiers=()),
            side="long",
            entry=D(60000),
            contracts=D(1),
            leverage=D(1),
        )
