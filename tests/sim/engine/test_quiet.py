"""Half-line bounds of an account (sim/engine/quiet.py) and their search (triggers.first_escape)."""

from __future__ import annotations

from decimal import Decimal as D

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from sim.engine.commands import Deposit, PlaceOrder
from sim.engine.market import LastTrade
from sim.engine.quiet import quiet_bounds
from sim.engine.triggers import Bounds, first_escape, stays_inside, widen
from tests.sim.engine._account_fixtures import account, synthetic_spec

BTC = "BTC/USDT:USDT"


def test_a_row_reaching_either_half_line_stops_the_search() -> None:
    lo, hi = widen(np.array([99.0, 98.0, 97.0]), np.array([101.0, 102.0, 103.0]))

    assert first_escape(lo, hi, Bounds(down=96.0, up=102.5), 0, 3) == 2  # the high 103
    assert first_escape(lo, hi, Bounds(down=98.0, up=110.0), 0, 3) == 1  # the low at the level
    assert first_escape(lo, hi, Bounds(down=97.5, up=110.0), 0, 3) == 2  # the low 97
    assert first_escape(lo, hi, Bounds(down=90.0, up=110.0), 0, 3) is None


def test_a_sell_trailing_stop_fires_from_the_running_high_not_from_its_old_extreme() -> None:
    # extreme 100, callback 1 %: highs 100.5, 102, 101.5 lift it to 102, so the low of 100.9 in
    # the third row is below 102 × 0.99 = 100.98 although it stays above 100 × 0.99 = 99.
    lo, hi = widen(np.array([100.2, 101.5, 100.9]), np.array([100.5, 102.0, 101.5]))
    trailing = Bounds(trail_high=((100.0, 0.99),))

    assert first_escape(lo, hi, trailing, 0, 3) == 2
    assert first_escape(lo, hi, Bounds(down=99.0), 0, 3) is None


def test_the_span_check_agrees_with_the_row_search_on_the_worked_rows() -> None:
    lo, hi = widen(np.array([100.2, 101.5, 100.9]), np.array([100.5, 102.0, 101.5]))

    assert not stays_inside(list(lo), list(hi), Bounds(trail_high=((100.0, 0.99),)))  # row 2
    assert stays_inside(list(lo), list(hi), Bounds(down=99.0))
    assert not stays_inside(list(lo), list(hi), Bounds(down=99.0, up=102.0))  # the high 102
    assert stays_inside([], [], Bounds(down=1e9))  # no rows: nothing can happen


prices = st.floats(90, 110, allow_nan=False)


@given(
    rows=st.lists(st.tuples(prices, prices), min_size=1, max_size=40),
    down=st.one_of(st.just(-np.inf), prices),
    up=st.one_of(st.just(np.inf), prices),
    highs=st.lists(st.tuples(prices, st.floats(0.9, 0.999)), max_size=2),
    lows=st.lists(st.tuples(prices, st.floats(1.001, 1.1)), max_size=2),
)
def test_a_span_judged_quiet_has_no_row_the_search_would_play(
    rows: list[tuple[float, float]],
    down: float,
    up: float,
    highs: list[tuple[float, float]],
    lows: list[tuple[float, float]],
) -> None:
    """``stays_inside`` (min/max of the span) may only say "quiet" when ``first_escape`` (row
    by row, moving trailing extremes) finds nothing: a wrong "quiet" would skip a fill."""
    lo, hi = widen(np.array([min(r) for r in rows]), np.array([max(r) for r in rows]))
    bounds = Bounds(down, up, tuple(highs), tuple(lows))
    if stays_inside(lo.tolist(), hi.tolist(), bounds):
        assert first_escape(lo, hi, bounds, 0, len(rows)) is None


def test_bounds_of_a_long_with_a_limit_below_and_a_take_profit_above() -> None:
    acct = account(synthetic_spec(BTC))
    acct.apply(Deposit(ts_ms=0, currency="USDT", amount=D(10_000)))
    acct.apply(LastTrade("binanceusdm", BTC, 1, D(100), D(1)))
    common = {"ts_ms": 2, "symbol": BTC, "contracts": D(10)}
    acct.apply(PlaceOrder(side="buy", leverage=D(10), margin_mode="isolated", **common))  # type: ignore[arg-type]
    acct.apply(PlaceOrder(side="buy", order_type="limit", price=D(95), **common))  # type: ignore[arg-type]
    acct.apply(PlaceOrder(side="sell", order_type="take_profit_market", trigger_price=D(110),  # type: ignore[arg-type]
                          reduce_only=True, **common))  # fmt: skip
    lp = acct.view(BTC).liquidation_price  # type: ignore[union-attr]

    b = quiet_bounds(acct.state, acct.matching, [BTC])[BTC]

    assert lp is not None
    assert lp < 95  # 10x isolated: about 10 % below the entry
    assert b == Bounds(down=95.0, up=110.0)
    acct.apply(PlaceOrder(side="sell", order_type="trailing_stop_market", callback_pct=D(2),  # type: ignore[arg-type]
                          reduce_only=True, **common))  # fmt: skip
    b = quiet_bounds(acct.state, acct.matching, [BTC])[BTC]
    assert b is not None
    assert b.trail_high == ((100.0, 0.98),)
    assert b.up == 110.0
    assert b.down == 95.0
