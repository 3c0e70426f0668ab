"""Binance frames → inputs, on recorded frames from the 2024-08-08 captures."""

from __future__ import annotations

import gzip
import json
from decimal import Decimal
from itertools import islice
from pathlib import Path

import pytest

from adapters.binance.wire import (
    DepthDiff,
    DepthSnapshot,
    decode,
    trade_id,
    unified_symbol,
    venue_id,
)
from adapters.wire import decode as dispatch
from adapters.wire_errors import WireError
from sim.engine.market import BookTop, FundingRate, LastTrade, MarkPrice

USDM = "binanceusdm/ws_raw_btcusdt_20240808.gz"
COINM = "binancecoinm/ws_raw_btcusd_perp_20240808.gz"


def recorded(path: Path, n: int) -> list[dict]:
    with gzip.open(path, "rt") as f:
        return [json.loads(line.split(" ", 1)[1]) for line in islice(f, n)]


def first(frames: list[dict], stream_suffix: str) -> dict:
    return next(f for f in frames if f.get("stream", "").endswith(stream_suffix))


def test_recorded_trade_becomes_last_trade(shared_data: Path) -> None:
    frame = first(recorded(shared_data / USDM, 10), "@trade")

    items = decode("binanceusdm", frame)

    # exchange-mechanics.md §B.6: first trade 61800.3 x 0.006 buy at 23:54:16.322Z
    assert items == [
        LastTrade(
            "binanceusdm",
            "BTC/USDT:USDT",
            1723161256322,
            Decimal("61800.30"),
            Decimal("0.006"),
            "buy",
        )
    ]


def test_recorded_book_ticker_becomes_book_top(shared_data: Path) -> None:
    frame = first(recorded(shared_data / USDM, 10), "@bookTicker")

    items = decode("binanceusdm", frame)

    assert items == [
        BookTop(
            "binanceusdm",
            "BTC/USDT:USDT",
            1723161256313,
            Decimal("61800.20"),
            Decimal("2.507"),
            Decimal("61800.30"),
            Decimal("2.510"),
        )
    ]


def test_recorded_coinm_trade_is_inverse_symbol_in_contracts(shared_data: Path) -> None:
    frame = first(recorded(shared_data / COINM, 400), "@trade")

    (trade,) = decode("binancecoinm", frame)

    assert isinstance(trade, LastTrade)
    assert (trade.symbol, trade.price, trade.qty, trade.side) == (
        "BTC/USD:BTC",
        Decimal("61804.8"),
        Decimal(4),
        "buy",
    )


def test_recorded_depth_update_keeps_update_ids(shared_data: Path) -> None:
    frame = recorded(shared_data / USDM, 1)[0]

    (diff,) = decode("binanceusdm", frame)

    assert isinstance(diff, DepthDiff)
    assert (diff.first_id, diff.last_id, diff.prev_id) == (
        5123107832006,
        5123107837557,
        5123107831937,
    )
    assert diff.bids[0] == ("58710.20", "0.014")  # the wire's strings: the book makes Decimals
    assert ("61510.90", "0.000") in diff.bids  # qty 0 = remove the level


def test_recorded_rest_snapshot_needs_its_symbol(shared_data: Path) -> None:
    snap_frame = next(f for f in recorded(shared_data / USDM, 60) if "lastUpdateId" in f)

    (snap,) = decode("binanceusdm", snap_frame, symbol_hint="BTC/USDT:USDT")

    assert isinstance(snap, DepthSnapshot)
    assert snap.last_update_id == 5123107852948
    assert snap.bids[0] == ("61800.20", "2.909")
    with pytest.raises(WireError, match="no symbol"):
        decode("binanceusdm", snap_frame)


def test_every_recorded_frame_of_a_slice_decodes(shared_data: Path) -> None:
    frames = recorded(shared_data / USDM, 3000)

    items = [i for f in frames for i in decode("binanceusdm", f, symbol_hint="BTC/USDT:USDT")]

    assert len(items) == 3000  # one input, diff or snapshot per recorded line


# Binance docs "Mark Price Stream" payload shape; the captures hold no markPrice stream.
SYNTHETIC_MARK = {
    "e": "markPriceUpdate",
    "E": 1723161300000,
    "s": "BTCUSDT",
    "p": "61812.50000000",
    "i": "61790.12000000",
    "P": "61800.00000000",
    "r": "0.00010000",
    "T": 1723190400000,
}


def test_mark_price_update_gives_mark_and_funding() -> None:
    items = decode("binanceusdm", {"stream": "btcusdt@markPrice@1s", "data": SYNTHETIC_MARK})

    assert items == [
        MarkPrice(
            "binanceusdm",
            "BTC/USDT:USDT",
            1723161300000,
            Decimal("61812.50000000"),
            Decimal("61790.12000000"),
        ),
        FundingRate(
            "binanceusdm", "BTC/USDT:USDT", 1723161300000, Decimal("0.00010000"), 1723190400000
        ),
    ]


def test_dated_future_mark_has_no_funding() -> None:
    frame = {**SYNTHETIC_MARK, "s": "BTCUSDT_250926", "r": "", "T": 0}

    items = decode("binanceusdm", frame)

    assert [type(i) for i in items] == [MarkPrice]
    assert items[0].symbol == "BTC/USDT:USDT-250926"


def test_mark_price_array_stream_decodes_each_symbol() -> None:
    eth = {**SYNTHETIC_MARK, "s": "ETHUSDT", "p": "2600.1"}
    frame = {"stream": "!markPrice@arr@1s", "data": [SYNTHETIC_MARK, eth]}

    items = decode("binanceusdm", frame)

    assert [i.symbol for i in items] == ["BTC/USDT:USDT"] * 2 + ["ETH/USDT:USDT"] * 2


TRADE = {
    "e": "trade",
    "E": 1,
    "T": 1,
    "s": "BTCUSDT",
    "t": 7,
    "p": "100.5",
    "q": "1",
    "X": "MARKET",
    "m": True,
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"p": "0"}, "positive price"),
        ({"p": "-1"}, "positive price"),
        ({"p": "NaN"}, "not finite"),
        ({"p": ""}, "missing"),
        ({"p": "abc"}, "not a number"),
        ({"q": "0"}, "positive"),
        ({"m": "yes"}, "true/false"),
        ({"s": "NOPE!"}, "unknown market id"),
        ({"T": "soon"}, "integer"),
    ],
)
def test_malformed_trade_raises_wire_error(change: dict, message: str) -> None:
    with pytest.raises(WireError, match=message):
        decode("binanceusdm", {**TRADE, **change})


def test_taker_side_follows_buyer_is_maker() -> None:
    (sell,) = decode("binanceusdm", TRADE)
    (buy,) = decode("binanceusdm", {**TRADE, "m": False})

    assert (sell.side, buy.side) == ("sell", "buy")


def test_insurance_fund_trade_is_not_a_market_trade() -> None:
    assert decode("binanceusdm", {**TRADE, "X": "INSURANCE_FUND"}) == []


@pytest.mark.parametrize(
    "frame", [[1, 2], "text", {"stream": "x", "data": 5}, {"E": 1, "s": "BTCUSDT"}]
)
def test_frames_that_are_not_events_raise(frame: object) -> None:
    with pytest.raises(WireError):
        decode("binanceusdm", frame)


def test_acks_and_unknown_events_decode_to_nothing() -> None:
    assert decode("binanceusdm", {"result": None, "id": 1}) == []
    assert decode("binanceusdm", {"e": "forceOrder", "E": 1}) == []


@pytest.mark.parametrize(
    ("venue", "vid", "symbol"),
    [
        ("binanceusdm", "BTCUSDT", "BTC/USDT:USDT"),
        ("binanceusdm", "1000PEPEUSDC", "1000PEPE/USDC:USDC"),
        ("binanceusdm", "BTCUSDT_220325", "BTC/USDT:USDT-220325"),
        ("binancecoinm", "BTCUSD_PERP", "BTC/USD:BTC"),
        ("binancecoinm", "ETHUSD_240927", "ETH/USD:ETH-240927"),
    ],
)
def test_venue_ids_map_to_ccxt_symbols_and_back(venue: str, vid: str, symbol: str) -> None:
    assert unified_symbol(venue, vid) == symbol
    assert venue_id(symbol) == vid


def test_symbol_map_wins_over_naming_rules() -> None:
    assert unified_symbol("binanceusdm", "BTCUSDT", {"BTCUSDT": "X/Y:Y"}) == "X/Y:Y"


def test_trade_id_reads_t_and_agg_trade_a() -> None:
    assert trade_id({"stream": "s", "data": TRADE}) == 7
    assert trade_id({"e": "aggTrade", "a": 9}) == 9
    assert trade_id({"e": "bookTicker"}) is None


def test_dispatcher_routes_by_venue_and_refuses_unknown() -> None:
    assert dispatch("binanceusdm", TRADE)[0].price == Decimal("100.5")
    with pytest.raises(WireError, match="no native wire decoder"):
        dispatch("mexc", TRADE)
