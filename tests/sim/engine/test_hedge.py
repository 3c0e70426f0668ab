"""Beta hedge: the issue's $500 bag example and the rounding/refusal cases."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sim.engine.hedge import beta_hedge
from sim.errors import InputError
from tests.sim.engine._specs import btc_usdt, coin_margined

D = Decimal

BTC = btc_usdt(min_amount=D("0.001"))
COIN = coin_margined(BTC)


# Issue 2: $500 bag, beta 1.5, BTC $70,000, 0.01 BTC contracts → 1 contract, $50 unhedged
def test_small_bag_is_one_micro_contract_with_50_dollars_unhedged() -> None:
    result = beta_hedge(
        BTC, portfolio=D(500), price=D(70000), beta=D("1.5"), contract_size=D("0.01")
    )

    assert result.contracts == D(1)
    assert result.hedged_notional == D("700.00")
    assert result.unhedged == D("50.00")
    assert result.beta_exposure == D("750.00")
    down, up = result.scenarios
    assert (down.portfolio_pnl, down.hedge_pnl, down.net_pnl) == (
        D("-75.00"),
        D("70.00"),
        D("-5.00"),
    )
    assert (up.portfolio_pnl, up.hedge_pnl, up.net_pnl) == (D("75.00"), D("-70.00"), D("5.00"))
    assert result.margin == D("700.00")


def test_venue_step_rounds_to_nearest_and_margin_uses_leverage() -> None:
    # 750 / 70,000 = 0.0107142… BTC → 0.011 on a 0.001 step
    result = beta_hedge(BTC, portfolio=D(500), price=D(70000), beta=D("1.5"), leverage=D(10))

    assert result.contracts == D("0.011")
    assert result.hedged_notional == D("770.00")
    assert result.unhedged == D("-20.00")
    assert result.margin == D("77.00")


def test_hedge_ratio_scales_the_target() -> None:
    result = beta_hedge(
        BTC, portfolio=D(1400), price=D(70000), hedge_ratio=D("0.5"), contract_size=D("0.01")
    )

    assert result.target_notional == D("700.00")
    assert result.contracts == D(1)
    assert result.unhedged == D("700.00")


def test_too_small_portfolio_gets_zero_contracts_and_a_reason() -> None:
    result = beta_hedge(BTC, portfolio=D(200), price=D(70000), contract_size=D("0.01"))

    assert result.contracts == D(0)
    assert result.reason is not None
    assert "too small" in result.reason
    assert result.unhedged == D("200.00")


def test_zero_contract_hedge_pnl_is_plus_zero_not_minus_zero() -> None:
    result = beta_hedge(BTC, portfolio=D(200), price=D(70000), contract_size=D("0.01"))

    down, up = result.scenarios
    assert str(down.hedge_pnl) == "0.00"
    assert str(up.hedge_pnl) == "0.00"
    assert str(down.net_pnl) == "-20.00"


def test_inverse_hedge_counts_usd_contracts_and_warns_about_coin_margin() -> None:
    result = beta_hedge(COIN, portfolio=D(1000), price=D(50000), beta=D(2))

    assert result.contracts == D(20)
    assert result.hedged_notional == D("2000.00")
    assert result.margin == D("0.04000000")
    assert result.margin_currency == "BTC"
    assert any("collateral" in w for w in result.warnings)


@pytest.mark.parametrize(
    ("field", "value"),
    [("portfolio", "-500"), ("portfolio", "0"), ("price", "0"), ("beta", "-1")],
)
def test_bad_hedge_input_is_an_input_error(field: str, value: str) -> None:
    kwargs = {"portfolio": D(500), "price": D(70000), field: D(value)}

    with pytest.raises(InputError, match="must be positive"):
        beta_hedge(BTC, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("leverage", ["0", "0.5"])
def test_hedge_leverage_below_one_is_refused(leverage: str) -> None:
    with pytest.raises(InputError, match="at least 1"):
        beta_hedge(BTC, portfolio=D(500), price=D(70000), leverage=D(leverage))
