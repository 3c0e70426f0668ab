"""Chart bars: built from the prices fed (live), never ahead of the session's clock."""

from __future__ import annotations

from decimal import Decimal

from sim.web.candles import CandleBook

D = Decimal


def test_bars_built_from_last_prices_per_period():
    book = CandleBook(60_000)
    for ts, price, qty in [
        (120_000, "100", "1"), (130_000, "103", "2"), (150_000, "99", "0.5"),
        (179_999, "101", "1"), (180_000, "102", "3"),
    ]:  # fmt: skip
        book.observe("X", ts, D(price), D(qty))
    bars = book.bars("X", now_ms=180_000)
    assert bars == [
        {"time": 120, "open": 100.0, "high": 103.0, "low": 99.0, "close": 101.0, "volume": 4.5},
        {"time": 180, "open": 102.0, "high": 102.0, "low": 102.0, "close": 102.0, "volume": 3.0},
    ]
    assert book.bars("X", now_ms=179_999, n=5) == bars[:1]  # none opens after the clock
    assert book.bars("X", now_ms=180_000, n=1) == bars[1:]
    assert book.bars("Y", now_ms=180_000) == []


def test_an_older_price_never_reopens_a_closed_bar():
    book = CandleBook(60_000)
    book.observe("X", 120_000, D("100"), D("1"))
    book.observe("X", 60_000, D("50"), D("1"))  # late print from an earlier minute: dropped
    assert [b["time"] for b in book.bars("X", now_ms=200_000)] == [120]
