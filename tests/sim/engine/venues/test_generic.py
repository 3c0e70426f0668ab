"""GenericRules (any other ccxt venue) and the funding grid shared by every rules class."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine.margin import maintenance_margin, pnl
from sim.engine.money import cents
from sim.engine.spec import ContractSpec, MarginTier
from sim.engine.venues import BinanceRules, BybitRules, Exposure, GenericRules, MarginContext
from sim.engine.venues.base import funding_times_every
from tests.sim.engine._specs import btc_usdt

D = Decimal
H = 3_600_000
DAY = 24 * H
T0 = 1_741_219_200_000  # 2025-03-06 00:00:00 UTC


def tier(mmr: str, cum: str = "0") -> MarginTier:
    return MarginTier(tier=1, floor=D(0), cap=None, mmr=D(mmr), cum=D(cum), max_leverage=D(100))


def spec(**kw: object) -> ContractSpec:
    """A MEXC-style BTC/USDT:USDT micro contract (0.0001 BTC, whole-contract steps)."""
    base = btc_usdt(venue="mexc", venue_id="BTC_USDT", contract_size=D("0.0001"), amount_step=D(1))
    return replace(base, **kw)  # type: ignore[arg-type]


def test_generic_micro_case_equals_binance_number_and_is_approximate() -> None:
    rules = GenericRules()
    pos = Exposure(1, D(100), D(60000), D("0.0001"), linear=True)  # 100 × 0.0001 BTC = 0.01 BTC
    ctx = MarginContext("isolated", D(60), D(10), tier("0.004"))

    price = rules.liquidation_price(pos, ctx)

    assert price is not None
    assert cents(price) == D("54216.87")
    assert rules.approximate is True
    assert "generic" in rules.name


def test_generic_inverse_short_with_full_coin_margin_is_never_liquidated() -> None:
    pos = Exposure(-1, D(100), D(50000), D(100), linear=False)  # 0.2 BTC of position value
    ctx = MarginContext("isolated", D("0.2"), D(1), tier("0.005"))

    assert GenericRules().liquidation_price(pos, ctx) is None
    assert GenericRules().bankruptcy_price(pos, ctx) is None


@settings(max_examples=150, deadline=None)
@given(
    side=st.sampled_from([1, -1]),
    contracts=st.integers(1, 10_000),
    entry=st.decimals(min_value=D(1), max_value=D(100000), places=2),
    lev=st.integers(1, 100),
    cum=st.decimals(min_value=D(0), max_value=D(50), places=2),
    linear=st.booleans(),
)
def test_generic_holds_margin_balance_equal_to_maintenance(
    side: int, contracts: int, entry: Decimal, lev: int, cum: Decimal, linear: bool
) -> None:
    pos = Exposure(side, D(contracts), entry, D("0.001") if linear else D(10), linear)
    t = tier("0.004", str(cum) if linear else "0")
    ctx = MarginContext("isolated", pos.notional(entry) / lev, D(lev), t)

    lp = GenericRules().liquidation_price(pos, ctx)

    if lp is not None:
        gap = ctx.wallet + pnl(pos, lp) - maintenance_margin(pos, lp, t)
        assert abs(gap) <= D("1e-15") * max(D(1), ctx.wallet)


def test_funding_times_every_8h_aligned_to_midnight_utc() -> None:
    start = T0 + 15 * H + 30 * 60_000  # 2025-03-06 15:30
    end = T0 + DAY + 17 * H  # 2025-03-07 17:00

    times = GenericRules().funding_times(spec(), start, end)

    assert times == [T0 + 16 * H, T0 + DAY, T0 + DAY + 8 * H, T0 + DAY + 16 * H]


def test_funding_times_exclude_start_and_include_end() -> None:
    times = BinanceRules().funding_times(spec(venue="binanceusdm"), T0, T0 + 8 * H)

    assert times == [T0 + 8 * H]


def test_funding_times_use_the_symbol_interval_and_none_for_dated_futures() -> None:
    four_hourly = BybitRules().funding_times(spec(funding_interval_h=D(4)), T0, T0 + 12 * H)
    dated = BybitRules().funding_times(spec(kind="future", expiry_ms=T0 + DAY), T0, T0 + DAY)

    assert four_hourly == [T0 + 4 * H, T0 + 8 * H, T0 + 12 * H]
    assert dated == []
    assert funding_times_every(D(8), T0 + H, T0 + H) == []
