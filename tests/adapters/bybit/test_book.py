"""Bybit local book on the recorded XRPUSDT capture: best bid/ask and gap detection."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from adapters.bybit.book import BybitBook
from adapters.bybit.wire import BookUpdate, decode
from adapters.depth import Sync

BOOK = "bybit/ws_orderbook500_XRPUSDT_2024-12-01.jsonl"


def updates(shared_data: Path) -> list[BookUpdate]:
    lines = (shared_data / BOOK).read_text().splitlines()
    return [decode(json.loads(line))[0] for line in lines]  # type: ignore[misc]


def test_recorded_book_best_at_00_00_01_091(shared_data: Path) -> None:
    msgs = updates(shared_data)
    book = BybitBook("bybit", "XRP/USDT:USDT")
    upto = next(i for i, m in enumerate(msgs) if m.ts_ms == 1733011201091)

    results = {book.on_update(m) for m in msgs[: upto + 1]}

    top = book.top()
    # exchange-mechanics.md §B.6: best 1.9531/1.9532 at 2024-12-01T00:00:01.091Z
    assert results == {Sync.APPLIED}
    assert (top.bid, top.ask, top.ts_ms) == (Decimal("1.9531"), Decimal("1.9532"), 1733011201091)


def test_whole_capture_applies_without_gaps(shared_data: Path) -> None:
    book = BybitBook("bybit", "XRP/USDT:USDT")

    results = [book.on_update(m) for m in updates(shared_data)]

    assert results == [Sync.APPLIED] * 50
    assert book.update_id == 20254918
    assert book.gaps == 0


def test_skipped_delta_is_a_gap_until_the_next_snapshot(shared_data: Path) -> None:
    msgs = updates(shared_data)
    book = BybitBook("bybit", "XRP/USDT:USDT")
    for m in msgs[:5]:
        book.on_update(m)

    gap = book.on_update(msgs[6])  # msgs[5] never arrived
    waiting = book.on_update(msgs[7])
    again = book.on_update(msgs[0])  # a snapshot (as after a re-subscribe) starts over

    assert (gap, waiting, again) == (Sync.GAP, Sync.BUFFERED, Sync.APPLIED)
    assert book.gaps == 1
    assert book.top() is not None


def test_deltas_before_any_snapshot_are_ignored_and_repeats_are_stale(shared_data: Path) -> None:
    msgs = updates(shared_data)
    book = BybitBook("bybit", "XRP/USDT:USDT")

    before = book.on_update(msgs[1])
    book.on_update(msgs[0])
    book.on_update(msgs[1])
    repeat = book.on_update(msgs[1])

    assert (before, repeat) == (Sync.BUFFERED, Sync.STALE)
