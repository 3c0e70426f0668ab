"""The decode fast paths build exactly what the plain constructors and parsers build."""

from __future__ import annotations

import dataclasses
import gzip
import json
from decimal import Decimal
from itertools import islice
from pathlib import Path

import pytest

from adapters.binance import wire as binance_wire
from adapters.binance.schemas import BinanceDecoder
from adapters.depth import LevelBook
from adapters.slots import fast_new
from sim.engine.market import BookDepth, BookTop, LastTrade

D = Decimal


def test_fast_new_gives_the_object_init_gives() -> None:
    args = ("binanceusdm", "BTC/USDT:USDT", 7, D("61800.20"), D("2.507"), D("61800.30"), D(0))
    fast = fast_new(BookTop)(*args)

    assert type(fast) is BookTop
    assert fast == BookTop(*args)
    assert str(fast.bid) == "61800.20"
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.bid = D(1)  # type: ignore[misc]
    assert fast_new(LastTrade)("v", "s", 1, D(1), D(2), None) == LastTrade("v", "s", 1, D(1), D(2))


def test_fast_new_keeps_init_for_a_class_that_checks_itself() -> None:
    @dataclasses.dataclass(frozen=True, slots=True)
    class Checked:
        x: int

        def __post_init__(self) -> None:
            if self.x < 0:
                raise ValueError("negative")

    assert fast_new(Checked) is Checked


def test_remembered_numbers_keep_their_wire_text() -> None:
    decoder = BinanceDecoder("binanceusdm")
    frame = {"e": "bookTicker", "s": "BTCUSDT", "b": "61800.20", "B": "2.500", "a": "61800.30",
             "A": "2.500", "T": 5}  # fmt: skip
    first = decoder.decode(json.dumps(frame))
    again = decoder.decode(json.dumps(frame))
    zero = decoder.decode(json.dumps({**frame, "A": "0.000"}))  # a size the cache never holds

    assert first == again == binance_wire.decode("binanceusdm", frame)
    top = again[0]
    assert isinstance(top, BookTop)
    assert (str(top.bid), str(top.bid_qty), str(top.ask_qty)) == ("61800.20", "2.500", "2.500")
    assert zero == binance_wire.decode("binanceusdm", {**frame, "A": "0.000"})
    assert str(zero[0].ask_qty) == "0.000"  # type: ignore[union-attr]
    assert decoder.positive("NaN") is None
    assert decoder.positive("-1") is None


def test_recorded_depth_floats_are_the_floats_of_the_wire_texts(shared_data: Path) -> None:
    path = shared_data / "binancecoinm/ws_raw_btcusd_perp_20240808.gz"
    decoder = BinanceDecoder("binancecoinm")
    checked = 0
    with gzip.open(path, "rb") as f:
        for line in islice(f, 3000):
            for item in decoder.decode(line.partition(b" ")[2], "BTCUSD_PERP"):
                if isinstance(item, binance_wire.DepthDiff | binance_wire.DepthSnapshot):
                    assert item.parsed is not None
                    bids, asks, bf, af = item.parsed
                    assert (bids, asks) == (item.bids, item.asks)
                    for levels, floats in ((bids, bf), (asks, af)):
                        assert [(float(p), float(q)) for p, q in levels] == list(floats)
                        checked += len(levels)
    assert checked > 10_000


def test_book_takes_levels_of_any_shape_and_rounds_nothing() -> None:
    book = LevelBook("v", "s")
    book.replace([["10.50", "1.0"], [D("10.4"), D(2)]], [("10.60", "3")])
    book.apply([["10.50", "0"]], [])  # lists, not tuples
    depth = book.depth(1, 5)

    assert isinstance(depth, BookDepth)
    assert depth.bids == ((D("10.4"), D(2)),)
    assert [str(p) for p, _ in depth.asks] == ["10.60"]
    top = book.top(1)
    assert top is not None
    assert (str(top.bid), str(top.ask)) == ("10.4", "10.60")


def test_trade_key_is_the_dict_roads_trade_id(shared_data: Path) -> None:
    path = shared_data / "binanceusdm/ws_raw_btcusdt_20240808.gz"
    decoder = BinanceDecoder("binanceusdm")
    trades = 0
    with gzip.open(path, "rb") as f:
        for line in islice(f, 2000):
            text = line.partition(b" ")[2]
            decoder.decode(text, "BTCUSDT")
            frame = json.loads(text)
            tid = binance_wire.trade_id(frame)
            assert decoder.trade_key == (None if tid is None else ("BTCUSDT", tid))
            trades += tid is not None
    agg = {"e": "aggTrade", "s": "ETHUSDT", "T": 1, "p": "1", "q": "2", "m": False, "a": 9, "t": 3}
    decoder.decode(json.dumps(agg))
    assert trades > 100
    assert decoder.trade_key == ("ETHUSDT", 9)  # aggTrade is keyed by "a", as wire.trade_id
