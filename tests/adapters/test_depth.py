"""The price-level book: its sorted best-first views always agree with a plain recomputation."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from adapters.depth import LevelBook

prices = st.integers(1, 60).map(lambda n: Decimal(n) / 4)  # a tick of 0.25, many collisions
sizes = st.sampled_from([Decimal(0), Decimal("0.5"), Decimal(1), Decimal(3)])
levels = st.lists(st.tuples(prices, sizes), max_size=15)


@given(snapshot=st.tuples(levels, levels), updates=st.lists(st.tuples(levels, levels), max_size=8))
def test_best_levels_match_a_full_sort_after_any_updates(
    snapshot: tuple[list, list], updates: list[tuple[list, list]]
) -> None:
    book = LevelBook("v", "s")
    book.replace(*snapshot)

    for bids, asks in updates:
        book.depth(0, 5)  # shown levels are cached: every later update must redraw correctly
        book.apply(bids, asks)

    depth = book.depth(0, 5)
    assert depth.bids == tuple(sorted(book.bids.items(), reverse=True)[:5])
    assert depth.asks == tuple(sorted(book.asks.items())[:5])
    assert all(q > 0 for q in (*book.bids.values(), *book.asks.values()))
    top = book.top(0)
    if book.bids and book.asks:
        assert (top.bid, top.ask) == (max(book.bids), min(book.asks))
    else:
        assert top is None


def test_zero_quantity_removes_and_new_price_inserts() -> None:
    book = LevelBook("v", "s")
    book.replace([(Decimal(10), Decimal(1)), (Decimal(9), Decimal(1))], [(Decimal(11), Decimal(2))])

    book.apply(
        [(Decimal(10), Decimal(0)), (Decimal("9.5"), Decimal(4))], [(Decimal(12), Decimal(1))]
    )

    assert book.depth(0, 3).bids == ((Decimal("9.5"), Decimal(4)), (Decimal(9), Decimal(1)))
    assert book.depth(0, 3).asks == ((Decimal(11), Decimal(2)), (Decimal(12), Decimal(1)))


def test_wire_strings_and_decimals_give_the_same_book() -> None:
    as_text, as_decimal = LevelBook("v", "s"), LevelBook("v", "s")
    levels = [("100.50", "2"), ("100.5", "3"), ("99", "0.000"), ("101.25", "1.5")]

    as_text.replace(levels, [("102", "1")])
    as_decimal.replace([(Decimal(p), Decimal(q)) for p, q in levels], [(Decimal(102), Decimal(1))])

    assert (
        as_text.bids
        == as_decimal.bids
        == {Decimal("100.5"): Decimal(3), Decimal("101.25"): Decimal("1.5")}
    )
    assert as_text.depth(0, 5) == as_decimal.depth(0, 5)
    assert as_text.top(0).bid == Decimal("101.25")
