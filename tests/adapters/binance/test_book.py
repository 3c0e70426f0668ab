"""Binance local book: recorded snapshot + diffs rebuild the recorded best bid/ask; gaps resync."""

from __future__ import annotations

import gzip
import json
from decimal import Decimal
from itertools import islice
from pathlib import Path

from adapters.binance.book import BinanceBook
from adapters.binance.wire import DepthDiff, DepthSnapshot, decode
from adapters.depth import Sync
from sim.engine.market import BookTop

USDM = "binanceusdm/ws_raw_btcusdt_20240808.gz"
COINM = "binancecoinm/ws_raw_btcusd_perp_20240808.gz"
NONCE_LINE = 7648  # the diff with u = 5123110362378 (exchange-mechanics.md §B.6)


def items(path: Path, n: int, venue: str, symbol: str) -> list:
    with gzip.open(path, "rt") as f:
        frames = [json.loads(line.split(" ", 1)[1]) for line in islice(f, n)]
    return [i for fr in frames for i in decode(venue, fr, symbol_hint=symbol)]


def rebuild(book: BinanceBook, stream: list) -> BookTop | None:
    """Feed a decoded capture slice into ``book``; return the last bookTicker seen."""
    ticker = None
    for item in stream:
        if isinstance(item, DepthDiff):
            assert book.on_diff(item) is not Sync.GAP
        elif isinstance(item, DepthSnapshot):
            assert book.on_snapshot(item) is Sync.APPLIED
        elif isinstance(item, BookTop):
            ticker = item
    return ticker


def test_recorded_capture_rebuilds_to_ccxt_nonce_and_best(shared_data: Path) -> None:
    book = BinanceBook("binanceusdm", "BTC/USDT:USDT")

    ticker = rebuild(book, items(shared_data / USDM, NONCE_LINE, "binanceusdm", "BTC/USDT:USDT"))

    top = book.top()
    # §B.6: ccxt's watch_order_book on this capture: nonce 5123110362378, best 61827.9/61828.0
    assert book.last_id == 5123110362378
    assert (top.bid, top.ask) == (Decimal("61827.90"), Decimal("61828.00"))
    # and the venue's own bookTicker at that moment says the same, sizes included
    assert (ticker.bid, ticker.bid_qty, ticker.ask, ticker.ask_qty) == (
        top.bid,
        top.bid_qty,
        top.ask,
        top.ask_qty,
    )


def test_recorded_coinm_capture_rebuilds_to_its_book_ticker(shared_data: Path) -> None:
    book = BinanceBook("binancecoinm", "BTC/USD:BTC")
    stream = items(shared_data / COINM, 6000, "binancecoinm", "BTC/USD:BTC")
    last_diff = max(i for i, x in enumerate(stream) if isinstance(x, DepthDiff))

    ticker = rebuild(book, stream[: last_diff + 1])

    top = book.top()
    assert book.synced
    assert book.gaps == 0
    assert (top.bid, top.ask) == (ticker.bid, ticker.ask)


def test_missing_diff_is_a_gap_and_a_fresh_snapshot_resyncs(shared_data: Path) -> None:
    stream = items(shared_data / USDM, 2000, "binanceusdm", "BTC/USDT:USDT")
    diffs = [i for i, x in enumerate(stream) if isinstance(x, DepthDiff)]
    dropped = diffs[20]  # well after the snapshot line
    truth, book = BinanceBook("binanceusdm", "s"), BinanceBook("binanceusdm", "s")
    rebuild(truth, stream[: dropped + 1])
    rebuild(book, stream[:dropped])
    next_diff = diffs[21]
    rebuild(truth, stream[dropped + 1 : next_diff])

    result = book.on_diff(stream[next_diff])
    snap = DepthSnapshot(
        "binanceusdm",
        "s",
        0,
        truth.last_id,
        tuple(truth.levels.bids.items()),
        tuple(truth.levels.asks.items()),
    )
    resynced = book.on_snapshot(snap)
    truth.on_diff(stream[next_diff])
    rebuild(truth, stream[next_diff + 1 :])
    rebuild(book, stream[next_diff + 1 :])

    assert result is Sync.GAP
    assert book.gaps == 1
    assert resynced is Sync.APPLIED
    assert book.levels.bids == truth.levels.bids
    assert book.levels.asks == truth.levels.asks


def diff(first: int, last: int, prev: int, bid: str = "10") -> DepthDiff:
    return DepthDiff(
        "binanceusdm",
        "s",
        last,
        first,
        last,
        prev,
        ((Decimal(bid), Decimal(1)),),
        ((Decimal(11), Decimal(1)),),
    )


def snapshot(last_id: int) -> DepthSnapshot:
    return DepthSnapshot(
        "binanceusdm", "s", 0, last_id, ((Decimal(9), Decimal(2)),), ((Decimal(12), Decimal(2)),)
    )


def test_diffs_wait_for_the_snapshot_and_older_ones_are_dropped() -> None:
    book = BinanceBook("binanceusdm", "s")

    buffered = [book.on_diff(diff(1, 5, 0)), book.on_diff(diff(6, 9, 5, bid="10.5"))]
    result = book.on_snapshot(snapshot(7))

    assert buffered == [Sync.BUFFERED, Sync.BUFFERED]
    assert result is Sync.APPLIED
    assert book.last_id == 9
    assert book.top().bid == Decimal("10.5")
    assert book.on_diff(diff(8, 9, 5)) is Sync.STALE


def test_snapshot_older_than_the_buffered_diffs_asks_for_another() -> None:
    book = BinanceBook("binanceusdm", "s")
    book.on_diff(diff(20, 25, 19))

    assert book.on_snapshot(snapshot(10)) is Sync.GAP
    assert not book.synced
    assert book.top() is None
    assert book.on_snapshot(snapshot(22)) is Sync.APPLIED


def test_first_live_diff_must_straddle_the_snapshot() -> None:
    book = BinanceBook("binanceusdm", "s")
    book.on_snapshot(snapshot(10))

    assert book.on_diff(diff(12, 15, 11)) is Sync.GAP


def test_snapshot_then_straddling_diff_then_chain() -> None:
    book = BinanceBook("binanceusdm", "s")
    book.on_snapshot(snapshot(10))

    results = [
        book.on_diff(diff(8, 12, 7)),
        book.on_diff(diff(13, 14, 12)),
        book.on_diff(diff(16, 17, 15)),
    ]

    assert results == [Sync.APPLIED, Sync.APPLIED, Sync.GAP]


def test_depth_lists_best_levels_first() -> None:
    book = BinanceBook("binanceusdm", "s")
    book.on_snapshot(
        DepthSnapshot(
            "binanceusdm",
            "s",
            5,
            1,
            ((Decimal(9), Decimal(1)), (Decimal(10), Decimal(2))),
            ((Decimal(12), Decimal(1)), (Decimal(11), Decimal(3))),
        )
    )

    depth = book.depth(levels=1)

    assert depth.bids == ((Decimal(10), Decimal(2)),)
    assert depth.asks == ((Decimal(11), Decimal(3)),)
