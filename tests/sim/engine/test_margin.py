"""margin.py against the exchanges' worked numbers (exchange-mechanics.md §A.1, §A.3, §A.5)."""

from __future__ import annotations

from dataclasses import replace
from decimal import ROUND_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine.margin import (
    INFINITE_RATIO,
    avg_entry_inverse,
    avg_entry_linear,
    check_leverage,
    initial_margin,
    maintenance_margin,
    maintenance_margin_by_tier,
    margin_balance,
    margin_ratio,
    pnl,
    tier_at,
    unrealized_pnl,
)
from sim.engine.venues import Exposure
from sim.errors import InputError
from tests.sim.engine._specs import BTC_TIERS, btc_usdt

D = Decimal

SPEC = btc_usdt(tiers=BTC_TIERS)


def btc(side: int, qty: str, entry: str) -> Exposure:
    return Exposure(side, D(qty), D(entry), D(1), linear=True)


def test_linear_initial_margin_is_notional_over_leverage() -> None:
    assert initial_margin(btc(1, "0.01", "60000"), D(60000), D(10)) == D(60)


# Binance COIN-M FAQ: [(10 × 100 USD) / 9,800] / 20 = 0.0051 BTC
def test_coinm_initial_margin_matches_binance_faq() -> None:
    pos = Exposure(1, D(10), D(9800), D(100), linear=False)

    im = initial_margin(pos, D(9800), D(20))

    assert im.quantize(D("0.0001")) == D("0.0051")


def test_initial_margin_refuses_zero_leverage() -> None:
    with pytest.raises(InputError, match="leverage"):
        initial_margin(btc(1, "1", "100"), D(100), D(0))


def test_maintenance_margin_picks_the_tier_by_notional() -> None:
    pos = btc(1, "10", "50000")  # 500,000 USDT → tier 2: 500,000 × 0.5 % − 300

    assert tier_at(SPEC, pos, D(50000)).tier == 2
    assert maintenance_margin_by_tier(SPEC, pos, D(50000)) == D("2200")
    assert maintenance_margin(pos, D(50000), BTC_TIERS[0]) == D(2000)


def test_maintenance_is_continuous_across_a_tier_boundary() -> None:
    # cum from the recurrence makes the bracket a "tax bracket": no jump at 300,000
    below = maintenance_margin(btc(1, "3", "100000"), D(100000), BTC_TIERS[0])
    above = maintenance_margin(btc(1, "3", "100000"), D(100000), BTC_TIERS[1])

    assert below == above == D(1200)


def test_linear_pnl_both_sides() -> None:
    assert pnl(btc(1, "0.5", "5000"), D(5500)) == D(250)
    assert pnl(btc(-1, "0.5", "5000"), D(5500)) == D(-250)
    assert unrealized_pnl(btc(-1, "0.5", "5000"), D(4000)) == D(500)


# Bybit inverse PnL FAQ: 1,000 × (1/5,000 − 1/5,500) = 0.0181818… BTC, shown as 0.01819
def test_inverse_pnl_matches_bybit_faq() -> None:
    long = Exposure(1, D(1000), D(5000), D(1), linear=False)
    short = Exposure(-1, D(1000), D(5000), D(1), linear=False)

    gain = pnl(long, D(5500))

    assert gain.quantize(D("0.00000001")) == D("0.01818182")
    # the page truncates 1/5,500 to 0.00018181 before subtracting, which displays as 0.01819
    assert gain.quantize(D("0.00001"), rounding=ROUND_UP) == D("0.01819")
    assert pnl(short, D(5500)) == -gain


def test_average_entry_linear_and_inverse_match_bybit_faq() -> None:
    assert avg_entry_linear([(D("0.5"), D(5000)), (D("0.3"), D(6000))]) == D(5375)
    inverse = avg_entry_inverse([(D(1000), D(5000)), (D(2000), D(6000))])
    assert inverse.quantize(D("0.01")) == D("5625.00")


def test_average_entry_refuses_empty_or_negative_fills() -> None:
    with pytest.raises(InputError):
        avg_entry_linear([])
    with pytest.raises(InputError):
        avg_entry_inverse([(D(-1), D(5000))])


def test_margin_ratio_and_balance() -> None:
    assert margin_balance(D(60), D(-40)) == D(20)
    assert margin_ratio(D(2), D(20)) == D("0.1")
    assert margin_ratio(D(2), D(0)) == INFINITE_RATIO


def test_leverage_check_uses_the_tier_of_the_resulting_notional() -> None:
    assert check_leverage(SPEC, D(100000), D(150)) is None
    reason = check_leverage(SPEC, D(500000), D(125))
    assert reason is not None
    assert "maximum 100x" in reason
    assert check_leverage(SPEC, D(1), D(0)) is not None


def test_leverage_check_without_tiers_uses_market_max() -> None:
    spec = replace(SPEC, tiers=(), max_leverage=D(50))

    assert check_leverage(spec, D(10**9), D(50)) is None
    assert check_leverage(spec, D(1), D(51)) is not None


@settings(max_examples=100, deadline=None)
@given(
    fills=st.lists(
        st.tuples(
            st.decimals(min_value=D(1), max_value=D(1000), places=0),
            st.decimals(min_value=D(100), max_value=D(100000), places=1),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_inverse_average_entry_makes_pnl_additive(fills: list[tuple[Decimal, Decimal]]) -> None:
    avg = avg_entry_inverse(fills)
    total = sum((q for q, _ in fills), D(0))
    exit_price = D(50000)

    combined = pnl(Exposure(1, total, avg, D(1), linear=False), exit_price)
    separate = sum((pnl(Exposure(1, q, p, D(1), linear=False), exit_price) for q, p in fills), D(0))

    assert abs(combined - separate) <= D("1e-20")
