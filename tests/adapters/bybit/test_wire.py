"""Bybit v5 frames → inputs, on the recorded XRPUSDT orderbook capture and documented shapes."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.bybit.wire import BookUpdate, TickerState, decode, trade_ids, unified_symbol, venue_id
from adapters.wire import decode as dispatch
from adapters.wire_errors import WireError
from sim.engine.market import FundingRate, LastTrade, MarkPrice

BOOK = "bybit/ws_orderbook500_XRPUSDT_2024-12-01.jsonl"


def recorded(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_recorded_snapshot_and_delta_decode(shared_data: Path) -> None:
    frames = recorded(shared_data / BOOK)

    (snap,) = decode(frames[0])
    (delta,) = dispatch("bybit", frames[1])

    assert isinstance(snap, BookUpdate)
    assert isinstance(delta, BookUpdate)
    assert (snap.symbol, snap.snapshot, snap.update_id, snap.seq, snap.depth) == (
        "XRP/USDT:USDT",
        True,
        20254869,
        130020238981,
        500,
    )
    assert (len(snap.bids), len(snap.asks)) == (500, 500)
    assert tuple(map(Decimal, snap.bids[0])) == (Decimal("1.9531"), Decimal(6203))
    assert (delta.snapshot, delta.update_id, delta.ts_ms) == (False, 20254870, 1733011200693)


def test_every_recorded_frame_decodes(shared_data: Path) -> None:
    frames = recorded(shared_data / BOOK)

    decoded = [decode(f) for f in frames]

    assert [len(d) for d in decoded] == [1] * 50


# Bybit v5 docs "Trade" push example shape (synthetic values).
SYNTHETIC_TRADES = {
    "topic": "publicTrade.XRPUSDT",
    "type": "snapshot",
    "ts": 1733011201000,
    "data": [
        {
            "T": 1733011200999,
            "s": "XRPUSDT",
            "S": "Buy",
            "v": "120",
            "p": "1.9532",
            "L": "PlusTick",
            "i": "a1",
            "BT": False,
        },
        {
            "T": 1733011201000,
            "s": "XRPUSDT",
            "S": "Sell",
            "v": "5",
            "p": "1.9531",
            "L": "MinusTick",
            "i": "a2",
            "BT": False,
        },
    ],
}


def test_public_trades_become_last_trades() -> None:
    items = decode(SYNTHETIC_TRADES)

    assert items == [
        LastTrade("bybit", "XRP/USDT:USDT", 1733011200999, Decimal("1.9532"), Decimal(120), "buy"),
        LastTrade("bybit", "XRP/USDT:USDT", 1733011201000, Decimal("1.9531"), Decimal(5), "sell"),
    ]
    assert trade_ids(SYNTHETIC_TRADES) == ["a1", "a2"]


# Bybit v5 docs "Ticker" linear push shape (synthetic values): a snapshot then a delta.
TICKER_SNAPSHOT = {
    "topic": "tickers.XRPUSDT",
    "type": "snapshot",
    "ts": 1733011200000,
    "cs": 1,
    "data": {
        "symbol": "XRPUSDT",
        "lastPrice": "1.9531",
        "markPrice": "1.9530",
        "indexPrice": "1.9522",
        "fundingRate": "0.0001",
        "nextFundingTime": "1733040000000",
    },
}
TICKER_DELTA = {
    "topic": "tickers.XRPUSDT",
    "type": "delta",
    "ts": 1733011201000,
    "cs": 2,
    "data": {"symbol": "XRPUSDT", "markPrice": "1.9533"},
}


def test_ticker_delta_merged_gives_mark_index_and_funding() -> None:
    state = TickerState()

    first = decode(state.merge(TICKER_SNAPSHOT))
    second = decode(state.merge(TICKER_DELTA))

    assert first == [
        MarkPrice("bybit", "XRP/USDT:USDT", 1733011200000, Decimal("1.9530"), Decimal("1.9522")),
        FundingRate("bybit", "XRP/USDT:USDT", 1733011200000, Decimal("0.0001"), 1733040000000),
    ]
    assert second[0] == MarkPrice(
        "bybit", "XRP/USDT:USDT", 1733011201000, Decimal("1.9533"), Decimal("1.9522")
    )


def test_unmerged_ticker_delta_gives_only_what_it_carries() -> None:
    assert decode(TICKER_DELTA) == [
        MarkPrice("bybit", "XRP/USDT:USDT", 1733011201000, Decimal("1.9533"))
    ]


@pytest.mark.parametrize(
    "frame",
    [
        {**SYNTHETIC_TRADES, "data": [{**SYNTHETIC_TRADES["data"][0], "p": "0"}]},
        {**SYNTHETIC_TRADES, "data": [{**SYNTHETIC_TRADES["data"][0], "p": "NaN"}]},
        {**SYNTHETIC_TRADES, "data": [{**SYNTHETIC_TRADES["data"][0], "v": ""}]},
        {**SYNTHETIC_TRADES, "data": {"not": "a list"}},
        {**TICKER_DELTA, "data": {"symbol": "XRPUSDT", "markPrice": "-1"}},
        {"topic": "orderbook.50.XRPUSDT", "type": "weird", "ts": 1, "data": {}},
        {"topic": "orderbook.XRPUSDT", "type": "delta", "ts": 1, "data": {"u": 1}},
        {
            "topic": "orderbook.50.XRPUSDT",
            "type": "delta",
            "ts": 1,
            "data": {"s": "XRPUSDT", "u": 2, "b": [["1.9", "x"]], "a": []},
        },
        {"no": "topic"},
        ["list"],
    ],
)
def test_malformed_frames_raise_wire_error(frame: object) -> None:
    with pytest.raises(WireError):
        decode(frame)


def test_acks_pongs_and_other_topics_decode_to_nothing() -> None:
    assert decode({"success": True, "ret_msg": "pong", "op": "ping"}) == []
    assert decode({"topic": "kline.1.XRPUSDT", "data": []}) == []


@pytest.mark.parametrize(
    ("vid", "symbol"),
    [("XRPUSDT", "XRP/USDT:USDT"), ("BTCPERP", "BTC/USDC:USDC"), ("BTCUSD", "BTC/USD:BTC")],
)
def test_ids_map_to_ccxt_symbols_and_back(vid: str, symbol: str) -> None:
    assert unified_symbol(vid) == symbol
    assert venue_id(symbol) == vid
