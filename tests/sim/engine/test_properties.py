"""Invariants over random order and price sequences (hypothesis)."""

from __future__ import annotations

import json
from decimal import Decimal as D

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.engine.account import Account
from sim.engine.commands import PlaceOrder
from sim.engine.events import Event
from sim.engine.market import FundingRate, LastTrade
from tests.sim.engine._account_fixtures import synthetic_spec

BTC = "BTC/USDT:USDT"
SPEC = synthetic_spec(tick="0.1", step="0.001", min_notional="5", mmr="0.004", max_leverage="125")

prices = st.integers(min_value=80_000, max_value=120_000).map(lambda x: D(x) / 2)  # tick 0.5
sides = st.sampled_from(["buy", "sell"])
order = st.fixed_dictionaries(
    {
        "side": sides,
        "order_type": st.sampled_from(["market", "limit", "stop_market", "take_profit_market"]),
        "contracts": st.integers(1, 50).map(lambda x: D(x) / 1000),
        "offset": st.integers(-300, 300),
        "leverage": st.sampled_from([D(2), D(10), D(50), D(100)]),
        "mode": st.sampled_from(["isolated", "cross"]),
        "reduce_only": st.booleans(),
    }
)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("price"), prices),
        st.tuples(st.just("order"), order),
        st.tuples(st.just("funding"), st.integers(-100, 100)),
    ),
    min_size=1,
    max_size=40,
)


def _inputs(seq: list[tuple[str, object]]) -> list[object]:
    out: list[object] = []
    ts = 1_000
    last = D(50000)
    for kind, value in seq:
        ts += 60_000
        if kind == "price":
            last = value  # type: ignore[assignment]
            out.append(LastTrade("binanceusdm", BTC, ts, last, D(0)))
        elif kind == "funding":
            out.append(FundingRate("binanceusdm", BTC, ts, D(value) / 100000, ts))  # type: ignore[arg-type]
        else:
            o = dict(value)  # type: ignore[call-overload]
            px = last + D(o["offset"]) / 2
            out.append(
                PlaceOrder(
                    ts_ms=ts,
                    symbol=BTC,
                    side=o["side"],
                    order_type=o["order_type"],
                    contracts=o["contracts"],
                    leverage=o["leverage"],
                    margin_mode=o["mode"],
                    price=px if o["order_type"] == "limit" else None,
                    trigger_price=px
                    if o["order_type"] != "limit" and o["order_type"] != "market"
                    else None,
                    reduce_only=o["reduce_only"],
                )
            )
    return out


def _run(acct: Account, inputs: list[object]) -> list[Event]:
    events: list[Event] = []
    for inp in inputs:
        events.extend(acct.apply(inp))
    return events


def _fresh() -> Account:
    acct = Account("prop", {BTC: SPEC}, slippage_bps=D(2), mark_from_last=True)
    acct.balances["USDT"] = D(10000)
    return acct


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(steps)
def test_money_is_conserved_to_the_cent(seq: list[tuple[str, object]]) -> None:
    acct = _fresh()

    events = _run(acct, _inputs(seq))

    realized = sum(
        (
            getattr(e, "realized_pnl", D(0))
            for e in events
            if e.kind in ("OrderFilled", "PositionLiquidated", "PositionSettled")
        ),
        D(0),
    )
    fees = sum(
        (
            e.fee
            for e in events
            if e.kind in ("OrderFilled", "PositionLiquidated", "PositionSettled")
        ),
        D(0),
    )  # type: ignore[attr-defined]
    funding = sum((e.amount for e in events if e.kind == "FundingPaid"), D(0))  # type: ignore[attr-defined]
    expected = D(10000) + realized - fees + funding
    assert abs(acct.wallets()["USDT"] - expected) < D("0.01")
    # Closed trades add up to the same realized money.
    trades = [e for e in events if e.kind == "TradeClosed"]
    open_pos = acct.positions_by_symbol.get(BTC)
    in_trade = open_pos.realized - open_pos.fees + open_pos.funding if open_pos else D(0)
    total = sum((t.realized_pnl - t.fees + t.funding for t in trades), D(0)) + in_trade  # type: ignore[attr-defined]
    assert abs(total - (expected - D(10000))) < D("0.01")


@FAST
@given(steps)
def test_isolated_liquidation_never_takes_more_than_the_margin(
    seq: list[tuple[str, object]],
) -> None:
    acct = _fresh()

    events = _run(acct, _inputs(seq))

    for e in events:
        if e.kind == "PositionLiquidated" and e.margin_mode == "isolated":  # type: ignore[attr-defined]
            assert e.loss <= e.wallet_before  # type: ignore[attr-defined]


@FAST
@given(steps)
def test_fills_stay_inside_what_the_data_printed_plus_slippage(
    seq: list[tuple[str, object]],
) -> None:
    acct = _fresh()
    inputs = _inputs(seq)
    printed = [i.price for i in inputs if isinstance(i, LastTrade)]

    events = _run(acct, inputs)

    if printed:
        lo, hi = min(printed) * D("0.9998") - D("0.1"), max(printed) * D("1.0002") + D("0.1")
        for e in events:
            if e.kind == "OrderFilled":
                assert lo <= e.price <= hi  # type: ignore[attr-defined]


@FAST
@given(steps, st.integers(0, 40))
def test_restore_from_snapshot_continues_exactly(seq: list[tuple[str, object]], cut: int) -> None:
    inputs = _inputs(seq)
    cut = min(cut, len(inputs))
    original = _fresh()
    _run(original, inputs[:cut])
    twin = Account.restore(json.loads(json.dumps(original.snapshot())), {BTC: SPEC})

    assert _run(original, inputs[cut:]) == _run(twin, inputs[cut:])
    assert original.snapshot() == twin.snapshot()


@FAST
@given(steps)
def test_same_inputs_same_events(seq: list[tuple[str, object]]) -> None:
    inputs = _inputs(seq)

    assert _run(_fresh(), inputs) == _run(_fresh(), inputs)
