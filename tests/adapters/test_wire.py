"""The venue-independent decoder: frames of any native venue → engine inputs, books included."""

from __future__ import annotations

import gzip
import json
from decimal import Decimal
from itertools import islice
from pathlib import Path

import pytest

from adapters.wire import MarketDecoder, WireError, decode
from sim.engine.market import BookDepth, BookTop, FeedStatus, LastTrade

USDM = "binanceusdm/ws_raw_btcusdt_20240808.gz"
BYBIT = "bybit/ws_orderbook500_XRPUSDT_2024-12-01.jsonl"


def binance_frames(shared_data: Path, n: int) -> list[dict]:
    with gzip.open(shared_data / USDM, "rt") as f:
        return [json.loads(line.split(" ", 1)[1]) for line in islice(f, n)]


def test_decoder_rebuilds_the_binance_book_from_a_recording(shared_data: Path) -> None:
    decoder = MarketDecoder("binanceusdm", depth_levels=5)

    out = [
        i
        for fr in binance_frames(shared_data, 7648)
        for i in decoder.feed(fr, symbol_hint="BTC/USDT:USDT")
    ]

    depth = [i for i in out if isinstance(i, BookDepth)][-1]
    # exchange-mechanics.md §B.6: best 61827.9/61828.0 at nonce 5123110362378
    assert depth.bids[0] == (Decimal("61827.90"), Decimal("2.932"))
    assert depth.asks[0] == (Decimal("61828.00"), Decimal("3.921"))
    assert len(depth.bids) == 5
    assert sum(isinstance(i, LastTrade) for i in out) > 1000


def test_decoder_reports_a_gap_in_a_recording(shared_data: Path) -> None:
    frames = binance_frames(shared_data, 400)
    depth_at = [i for i, f in enumerate(frames) if f.get("data", {}).get("e") == "depthUpdate"]
    del frames[depth_at[30]]  # a diff lost in the recording
    decoder = MarketDecoder("binanceusdm")

    out = [i for fr in frames for i in decoder.feed(fr, symbol_hint="BTC/USDT:USDT")]

    assert [(s.stale, s.reason) for s in out if isinstance(s, FeedStatus)] == [(True, "book gap")]


def test_decoder_rebuilds_the_bybit_book(shared_data: Path) -> None:
    decoder = MarketDecoder("bybit")

    out = [
        i
        for line in (shared_data / BYBIT).read_text().splitlines()
        for i in decoder.feed(json.loads(line))
    ]

    at = next(t for t in out if isinstance(t, BookTop) and t.ts_ms == 1733011201091)
    assert (at.bid, at.ask) == (Decimal("1.9531"), Decimal("1.9532"))


def test_unknown_venue_is_refused() -> None:
    with pytest.raises(WireError, match="native venues are binanceusdm"):
        decode("okx", {})
    with pytest.raises(WireError, match="no native wire decoder"):
        MarketDecoder("okx")


def test_decoder_resyncs_on_the_next_snapshot_after_a_gap(shared_data: Path) -> None:
    frames = binance_frames(shared_data, 400)
    depth_at = [i for i, f in enumerate(frames) if f.get("data", {}).get("e") == "depthUpdate"]
    truth = MarketDecoder("binanceusdm")
    for fr in frames:
        truth.feed(fr, symbol_hint="BTC/USDT:USDT")
    book = truth.binance_books["BTC/USDT:USDT"]
    snapshot = {  # a REST snapshot taken at the end, as a recorder would save after a gap
        "lastUpdateId": book.last_id,
        "bids": [[str(p), str(q)] for p, q in book.levels.bids.items()],
        "asks": [[str(p), str(q)] for p, q in book.levels.asks.items()],
    }
    decoder = MarketDecoder("binanceusdm")

    out = [
        i
        for fr in [*frames[: depth_at[30]], *frames[depth_at[30] + 1 :], snapshot]
        for i in decoder.feed(fr, symbol_hint="BTC/USDT:USDT")
    ]

    statuses = [(s.stale, s.reason) for s in out if isinstance(s, FeedStatus)]
    assert statuses == [(True, "book gap"), (False, "book resynced")]
    assert out[-2] == book.top()
