"""Money invariants on three symbols and two wallets, cross and isolated, with liquidations.

``tests/sim/engine/test_properties.py`` covers one symbol with the last price as mark; here
mark and last move apart, two linear symbols share the USDT wallet and an inverse one has its
BTC wallet, leverage reaches 100x and prices walk up to ±60 %, so cross and isolated
liquidations, funding and flips all happen.
"""

from __future__ import annotations

import json
from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from sim.engine.account import Account
from sim.engine.commands import PlaceOrder
from sim.engine.events import Event
from sim.engine.market import FundingRate, LastTrade, MarkPrice
from sim.engine.risk import cross_ratio
from tests.properties.conftest import scenarios
from tests.sim.engine._account_fixtures import synthetic_spec

BTC, ETH, INV = "BTC/USDT:USDT", "ETH/USDT:USDT", "BTC/USD:BTC"
SPECS = {
    # Coin-margined inverse perpetual, 100 USD a contract, settled in BTC: its own wallet.
    INV: synthetic_spec(
        INV,
        linear=False,
        contract_size="100",
        tick="0.1",
        step="1",
        min_amount="1",
        min_notional=None,
        mmr="0.005",
        max_leverage="125",
    ),
    BTC: synthetic_spec(BTC, tick="0.1", step="0.001", mmr="0.004", max_leverage="125"),
    ETH: synthetic_spec(ETH, tick="0.01", step="0.01", mmr="0.005", max_leverage="100"),
}
BASE = {BTC: D(50_000), ETH: D(2_500), INV: D(50_000)}
START = {"USDT": D(1_000), "BTC": D("0.02")}
CENT = {"USDT": D("0.01"), "BTC": D("0.00000001")}  # to the cent; to the satoshi in BTC
CLOSING = ("OrderFilled", "PositionLiquidated", "PositionSettled")

symbol = st.sampled_from([BTC, ETH, INV])
move_bp = st.integers(-400, 400)  # a step of the price walk, in basis points of the base price
order = st.fixed_dictionaries(
    {
        "side": st.sampled_from(["buy", "sell"]),
        "order_type": st.sampled_from(
            ["market", "market", "limit", "stop_market", "take_profit_market"]
        ),
        "units": st.integers(1, 40),
        "offset_bp": st.integers(-300, 300),
        "leverage": st.sampled_from([D(2), D(10), D(50), D(100)]),
        "reduce_only": st.booleans(),
    }
)
market_open = st.tuples(
    st.just("order"),
    symbol,
    st.fixed_dictionaries(
        {
            "side": st.sampled_from(["buy", "sell"]),
            "order_type": st.just("market"),
            "units": st.integers(5, 40),
            "offset_bp": st.just(0),
            "leverage": st.sampled_from([D(20), D(50), D(100)]),
            "reduce_only": st.just(False),
        }
    ),
)
# (margin mode per symbol, opening market orders, then a walk of prices, orders and funding)
steps = st.tuples(
    st.fixed_dictionaries({s: st.sampled_from(["isolated", "cross"]) for s in (BTC, ETH, INV)}),
    st.lists(market_open, min_size=1, max_size=3),
    st.lists(
        st.one_of(
            st.tuples(st.just("last"), symbol, move_bp),
            st.tuples(st.just("mark"), symbol, move_bp),
            st.tuples(st.just("both"), symbol, move_bp),
            st.tuples(st.just("order"), symbol, order),
            st.tuples(st.just("funding"), symbol, st.integers(-300, 300)),
        ),
        min_size=1,
        max_size=50,
    ),
)


def _px(sym: str, bp: int) -> D:
    return SPECS[sym].round_price(BASE[sym] * (1 + D(bp) / 10_000))


def _place(sym: str, o: dict, last: D, ts: int, mode: str) -> PlaceOrder:
    level = SPECS[sym].round_price(last * (1 + D(o["offset_bp"]) / 10_000))
    kind = o["order_type"]
    return PlaceOrder(
        ts_ms=ts,
        symbol=sym,
        side=o["side"],
        order_type=kind,
        contracts=SPECS[sym].amount_step * o["units"] * (10 if sym == BTC else 1),  # INV: 1-40
        leverage=o["leverage"],
        margin_mode=mode,
        price=level if kind == "limit" else None,
        trigger_price=level if kind in ("stop_market", "take_profit_market") else None,
        reduce_only=o["reduce_only"],
    )


def scenario(drawn: tuple) -> list[object]:
    """Inputs a minute apart; every symbol gets a last and a mark price first.

    Last and mark walk separately (each step moves one of them, or both, from where it was),
    kept within ±60 % of the base price.
    """
    modes, opening, walk = drawn
    ts = 1_000
    out: list[object] = []
    last = dict(BASE)
    at = {(s, k): 0 for s in SPECS for k in ("last", "mark")}
    for sym in SPECS:
        out += [
            LastTrade("binanceusdm", sym, ts, BASE[sym], D(0)),
            MarkPrice("binanceusdm", sym, ts, BASE[sym]),
        ]
    for kind, sym, value in [*opening, *walk]:
        ts += 60_000
        for k in ("last", "mark"):
            if kind in (k, "both"):
                at[sym, k] = max(-6000, min(6000, at[sym, k] + value))
        if kind in ("last", "both"):
            last[sym] = _px(sym, at[sym, "last"])
            out.append(LastTrade("binanceusdm", sym, ts, last[sym], D(0)))
        if kind in ("mark", "both"):
            out.append(MarkPrice("binanceusdm", sym, ts, _px(sym, at[sym, "mark"])))
        if kind == "funding":
            out.append(FundingRate("binanceusdm", sym, ts, D(value) / 100_000, ts))
        if kind == "order":
            out.append(_place(sym, value, last[sym], ts, modes[sym]))
    return out


def fresh() -> Account:
    acct = Account("prop", SPECS, slippage_bps=D(2))
    acct.balances.update(START)
    return acct


def run(acct: Account, inputs: list[object]) -> list[Event]:
    events: list[Event] = []
    for inp in inputs:
        events.extend(acct.apply(inp))
    return events


def _by_currency(events: list[Event], kinds: tuple[str, ...], field: str) -> dict[str, D]:
    out: dict[str, D] = {c: D(0) for c in START}
    for e in events:
        if e.kind in kinds:
            out[e.currency] += getattr(e, field)  # type: ignore[attr-defined]
    return out


@scenarios()
@given(steps)
def test_wallet_is_start_plus_realized_minus_fees_plus_funding_to_the_cent(seq: tuple) -> None:
    acct = fresh()

    events = run(acct, scenario(seq))

    realized = _by_currency(events, CLOSING, "realized_pnl")
    fees = _by_currency(events, CLOSING, "fee")
    funding = _by_currency(events, ("FundingPaid",), "amount")
    closed = _by_currency(events, ("TradeClosed",), "realized_pnl")
    closed_costs = _by_currency(events, ("TradeClosed",), "fees")
    closed_funding = _by_currency(events, ("TradeClosed",), "funding")
    for cur, unit in CENT.items():
        moved = realized[cur] - fees[cur] + funding[cur]
        assert abs(acct.wallets()[cur] - (START[cur] + moved)) < unit
        # Every closed round trip plus the open ones add up to the same money.
        open_ = sum(
            (
                p.realized - p.fees + p.funding
                for s, p in acct.positions_by_symbol.items()
                if SPECS[s].settle == cur
            ),
            D(0),
        )
        trips = closed[cur] - closed_costs[cur] + closed_funding[cur]
        assert abs(trips + open_ - moved) < unit


@scenarios()
@given(steps)
def test_isolated_liquidation_loses_at_most_the_position_margin(seq: tuple) -> None:
    acct = fresh()
    worst: list[tuple[D, D]] = []

    for inp in scenario(seq):
        before = acct.wallets()
        events = acct.apply(inp)
        isolated = [e for e in events if e.kind == "PositionLiquidated"]
        isolated = [e for e in isolated if e.margin_mode == "isolated"]  # type: ignore[attr-defined]
        if isolated and all(e.kind in ("PositionLiquidated", "OrderCancelled") for e in events):
            # Nothing else moved money in this input: each wallet fell by exactly its losses.
            for cur in START:
                lost = sum((e.loss for e in isolated if e.currency == cur), D(0))  # type: ignore[attr-defined]
                assert before[cur] - acct.wallets()[cur] == lost
        worst += [(e.loss, e.wallet_before) for e in isolated]  # type: ignore[attr-defined]

    for loss, margin in worst:
        assert loss <= margin


def _cross_liquidation_ratio(before: dict, events: list[Event]) -> D | None:
    """The cross margin ratio just before the first cross liquidation of an input, or None.

    Rebuilt from the snapshot taken before the input with only the liquidating mark applied;
    None when something else (a fill, funding) changed the account first in that input.
    """
    for i, e in enumerate(events):
        if e.kind != "PositionLiquidated":
            continue
        if (
            e.margin_mode != "cross"
            or any(  # type: ignore[attr-defined]
                x.kind in ("OrderFilled", "FundingPaid") for x in events[:i]
            )
        ):
            return None
        twin = Account.restore(before, SPECS)
        twin.marks[e.symbol] = e.mark_price  # type: ignore[attr-defined]
        return cross_ratio(twin, e.currency)  # type: ignore[attr-defined]
    return None


@scenarios(ci=60)
@given(steps)
def test_cross_liquidation_happens_exactly_when_the_margin_ratio_reaches_100_percent(
    seq: tuple,
) -> None:
    acct = fresh()

    for inp in scenario(seq):
        before = json.loads(json.dumps(acct.snapshot()))
        events = acct.apply(inp)

        ratio = _cross_liquidation_ratio(before, events)
        if ratio is not None:
            assert ratio >= D("0.999999999")
        moved = {e.kind for e in events} & {"OrderFilled", "PositionLiquidated"}
        pos = acct.positions_by_symbol.get(getattr(inp, "symbol", ""))
        survived = pos is not None and pos.margin_mode == "cross" and pos.contracts != 0
        if isinstance(inp, MarkPrice) and not moved and survived:
            # A cross position that survived its own mark is below 100 %.
            assert cross_ratio(acct, SPECS[pos.symbol].settle) < D("1.000000001")


@scenarios(ci=60)
@given(steps)
def test_a_cross_liquidation_never_leaves_the_cross_wallet_below_zero(seq: tuple) -> None:
    """Issue 13 #5: closes on the tick past bankruptcy used to leave −0.00225 USDT."""
    acct = fresh()

    for inp in scenario(seq):
        before = cross_wallets(acct)
        events = acct.apply(inp)
        for e in events:
            if e.kind != "PositionLiquidated" or e.margin_mode != "cross":  # type: ignore[attr-defined]
                continue
            cur = e.currency  # type: ignore[attr-defined]
            still_cross = [
                p
                for s, p in acct.positions_by_symbol.items()
                if SPECS[s].settle == cur and p.contracts != 0 and p.margin_mode == "cross"
            ]
            if not still_cross and before[cur] >= 0:
                assert cross_wallets(acct)[cur] >= 0


def cross_wallets(acct: Account) -> dict[str, D]:
    from sim.engine.risk import cross_wallet

    return {cur: cross_wallet(acct, cur) for cur in START}
