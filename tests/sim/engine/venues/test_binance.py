"""BinanceRules against the Binance FAQ examples (exchange-mechanics.md §A.2/§A.3)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine.margin import maintenance_margin, pnl
from sim.engine.money import cents
from sim.engine.spec import MarginTier
from sim.engine.venues import BinanceRules, Exposure, GenericRules, MarginContext, rules_for

D = Decimal


def tier(mmr: str, cum: str = "0") -> MarginTier:
    return MarginTier(tier=1, floor=D(0), cap=None, mmr=D(mmr), cum=D(cum), max_leverage=D(125))


def linear(side: int, qty: str, entry: str) -> Exposure:
    return Exposure(
        side=side, contracts=D(qty), entry_price=D(entry), contract_size=D(1), linear=True
    )


ETH = linear(1, "3683.979", "1456.84")
BTC = linear(1, "109.488", "32481.98")
ETH_TIER = tier("0.10", "135365")
BTC_TIER = tier("0.025", "16300")
WALLET = D("1535443.01")


# Binance FAQ "How to Calculate Liquidation Price of USDⓈ-M Futures Contracts", ETHUSDT isolated
def test_isolated_eth_long_matches_binance_faq() -> None:
    ctx = MarginContext("isolated", WALLET, D(10), ETH_TIER)

    price = BinanceRules().liquidation_price(ETH, ctx)

    assert price is not None
    assert cents(price) == D("1114.78")


# Binance FAQ, BTCUSDT isolated
def test_isolated_btc_long_matches_binance_faq() -> None:
    ctx = MarginContext("isolated", WALLET, D(10), BTC_TIER)

    price = BinanceRules().liquidation_price(BTC, ctx)

    assert price is not None
    assert cents(price) == D("18778.73")


# Binance FAQ, ETHUSDT cross with the BTC position marked at 31,967.27
def test_cross_eth_long_matches_binance_faq() -> None:
    mark = D("31967.27")
    ctx = MarginContext(
        "cross",
        WALLET,
        D(10),
        ETH_TIER,
        other_maint=maintenance_margin(BTC, mark, BTC_TIER),
        other_upnl=pnl(BTC, mark),
    )

    price = BinanceRules().liquidation_price(ETH, ctx)

    assert price is not None
    assert cents(price) == D("1153.26")


# Binance FAQ, BTCUSDT cross with the ETH position marked at 1,335.18
def test_cross_btc_long_matches_binance_faq() -> None:
    mark = D("1335.18")
    ctx = MarginContext(
        "cross",
        WALLET,
        D(10),
        BTC_TIER,
        other_maint=maintenance_margin(ETH, mark, ETH_TIER),
        other_upnl=pnl(ETH, mark),
    )

    price = BinanceRules().liquidation_price(BTC, ctx)

    assert price is not None
    assert cents(price) == D("26316.89")


# exchange-mechanics.md §A.2 micro case: 0.01 BTC @60,000, 10x → wallet = IM = 60, tier 1 0.4 %
def test_micro_isolated_long_and_short() -> None:
    rules = BinanceRules()
    ctx = MarginContext("isolated", D(60), D(10), tier("0.004"))

    long_lp = rules.liquidation_price(linear(1, "0.01", "60000"), ctx)
    short_lp = rules.liquidation_price(linear(-1, "0.01", "60000"), ctx)

    assert long_lp is not None
    assert short_lp is not None
    assert cents(long_lp) == D("54216.87")
    assert cents(short_lp) == D("65737.05")


def test_isolated_liquidation_closes_at_bankruptcy_and_loses_exactly_the_margin() -> None:
    rules = BinanceRules()
    pos = linear(1, "0.01", "60000")
    ctx = MarginContext("isolated", D(60), D(10), tier("0.004"))

    close = rules.liquidation_close_price(pos, ctx, mark=D("54000"))
    loss = -pnl(pos, close) + rules.liquidation_fee(pos, ctx, close)

    assert close == D("54000")  # 60,000 − 60 / 0.01
    assert rules.bankruptcy_price(pos, ctx) == D("54000")
    assert loss == D(60)


def test_one_x_long_is_never_liquidated() -> None:
    ctx = MarginContext("isolated", D(600), D(1), tier("0.004"))

    assert BinanceRules().liquidation_price(linear(1, "0.01", "60000"), ctx) is None


def test_registry_maps_ccxt_ids() -> None:
    assert isinstance(rules_for("binanceusdm"), BinanceRules)
    assert isinstance(rules_for("binancecoinm"), BinanceRules)
    assert type(rules_for("okx")) is GenericRules
    assert rules_for("okx").approximate is True
    assert BinanceRules.approximate is False


sides = st.sampled_from([1, -1])
prices = st.decimals(min_value=D("0.5"), max_value=D("200000"), places=2)
qtys = st.decimals(min_value=D("0.001"), max_value=D("500"), places=3)
leverages = st.integers(min_value=1, max_value=100)
mmrs = st.decimals(min_value=D("0.001"), max_value=D("0.005"), places=4)
cums = st.decimals(min_value=D(0), max_value=D("5000"), places=2)


def _close(a: Decimal, b: Decimal) -> bool:
    return abs(a - b) <= D("1e-15") * max(D(1), abs(a), abs(b))


@settings(max_examples=150, deadline=None)
@given(side=sides, qty=qtys, entry=prices, lev=leverages, mmr=mmrs, cum=cums)
def test_linear_margin_balance_equals_maintenance_at_liquidation_price(
    side: int, qty: Decimal, entry: Decimal, lev: int, mmr: Decimal, cum: Decimal
) -> None:
    pos = linear(side, str(qty), str(entry))
    t = tier(str(mmr), str(cum))
    ctx = MarginContext("isolated", pos.notional(entry) / lev, D(lev), t)

    lp = BinanceRules().liquidation_price(pos, ctx)

    if lp is not None:
        assert _close(ctx.wallet + pnl(pos, lp), maintenance_margin(pos, lp, t))


@settings(max_examples=150, deadline=None)
@given(side=sides, contracts=st.integers(1, 10_000), entry=prices, lev=leverages, mmr=mmrs)
def test_inverse_margin_balance_equals_maintenance_at_liquidation_price(
    side: int, contracts: int, entry: Decimal, lev: int, mmr: Decimal
) -> None:
    pos = Exposure(side, D(contracts), entry, D(100), linear=False)
    t = tier(str(mmr), "0.001")
    ctx = MarginContext("isolated", pos.notional(entry) / lev, D(lev), t)

    lp = BinanceRules().liquidation_price(pos, ctx)

    if lp is not None:
        assert _close(ctx.wallet + pnl(pos, lp), maintenance_margin(pos, lp, t))


@settings(max_examples=150, deadline=None)
@given(side=sides, qty=qtys, entry=prices, lev=st.integers(2, 100), mmr=mmrs)
def test_liquidation_is_on_the_losing_side_of_entry(
    side: int, qty: Decimal, entry: Decimal, lev: int, mmr: Decimal
) -> None:
    pos = linear(side, str(qty), str(entry))
    ctx = MarginContext("isolated", pos.notional(entry) / lev, D(lev), tier(str(mmr)))

    lp = BinanceRules().liquidation_price(pos, ctx)
    bp = BinanceRules().bankruptcy_price(pos, ctx)

    assert lp is not None
    assert bp is not None
    if side > 0:
        assert bp < lp < entry
    else:
        assert entry < lp < bp


@settings(max_examples=150, deadline=None)
@given(side=sides, qty=qtys, entry=prices, lev=leverages, mmr=mmrs, linear_=st.booleans())
def test_generic_equals_binance_when_cum_is_zero(
    side: int, qty: Decimal, entry: Decimal, lev: int, mmr: Decimal, linear_: bool
) -> None:
    pos = Exposure(side, qty, entry, D(1) if linear_ else D(100), linear_)
    ctx = MarginContext("isolated", pos.notional(entry) / lev, D(lev), tier(str(mmr)))

    generic = GenericRules().liquidation_price(pos, ctx)
    binance = BinanceRules().liquidation_price(pos, ctx)

    assert (generic is None) == (binance is None)
    if generic is not None and binance is not None:
        assert _close(generic, binance)


# Binance COIN-M FAQ: 10 contracts × 100 USD at 9,800, 20x → initial margin 0.0051 BTC
def test_coinm_initial_margin_through_isolated_margin() -> None:
    pos = Exposure(1, D(10), D(9800), D(100), linear=False)

    im = BinanceRules().isolated_margin(pos, D(20), D("0.0005"))

    assert im.quantize(D("0.0001")) == D("0.0051")


@settings(max_examples=150, deadline=None)
@given(side=sides, qty=qtys, entry=prices, lev=leverages, mmr=mmrs, linear_=st.booleans())
def test_isolated_liquidation_never_takes_more_than_the_margin(
    side: int, qty: Decimal, entry: Decimal, lev: int, mmr: Decimal, linear_: bool
) -> None:
    rules = BinanceRules()
    pos = Exposure(side, qty, entry, D(1) if linear_ else D(100), linear_)
    wallet = rules.isolated_margin(pos, D(lev), D("0.0005"))
    ctx = MarginContext("isolated", wallet, D(lev), tier(str(mmr)), taker_fee=D("0.0005"))
    lp = rules.liquidation_price(pos, ctx)
    mark = lp * (1 - side * D("0.05")) if lp is not None else entry  # gapped past the LP

    close = rules.liquidation_close_price(pos, ctx, mark)
    loss = -pnl(pos, close) + rules.liquidation_fee(pos, ctx, close)

    assert loss <= wallet * (1 + D("1e-20"))


_TIERS = (
    MarginTier(tier=1, floor=D(0), cap=D(50000), mmr=D("0.004"), cum=D(0), max_leverage=D(125)),
    MarginTier(
        tier=2, floor=D(50000), cap=D(250000), mmr=D("0.005"), cum=D(50), max_leverage=D(100)
    ),
    MarginTier(tier=3, floor=D(250000), cap=None, mmr=D("0.01"), cum=D(1300), max_leverage=D(50)),
)


@settings(max_examples=200, deadline=None)
@given(
    side=st.sampled_from([1, -1]),
    contracts=st.decimals("0.001", "500", places=3),
    entry=st.decimals("1", "100000", places=2),
    wallet=st.decimals("0", "2000000", places=2),
    mode=st.sampled_from(["isolated", "cross"]),
    linear_=st.booleans(),
)
def test_prices_by_tier_is_liquidation_price_per_tier(
    side: int, contracts: Decimal, entry: Decimal, wallet: Decimal, mode: str, linear_: bool
) -> None:
    """The bracket search loop gives exactly (value and digits) one call per bracket."""
    pos = Exposure(side, contracts, entry, D(1) if linear_ else D(100), linear_)
    ctx = MarginContext(mode, wallet, D(10), _TIERS[0], other_maint=D("12.5"), other_upnl=D(-3))
    rules = BinanceRules()

    got = list(rules.prices_by_tier(pos, ctx, _TIERS))

    want = [(t, rules.liquidation_price(pos, replace(ctx, tier=t))) for t in _TIERS]
    assert [(t, str(p)) for t, p in got] == [(t, str(p)) for t, p in want]
