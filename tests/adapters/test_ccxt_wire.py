"""ccxt structures → inputs: floats through str, bad values are WireErrors, books and marks."""

from __future__ import annotations

from decimal import Decimal

import pytest

from adapters.ccxt_wire import decode_ccxt, envelope
from adapters.wire_errors import WireError
from sim.engine.market import BookDepth, BookTop, FundingRate, LastTrade, MarkPrice

BTC = "BTC/USDT:USDT"


def test_trades_convert_float_prices_through_str() -> None:
    frame = {
        "ccxt": "trades",
        "symbol": BTC,
        "data": [
            {
                "id": "7",
                "timestamp": 1723161256322,
                "side": "buy",
                "price": 61800.3,
                "amount": 0.006,
            }
        ],
    }

    (trade,) = decode_ccxt("mexc", frame, recv_ms=0)

    assert trade == LastTrade(
        "mexc", BTC, 1723161256322, Decimal("61800.3"), Decimal("0.006"), "buy"
    )


def test_book_gives_depth_and_top() -> None:
    frame = {
        "ccxt": "book",
        "symbol": BTC,
        "data": {"timestamp": None, "bids": [[100.5, 2.0], [100.4, 1]], "asks": [[100.6, 0.5]]},
    }

    depth, top = decode_ccxt("bingx", frame, recv_ms=42)

    assert depth == BookDepth(
        "bingx",
        BTC,
        42,
        ((Decimal("100.5"), Decimal("2.0")), (Decimal("100.4"), Decimal("1"))),
        ((Decimal("100.6"), Decimal("0.5")),),
    )
    assert top == BookTop(
        "bingx", BTC, 42, Decimal("100.5"), Decimal("2.0"), Decimal("100.6"), Decimal("0.5")
    )


def test_ticker_and_funding_give_mark_top_and_rate() -> None:
    ticker = {
        "ccxt": "ticker",
        "symbol": BTC,
        "data": {
            "timestamp": 5,
            "bid": 1.5,
            "bidVolume": 3,
            "ask": 1.6,
            "askVolume": 4,
            "markPrice": 1.55,
            "indexPrice": 1.54,
        },
    }
    funding = {
        "ccxt": "funding",
        "symbol": BTC,
        "data": {
            "timestamp": 6,
            "fundingRate": -6.12e-06,
            "fundingTimestamp": 1741334400000,
            "markPrice": 89887.9,
        },
    }

    mark, top = decode_ccxt("weex", ticker, recv_ms=0)
    rate, mark2 = decode_ccxt("weex", funding, recv_ms=0)

    assert mark == MarkPrice("weex", BTC, 5, Decimal("1.55"), Decimal("1.54"))
    assert (top.bid, top.ask, top.bid_qty, top.ask_qty) == (
        Decimal("1.5"),
        Decimal("1.6"),
        Decimal("3"),
        Decimal("4"),
    )
    assert rate == FundingRate("weex", BTC, 6, Decimal("-0.00000612"), 1741334400000)
    assert mark2.price == Decimal("89887.9")


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (
            {"ccxt": "trades", "symbol": BTC, "data": [{"price": float("nan"), "amount": 1}]},
            "not finite",
        ),
        ({"ccxt": "trades", "symbol": BTC, "data": [{"price": -5, "amount": 1}]}, "positive"),
        (
            {"ccxt": "book", "symbol": BTC, "data": {"bids": [[101, 1]], "asks": [[100, 1]]}},
            "crossed",
        ),
        (
            {
                "ccxt": "ticker",
                "symbol": BTC,
                "data": {"markPrice": None, "bid": 1, "bidVolume": 1, "ask": "x", "askVolume": 1},
            },
            "not a number",
        ),
        ({"ccxt": "book", "symbol": BTC, "data": {"bids": [[1]], "asks": []}}, "malformed"),
        ({"ccxt": "candles", "symbol": BTC, "data": {}}, "not a ccxt frame"),
    ],
)
def test_bad_structures_are_wire_errors(frame: dict, message: str) -> None:
    with pytest.raises(WireError, match=message):
        decode_ccxt("mexc", frame, recv_ms=0)


def test_envelope_keeps_what_decoding_needs_and_drops_info() -> None:
    book = {
        "timestamp": 7,
        "nonce": 9,
        "bids": [[2.0, 1.0, 0], [1.5, 3.0]],
        "asks": [[2.5, 1.0]],
        "info": {"raw": True},
    }
    trades = [
        {
            "id": "1",
            "timestamp": 5,
            "price": 2.0,
            "amount": 1.0,
            "side": "sell",
            "info": {},
            "fee": None,
        }
    ]

    assert envelope("book", BTC, book, levels=1) == {
        "ccxt": "book",
        "symbol": BTC,
        "data": {"timestamp": 7, "nonce": 9, "bids": [[2.0, 1.0]], "asks": [[2.5, 1.0]]},
    }
    assert envelope("trades", BTC, trades, levels=1)["data"] == [
        {"id": "1", "timestamp": 5, "symbol": None, "side": "sell", "price": 2.0, "amount": 1.0}
    ]
    assert "info" not in envelope("ticker", BTC, {"bid": 1, "info": {}}, levels=1)["data"]
