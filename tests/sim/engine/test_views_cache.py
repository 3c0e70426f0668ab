"""The margin cache changes nothing: cached views, ratios and events equal a fresh computation.

The reference functions below are the formulas as the engine computed them before the cache
(every position's terms from scratch, in the same order). After every input of random mark and
order sequences (isolated and cross, several symbols, tiers, linear and inverse, three venues'
rules) the cached numbers must be the same Decimals, digits and exponent included (``repr``),
and an account whose cache is dropped before every input must emit the same events.
"""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.engine import risk as liq
from sim.engine.account import Account
from sim.engine.commands import Deposit, PlaceOrder
from sim.engine.margin import liquidation_price as solve_liquidation
from sim.engine.margin import (
    maintenance_margin,
    margin_ratio,
    pnl,
    tier_at,
    unrealized_pnl,
)
from sim.engine.market import FundingRate, LastTrade, MarkPrice
from sim.engine.money import ZERO
from sim.engine.positions import PositionView
from sim.engine.risk import MarginCache, cross_ratio
from sim.engine.spec import MarginTier
from sim.engine.venues.base import MarginContext
from tests.sim.engine._account_fixtures import synthetic_spec

TIERS = (
    MarginTier(1, D(0), D(5_000), D("0.004"), D(0), D(125)),
    MarginTier(2, D(5_000), D(25_000), D("0.005"), D(5), D(100)),
    MarginTier(3, D(25_000), None, D("0.01"), D(130), D(50)),
)
INVERSE_TIERS = (
    MarginTier(1, D(0), D("0.05"), D("0.005"), D(0), D(125)),
    MarginTier(2, D("0.05"), None, D("0.01"), D("0.00025"), D(50)),
)
LINEAR = ["AAA/USDT:USDT", "BBB/USDT:USDT", "CCC/USDT:USDT", "DDD/USDT:USDT"]
INVERSE = ["AAA/USD:BTC", "BBB/USD:BTC", "CCC/USD:BTC"]
BASE = {"AAA": D(1000), "BBB": D(50), "CCC": D("2.5"), "DDD": D(20_000)}


# ---- the reference: the formulas before the cache ---------------------------------------------
def ref_cross_terms(acct: Account, currency: str) -> liq.CrossTerms:
    terms = []
    for s, p in sorted(acct.positions_by_symbol.items()):
        spec = acct.specs[s]
        if p.contracts == 0 or p.margin_mode != "cross" or spec.settle != currency:
            continue
        mark = acct.mark(s) or p.entry_price or ZERO
        exp = p.exposure(spec)
        terms.append(
            (s, maintenance_margin(exp, mark, tier_at(spec, exp, mark)), unrealized_pnl(exp, mark))
        )
    return liq.CrossTerms(liq.cross_wallet(acct, currency), tuple(terms))


def ref_context(acct: Account, symbol: str) -> MarginContext | None:
    pos = acct.positions_by_symbol.get(symbol)
    mark = acct.mark(symbol)
    if pos is None or pos.contracts == 0 or mark is None:
        return None
    spec = acct.specs[symbol]
    tier = tier_at(spec, pos.exposure(spec), mark)
    if pos.margin_mode == "isolated":
        return MarginContext("isolated", pos.isolated_margin, pos.leverage, tier, spec.taker_fee)
    cross = ref_cross_terms(acct, spec.settle)
    other_maint = ZERO
    other_upnl = ZERO
    for s, maint, upnl in cross.terms:
        if s != symbol:
            other_maint += maint
            other_upnl += upnl
    return MarginContext(
        "cross", cross.wallet, pos.leverage, tier, spec.taker_fee, other_maint, other_upnl
    )


def ref_lp(acct: Account, symbol: str) -> D | None:
    ctx = ref_context(acct, symbol)
    if ctx is None:
        return None
    pos = acct.positions_by_symbol[symbol]
    spec = acct.specs[symbol]
    # The bracket at the liquidation price (Binance FAQ), through the one shared function.
    return solve_liquidation(acct.rules, pos.exposure(spec), ctx, spec.tiers)[0]


def ref_ratio(acct: Account, currency: str) -> D:
    maint = ZERO
    upnl = ZERO
    cross = ref_cross_terms(acct, currency)
    for _, m, u in cross.terms:
        maint += m
        upnl += u
    return margin_ratio(maint, cross.wallet + upnl)


def ref_view(acct: Account, symbol: str) -> PositionView:
    pos = acct.positions_by_symbol[symbol]
    spec = acct.specs[symbol]
    exp = pos.exposure(spec)
    mark = acct.mark(symbol) or exp.entry_price
    maint = maintenance_margin(exp, mark, tier_at(spec, exp, mark))
    if pos.margin_mode == "isolated":
        ratio = margin_ratio(maint, pos.isolated_margin + pnl(exp, mark))
    else:
        ratio = ref_ratio(acct, spec.settle)
    return PositionView(
        symbol=symbol,
        side="long" if pos.side > 0 else "short",
        contracts=pos.contracts,
        entry_price=exp.entry_price,
        contract_size=spec.contract_size,
        leverage=pos.leverage,
        margin_mode=pos.margin_mode,
        isolated_margin=pos.isolated_margin,
        mark_price=acct.mark(symbol),
        notional=exp.notional(mark),
        unrealized_pnl=acct.unrealized(symbol),
        maintenance_margin=maint,
        margin_ratio=ratio,
        liquidation_price=ref_lp(acct, symbol),
        currency=spec.settle,
        funding=pos.funding,
    )


def assert_same_views(acct: Account, marked: str | None = None) -> None:
    """Cached numbers are the reference's, to the digit and exponent."""
    if marked is not None and acct.view(marked) is not None:
        assert repr(acct.view(marked)) == repr(ref_view(acct, marked))
    open_ = [s for s, p in sorted(acct.positions_by_symbol.items()) if p.contracts != 0]
    assert repr(acct.positions()) == repr([ref_view(acct, s) for s in open_])
    for s in acct.positions_by_symbol:
        assert repr(liq.liquidation_price(acct, s)) == repr(ref_lp(acct, s))
    for currency in {acct.specs[s].settle for s in acct.positions_by_symbol}:
        assert repr(liq.cross_terms(acct, currency)) == repr(ref_cross_terms(acct, currency))
        assert repr(cross_ratio(acct, currency)) == repr(ref_ratio(acct, currency))


# ---- random sessions ---------------------------------------------------------------------------
def build(venue: str, linear: bool) -> tuple[Account, list[str]]:
    if linear:
        symbols = LINEAR
        specs = {
            s: synthetic_spec(s, venue=venue, tick="0.01", step="0.001", tiers=TIERS)
            for s in symbols
        }
        cash = Deposit(ts_ms=1, currency="USDT", amount=D(60_000))
    else:
        symbols = INVERSE
        specs = {
            s: synthetic_spec(
                s,
                venue=venue,
                linear=False,
                contract_size="10",
                tick="0.01",
                step="1",
                min_amount="1",
                min_notional=None,
                taker="0.00075",
                tiers=INVERSE_TIERS,
            )
            for s in symbols
        }
        cash = Deposit(ts_ms=1, currency="BTC", amount=D("0.37"))
    acct = Account("cache", specs)
    acct.apply(cash)
    return acct, symbols


step = st.one_of(
    st.tuples(st.just("mark"), st.integers(0, 3), st.integers(-120, 120)),
    st.tuples(st.just("last"), st.integers(0, 3), st.integers(-120, 120)),
    st.tuples(
        st.just("order"),
        st.integers(0, 3),
        st.fixed_dictionaries(
            {
                "side": st.sampled_from(["buy", "sell"]),
                "size": st.integers(1, 40),
                "leverage": st.sampled_from([D(2), D(10), D(25), D(50)]),
                "mode": st.sampled_from(["isolated", "cross"]),
            }
        ),
    ),
    st.tuples(st.just("funding"), st.integers(0, 3), st.integers(-50, 50)),
)


def to_input(kind: str, symbol: str, arg: object, ts: int, linear: bool) -> object:
    base = BASE[symbol.split("/")[0]]
    if kind in ("mark", "last"):
        price = (base * (1 + D(arg) / 1000)).quantize(D("0.01"))  # type: ignore[arg-type]
        if kind == "mark":
            return MarkPrice("venue", symbol, ts, price)
        return LastTrade("venue", symbol, ts, price, D(1))
    if kind == "funding":
        return FundingRate("venue", symbol, ts, D(arg) / 100_000, ts + 1)  # type: ignore[arg-type]
    o = arg
    size = D(o["size"]) if not linear else D(o["size"]) / 10  # type: ignore[index]
    return PlaceOrder(
        ts_ms=ts,
        symbol=symbol,
        side=o["side"],  # type: ignore[index]
        contracts=size,
        leverage=o["leverage"],  # type: ignore[index]
        margin_mode=o["mode"],  # type: ignore[index]
    )


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    venue=st.sampled_from(["binanceusdm", "bybit", "okx"]),
    linear=st.booleans(),
    steps=st.lists(step, min_size=5, max_size=45),
)
def test_cached_numbers_and_events_equal_fresh(venue: str, linear: bool, steps: list) -> None:
    cached, symbols = build(venue, linear)
    cold, _ = build(venue, linear)
    ts = 10
    for sym in symbols:  # every symbol has a last and a mark before orders
        ts += 1
        for acct in (cached, cold):
            base = BASE[sym.split("/")[0]]
            acct.apply(LastTrade("venue", sym, ts, base, D(1)))
            acct.apply(MarkPrice("venue", sym, ts, base))
    for kind, idx, arg in steps:
        ts += 1_000
        sym = symbols[idx % len(symbols)]
        inp = to_input(kind, sym, arg, ts, linear)
        got = cached.apply(inp)
        cold.margin_cache = MarginCache()  # nothing kept: every number computed afresh
        want = cold.apply(inp)
        assert repr(got) == repr(want)
        assert_same_views(cached, sym if kind == "mark" else None)
    assert cached.snapshot() == cold.snapshot()


def test_direct_writes_are_seen() -> None:
    """State written around ``apply`` (a wallet, a margin) replaces objects the cache compares."""
    acct, symbols = build("binanceusdm", linear=True)
    for i, sym in enumerate(symbols):
        base = BASE[sym.split("/")[0]]
        acct.apply(MarkPrice("venue", sym, 10 + i, base))
        acct.apply(LastTrade("venue", sym, 10 + i, base, D(1)))
        mode = "cross" if i % 2 else "isolated"
        acct.apply(PlaceOrder(ts_ms=20 + i, symbol=sym, side="buy", contracts=D(1), leverage=D(10),
                              margin_mode=mode))  # fmt: skip
    assert_same_views(acct)
    acct.balances["USDT"] = D("12345.67")
    assert_same_views(acct)
    acct.positions_by_symbol[symbols[0]].isolated_margin = D(7)
    assert_same_views(acct)
    acct.marks[symbols[1]] = D("1000.00")  # same number as before, written differently
    assert_same_views(acct, symbols[1])
    acct.upnl_price = "last"
    acct.apply(LastTrade("venue", symbols[1], 99, D("990.5"), D(1)))
    assert_same_views(acct, symbols[1])


def test_mark_refreshes_only_the_marked_position() -> None:
    """A cross mark recomputes one position's numbers; the others' slots are reused."""
    acct, symbols = build("binanceusdm", linear=True)
    for i, sym in enumerate(symbols):
        base = BASE[sym.split("/")[0]]
        acct.apply(MarkPrice("venue", sym, 10 + i, base))
        acct.apply(LastTrade("venue", sym, 10 + i, base, D(1)))
        acct.apply(PlaceOrder(ts_ms=20 + i, symbol=sym, side="sell", contracts=D(1), leverage=D(5),
                              margin_mode="cross"))  # fmt: skip
    acct.positions()
    versions = {s: acct.margin_cache.slots[s].version for s in symbols}
    before = acct.view(symbols[1])
    acct.apply(MarkPrice("venue", symbols[0], 100, D("1001.5")))
    after = {s: acct.margin_cache.slots[s].version for s in symbols}
    assert after[symbols[0]] == versions[symbols[0]] + 1
    assert all(after[s] == versions[s] for s in symbols[1:])
    view = acct.view(symbols[1])
    assert view is not None
    assert before is not None
    assert view.margin_ratio != before.margin_ratio  # the wallet's ratio moved with the mark
    assert view.liquidation_price != before.liquidation_price
    assert repr(view) == repr(ref_view(acct, symbols[1]))
