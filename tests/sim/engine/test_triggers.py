"""The numpy search for the next row that can touch a level (sim/engine/triggers.py)."""

from __future__ import annotations

from decimal import Decimal as D

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine.market import BookDepth, BookTop, FundingRate, LastTrade, MarkPrice
from sim.engine.triggers import (
    EPS,
    PriceTape,
    TouchIndex,
    bar_ranges,
    first_inside,
    level_array,
    next_due_ms,
    tick_ranges,
)
from tests.sim.engine._account_fixtures import account, synthetic_spec

BTC = "BTC/USDT:USDT"


def test_tick_range_runs_from_the_previous_price_of_the_same_stream() -> None:
    stream = np.array([0, 1, 0, 1, 0])
    price = np.array([100.0, 7.0, 103.0, 6.0, 101.0])

    lo, hi = tick_ranges(stream, price, price)

    np.testing.assert_allclose(lo, [100, 7, 100, 6, 101], rtol=2 * EPS)
    np.testing.assert_allclose(hi, [100, 7, 103, 7, 103], rtol=2 * EPS)
    assert lo[2] < 100.0 < hi[2]  # widened: a level at exactly 100 is inside


def test_bar_range_joins_the_previous_close_to_the_bar() -> None:
    stream = np.array([0, 0])
    o, h = np.array([100.0, 90.0]), np.array([101.0, 92.0])
    low, c = np.array([99.0, 89.0]), np.array([100.5, 91.0])

    lo, hi = bar_ranges(stream, o, h, low, c)

    np.testing.assert_allclose(lo, [99, 89], rtol=2 * EPS)
    np.testing.assert_allclose(hi, [101, 100.5], rtol=2 * EPS)  # the gap down from 100.5


def test_first_inside_finds_the_first_range_holding_a_level_across_windows() -> None:
    n = 200_000
    lo = np.full(n, 10.0)
    hi = np.full(n, 11.0)
    lo[150_001], hi[150_001] = 11.5, 12.5
    levels = np.array([5.0, 12.0])

    assert first_inside(lo, hi, levels, 0, n) == 150_001
    assert first_inside(lo, hi, levels, 150_002, n) is None
    assert first_inside(lo, hi, levels, 0, 150_001) is None


def test_levels_none_stops_at_the_stream_and_empty_levels_skip_it() -> None:
    stream = np.array([0, 1, 0, 1])
    price = np.array([1.0, 50.0, 1.0, 60.0])
    lo, hi = tick_ranges(stream, price, price)
    index = TouchIndex(stream, lo, hi, 2)

    assert index.first_touch(0, 4, [np.array([]), None]) == 1
    assert index.first_touch(2, 4, [np.array([]), None]) == 3
    assert index.first_touch(0, 4, [np.array([]), np.array([55.0])]) == 3
    assert index.first_touch(0, 3, [np.array([]), np.array([55.0])]) == 3  # none before stop
    assert index.next_row(1, 2) == 3
    assert index.next_row(0, 3) is None


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 2), st.integers(90, 110)), min_size=1, max_size=120),
    st.lists(
        st.one_of(st.none(), st.lists(st.integers(85, 115), max_size=4)), min_size=3, max_size=3
    ),
    st.integers(0, 130),
)
def test_first_touch_equals_a_row_by_row_search(
    rows: list[tuple[int, int]], raw_levels: list, start: int
) -> None:
    stream = np.array([s for s, _ in rows])
    price = np.array([float(p) for _, p in rows])
    lo, hi = tick_ranges(stream, price, price)
    levels = [None if lv is None else np.sort(np.array(lv, dtype=float)) for lv in raw_levels]

    found = TouchIndex(stream, lo, hi, 3).first_touch(start, len(rows), levels)

    expected = len(rows)
    prev: dict[int, float] = {}
    for i, (s, p) in enumerate(rows):
        a, b = min(prev.get(s, p), p), max(prev.get(s, p), p)
        prev[s] = p
        lv = raw_levels[s]
        if i >= start and (lv is None or any(a <= x <= b for x in lv)):
            expected = i
            break
    assert found == expected


def test_level_array_sorts_decimals_as_floats_and_keeps_none() -> None:
    assert level_array(None) is None
    np.testing.assert_array_equal(level_array([D("3.5"), D("1.25")]), [1.25, 3.5])


def test_next_due_is_the_earliest_pending_funding_or_unexpired_expiry() -> None:
    dated = synthetic_spec("BTC/USDT:USDT-250926", kind="future", expiry_ms=9_000)
    acct = account(synthetic_spec(), dated)
    assert next_due_ms(acct) == 9_000

    acct.apply(FundingRate(acct.venue, BTC, 1_000, D("0.0001"), 8_000))

    assert next_due_ms(acct) == 8_000
    acct.expired.add(dated.symbol)
    acct.funding.mark_paid(BTC, 8_000)
    assert next_due_ms(acct) is None


def test_price_tape_splits_streams_and_plays_other_inputs_always() -> None:
    inputs = [
        LastTrade("binanceusdm", BTC, 1, D(100), D(1)),
        BookTop("binanceusdm", BTC, 2, D(99), D(1), D(101), D(1)),
        MarkPrice("binanceusdm", BTC, 3, D(100)),
        BookDepth("binanceusdm", BTC, 4, ((D(99), D(1)),), ((D(101), D(1)),)),
        LastTrade("binanceusdm", BTC, 5, D(102), D(1)),
    ]

    tape = PriceTape(inputs)

    assert tape.streams == [(BTC, "LastTrade"), (BTC, "BookTop"), (BTC, "MarkPrice")]
    assert tape.stream.tolist() == [0, 1, 2, 3, 0]
    assert tape.other == 3
    levels = [np.array([500.0]), np.array([500.0]), np.array([500.0]), None]
    assert tape.index.first_touch(0, 5, levels) == 3  # the depth row is always played
    assert tape.index.first_touch(4, 5, [np.array([101.0]), None, None, None]) == 4
