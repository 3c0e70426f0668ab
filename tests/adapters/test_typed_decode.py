"""Typed decoding from wire text (msgspec) gives exactly what the dict decoders give.

Same inputs on every recorded frame, and the same outcome (inputs or a WireError) on frames
with any field broken: the fast path must never accept what ``json.loads`` + ``decode`` refuses.
"""

from __future__ import annotations

import gzip
import json
from itertools import islice
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.wire import MarketDecoder, decode, decode_raw
from adapters.wire_errors import WireError

CAPTURES = [
    ("binanceusdm", "binanceusdm/ws_raw_btcusdt_20240808.gz", "BTCUSDT"),
    ("binanceusdm", "binanceusdm/ws_raw_ethusdt_20240808.gz", "ETHUSDT"),
    ("binancecoinm", "binancecoinm/ws_raw_btcusd_perp_20240808.gz", "BTCUSD_PERP"),
]
BYBIT = "bybit/ws_orderbook500_XRPUSDT_2024-12-01.jsonl"


def capture_texts(path: Path, n: int) -> list[bytes]:
    with gzip.open(path, "rb") as f:
        return [line.partition(b" ")[2] for line in islice(f, n)]


def outcome(call: Any) -> Any:
    try:
        return call()
    except WireError:
        return "WireError"  # the wording may quote the value differently


@pytest.mark.parametrize(("venue", "rel", "hint"), CAPTURES)
def test_recorded_frames_decode_the_same_from_text(
    shared_data: Path, venue: str, rel: str, hint: str
) -> None:
    texts = capture_texts(shared_data / rel, 4000)

    typed = [decode_raw(venue, t, symbol_hint=hint) for t in texts]
    plain = [decode(venue, json.loads(t), symbol_hint=hint) for t in texts]

    assert typed == plain
    assert sum(map(len, typed)) == len(texts)  # one input, diff or snapshot per line


@pytest.mark.parametrize(("venue", "rel", "hint"), CAPTURES)
def test_books_fed_from_text_give_the_same_inputs(
    shared_data: Path, venue: str, rel: str, hint: str
) -> None:
    texts = capture_texts(shared_data / rel, 3000)
    fast, slow = MarketDecoder(venue), MarketDecoder(venue)

    fed = [fast.feed_raw(t, symbol_hint=hint) for t in texts]

    assert fed == [slow.feed(json.loads(t), symbol_hint=hint) for t in texts]
    assert any(type(x).__name__ == "BookDepth" for inputs in fed for x in inputs)


def test_recorded_bybit_frames_decode_the_same_from_text(shared_data: Path) -> None:
    lines = (shared_data / BYBIT).read_bytes().splitlines()
    fast, slow = MarketDecoder("bybit"), MarketDecoder("bybit")

    assert [decode_raw("bybit", t) for t in lines] == [
        decode("bybit", json.loads(t)) for t in lines
    ]
    assert [fast.feed_raw(t) for t in lines] == [slow.feed(json.loads(t)) for t in lines]


BOOK_TICKER = {
    "e": "bookTicker",
    "u": 1,
    "s": "BTCUSDT",
    "b": "61800.20",
    "B": "2.507",
    "a": "61800.30",
    "A": "2.510",
    "T": 1723161256313,
    "E": 1723161256313,
}
TRADE = {
    "e": "trade",
    "E": 1,
    "T": 2,
    "s": "BTCUSDT",
    "t": 7,
    "p": "100.5",
    "q": "1",
    "X": "MARKET",
    "m": True,
}
DEPTH = {
    "e": "depthUpdate",
    "E": 1,
    "T": 2,
    "s": "BTCUSDT",
    "U": 5,
    "u": 9,
    "pu": 4,
    "b": [["100.1", "0.5"], ["99", "0.000"]],
    "a": [["100.2", "1"]],
}
MARK = {
    "e": "markPriceUpdate",
    "E": 1,
    "s": "BTCUSDT",
    "p": "61812.5",
    "i": "61790.1",
    "r": "0.0001",
    "T": 1723190400000,
}
BYBIT_BOOK = {
    "topic": "orderbook.50.XRPUSDT",
    "type": "delta",
    "ts": 5,
    "data": {"s": "XRPUSDT", "u": 2, "seq": 3, "b": [["1.9", "10"]], "a": []},
}
BYBIT_TRADES = {
    "topic": "publicTrade.XRPUSDT",
    "type": "snapshot",
    "ts": 5,
    "data": [{"T": 4, "s": "XRPUSDT", "S": "Buy", "v": "120", "p": "1.9532"}],
}

# JSON values a broken venue could send in place of any field (floats aside: msgspec reads a
# JSON number into a Decimal where the dict path wants a string; no venue sends those).
BAD = st.sampled_from(
    [
        "0",
        "-1",
        "NaN",
        "Infinity",
        "",
        "abc",
        "1.5",
        "12",
        0,
        -3,
        7,
        True,
        None,
        [],
        {},
        [["1"]],
        [["1", "x"]],
        [["-1", "1"]],
        "BTCUSDT",
        "NOPE!",
        "snapshot",
        "orderbook.x",
    ]
)


def broken(frame: dict[str, Any], key: str, value: Any, drop: bool) -> dict[str, Any]:
    out = dict(frame)
    if drop:
        out.pop(key, None)
    else:
        out[key] = value
    return out


@given(
    frame=st.sampled_from([BOOK_TICKER, TRADE, DEPTH, MARK]),
    data=st.data(),
    value=BAD,
    drop=st.booleans(),
    wrapped=st.booleans(),
)
def test_binance_broken_fields_fail_or_pass_alike(
    frame: dict[str, Any], data: st.DataObject, value: Any, drop: bool, wrapped: bool
) -> None:
    key = data.draw(st.sampled_from(sorted(frame)))
    bad = broken(frame, key, value, drop)
    if wrapped:
        bad = {"stream": "btcusdt@x", "data": bad}

    fast = outcome(lambda: decode_raw("binanceusdm", json.dumps(bad)))

    assert fast == outcome(lambda: decode("binanceusdm", bad))


@given(
    frame=st.sampled_from([BYBIT_BOOK, BYBIT_TRADES]),
    data=st.data(),
    value=BAD,
    drop=st.booleans(),
    inner=st.booleans(),
)
def test_bybit_broken_fields_fail_or_pass_alike(
    frame: dict[str, Any], data: st.DataObject, value: Any, drop: bool, inner: bool
) -> None:
    if inner:
        rows = frame["data"]
        row = rows[0] if isinstance(rows, list) else rows
        key = data.draw(st.sampled_from(sorted(row)))
        new_row = broken(row, key, value, drop)
        bad = {**frame, "data": [new_row] if isinstance(rows, list) else new_row}
    else:
        bad = broken(frame, data.draw(st.sampled_from(sorted(frame))), value, drop)

    fast = outcome(lambda: decode_raw("bybit", json.dumps(bad)))

    assert fast == outcome(lambda: decode("bybit", bad))


@pytest.mark.parametrize("venue", ["binanceusdm", "bybit"])
def test_text_that_is_not_json_is_a_wire_error(venue: str) -> None:
    with pytest.raises(WireError, match="not JSON"):
        decode_raw(venue, b'{"e": "trade", "p": ')


def test_bybit_book_with_a_null_symbol_takes_the_topics_on_both_roads() -> None:
    """Found by the property above: ``"s": null`` gave a book on the typed road and a
    WireError on the dict road."""
    bad = {**BYBIT_BOOK, "data": {**BYBIT_BOOK["data"], "s": None}}

    fast = decode_raw("bybit", json.dumps(bad))

    assert fast == decode("bybit", bad)
    assert fast[0].symbol == "XRP/USDT:USDT"
