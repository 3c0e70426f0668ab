"""BybitRules against Bybit help-centre examples (exchange-mechanics.md §A.4/§A.5)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine.margin import pnl
from sim.engine.money import cents
from sim.engine.spec import MarginTier
from sim.engine.venues import BybitRules, Exposure, MarginContext, rules_for

D = Decimal
TAKER = D("0.00075")


def tier(mmr: str, cum: str = "0") -> MarginTier:
    return MarginTier(tier=1, floor=D(0), cap=None, mmr=D(mmr), cum=D(cum), max_leverage=D(100))


def btc(side: int, qty: str, entry: str) -> Exposure:
    return Exposure(side, D(qty), D(entry), D(1), linear=True)


def usd(side: int, contracts: str, entry: str) -> Exposure:
    return Exposure(side, D(contracts), D(entry), D(1), linear=False)


# Bybit "Liquidation Price (USDT Contract)": long 1 BTC @20,000, 50x, MMR 0.5 % → IM 400, MM 100
def test_linear_isolated_long_matches_bybit_example() -> None:
    ctx = MarginContext("isolated", D(400), D(50), tier("0.005"))

    price = BybitRules().liquidation_price(btc(1, "1", "20000"), ctx)

    assert price == D("19700")


def test_linear_fee_reserve_in_wallet_leaves_liquidation_price_unchanged() -> None:
    rules = BybitRules()
    pos = btc(1, "1", "20000")
    wallet = rules.isolated_margin(pos, D(50), TAKER)
    ctx = MarginContext("isolated", wallet, D(50), tier("0.005"), taker_fee=TAKER)

    price = rules.liquidation_price(pos, ctx)

    assert price is not None
    assert cents(price) == D("19700.00")


# Bybit "Bankruptcy Price (USDT Contract)": 1 BTC long @10,000, 50x → 9,800; close fee 7.35;
# order cost = IM 200 + open fee 7.50 + close fee 7.35 = 214.85
def test_bankruptcy_price_close_fee_and_order_cost_match_bybit_example() -> None:
    rules = BybitRules()
    pos = btc(1, "1", "10000")
    plain = MarginContext("isolated", D(200), D(50), tier("0.005"))
    wallet = rules.isolated_margin(pos, D(50), TAKER)
    with_fee = MarginContext("isolated", wallet, D(50), tier("0.005"), taker_fee=TAKER)

    plain_bp = rules.bankruptcy_price(pos, plain)
    close = rules.liquidation_close_price(pos, with_fee, mark=D("9840"))
    fee = rules.liquidation_fee(pos, with_fee, close)

    assert plain_bp == D("9800")
    assert cents(close) == D("9800.00")
    assert cents(fee) == D("7.35")
    assert cents(rules.order_cost(pos, D(50), TAKER)) == D("214.85")
    assert cents(wallet) == D("207.35")


# Bybit UTA isolated inverse: 60,000 USD @50,000, 10x, MMR 0.5 % → PV 1.2, IM 0.12, MM 0.006 BTC
def test_inverse_isolated_matches_bybit_uta_example() -> None:
    ctx = MarginContext("isolated", D("0.12"), D(10), tier("0.005"))
    rules = BybitRules()

    long_lp = rules.liquidation_price(usd(1, "60000", "50000"), ctx)
    short_lp = rules.liquidation_price(usd(-1, "60000", "50000"), ctx)

    assert long_lp is not None
    assert short_lp is not None
    assert cents(long_lp) == D("45662.10")
    assert cents(short_lp) == D("55248.62")


# Bybit legacy cross inverse: balance 0.5 BTC, long 10,000 @8,000 → 1.00075 × 10,000 / 1.75
def test_inverse_bankruptcy_with_close_fee_matches_legacy_example() -> None:
    ctx = MarginContext("cross", D("0.5"), D(10), tier("0.005"), taker_fee=TAKER)

    price = BybitRules().bankruptcy_price(usd(1, "10000", "8000"), ctx)

    assert price is not None
    assert cents(price) == D("5718.57")


def test_registry_and_rule_name() -> None:
    rules = rules_for("bybit")

    assert isinstance(rules, BybitRules)
    assert "bybit" in rules.name
    assert rules.approximate is False


sides = st.sampled_from([1, -1])
prices = st.decimals(min_value=D("1"), max_value=D("200000"), places=2)


@settings(max_examples=150, deadline=None)
@given(
    side=sides,
    qty=st.decimals(min_value=D("0.001"), max_value=D("100"), places=3),
    entry=prices,
    lev=st.integers(1, 100),
    taker=st.decimals(min_value=D(0), max_value=D("0.001"), places=5),
    linear=st.booleans(),
)
def test_isolated_liquidation_costs_exactly_the_position_margin(
    side: int, qty: Decimal, entry: Decimal, lev: int, taker: Decimal, linear: bool
) -> None:
    rules = BybitRules()
    pos = Exposure(side, qty if linear else qty * 1000, entry, D(1), linear)
    wallet = rules.isolated_margin(pos, D(lev), taker)
    ctx = MarginContext("isolated", wallet, D(lev), tier("0.005"), taker_fee=taker)
    mark = rules.bankruptcy_price(pos, ctx) or entry

    close = rules.liquidation_close_price(pos, ctx, mark)
    loss = -pnl(pos, close) + rules.liquidation_fee(pos, ctx, close)

    assert loss <= wallet * (1 + D("1e-20"))
    if rules.bankruptcy_price(pos, ctx) is not None:
        assert abs(loss - wallet) <= D("1e-18") * wallet


@settings(max_examples=150, deadline=None)
@given(
    side=sides,
    qty=st.decimals(min_value=D("0.001"), max_value=D("100"), places=3),
    entry=prices,
    lev=st.integers(2, 100),
)
def test_liquidation_precedes_bankruptcy(side: int, qty: Decimal, entry: Decimal, lev: int) -> None:
    rules = BybitRules()
    pos = btc(side, str(qty), str(entry))
    ctx = MarginContext("isolated", pos.notional(entry) / lev, D(lev), tier("0.005"))

    lp = rules.liquidation_price(pos, ctx)
    bp = rules.bankruptcy_price(pos, ctx)

    assert lp is not None
    assert bp is not None
    if side > 0:
        assert bp < lp < entry
    else:
        assert entry < lp < bp
