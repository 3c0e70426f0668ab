"""Typed decoding of Bybit v5 public frames straight from the wire text (msgspec).

``orderbook`` and ``publicTrade`` frames are decoded into structs; tickers (which a feed merges
into the last full ticker first), acks and anything the structs do not describe exactly fall
back to ``json.loads`` + the dict handlers in ``wire.py``: same inputs, same ``WireError``.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from adapters.bybit import wire
from adapters.wire_errors import Price, Qty, WireError, parse_raw_levels
from sim.engine.market import LastTrade


class _Head(msgspec.Struct):
    topic: str
    type: str = ""
    ts: int | None = None
    data: msgspec.Raw = msgspec.Raw(b"null")


class _BookData(msgspec.Struct):
    u: int
    s: str | None = None
    b: list[tuple[str, str]] = []
    a: list[tuple[str, str]] = []
    seq: int | None = None


class _BookFrame(msgspec.Struct):
    topic: str
    data: _BookData
    type: str = ""
    ts: int | None = None


class _TradeRow(msgspec.Struct):
    s: str
    T: int
    p: str
    v: str
    S: str = ""


class _Floats(msgspec.Struct, gc=False):
    b: list[tuple[Price, Qty]] = []
    a: list[tuple[Price, Qty]] = []


class _FloatsFrame(msgspec.Struct, gc=False):
    data: _Floats


_FLOATS = msgspec.json.Decoder(_Floats, strict=False)
_FLOATS_FRAME = msgspec.json.Decoder(_FloatsFrame, strict=False)
_HEAD = msgspec.json.Decoder(_Head)
_BOOK_FRAME = msgspec.json.Decoder(_BookFrame)
_BOOK = msgspec.json.Decoder(_BookData)
_TRADES = msgspec.json.Decoder(list[_TradeRow])
_ORDERBOOK = b'"topic":"orderbook.'
_SIDES = {"Buy": "buy", "Sell": "sell"}


def decode_raw(raw: bytes | str, symbols: wire.SymbolMap | None = None) -> list[wire.WireItem]:
    """Inputs of one frame given as wire text; same results and errors as ``wire.decode``."""
    try:
        if _ORDERBOOK in (raw[:48] if isinstance(raw, bytes) else raw[:48].encode()):
            book = _BOOK_FRAME.decode(raw)  # one pass for the big book frames
            if book.topic.startswith("orderbook."):
                return _orderbook(book, book.data, symbols, raw, _FLOATS_FRAME)
        head = _HEAD.decode(raw)
        if head.topic.startswith("orderbook."):
            return _orderbook(head, _BOOK.decode(head.data), symbols, head.data, _FLOATS)
        if head.topic.startswith("publicTrade."):
            return _trades(_TRADES.decode(head.data), symbols)
    except (msgspec.ValidationError, msgspec.DecodeError):
        pass
    try:
        frame = json.loads(raw)
    except ValueError as e:
        raise WireError(f"bybit: frame is not JSON ({e})") from None
    return wire.decode(frame, symbols)


def _orderbook(
    head: _Head | _BookFrame,
    d: _BookData,
    symbols: wire.SymbolMap | None,
    raw: Any,
    floats: msgspec.json.Decoder,
) -> list[Any]:
    what = "bybit orderbook"
    if head.type not in ("snapshot", "delta"):
        raise WireError(
            f"{what}: needs an object 'data' and type snapshot|delta, was {head.type!r}"
        )
    parts = head.topic.split(".")
    if len(parts) != 3 or not parts[1].isdigit():
        raise WireError(f"{what}: topic must look like orderbook.50.BTCUSDT")
    if head.ts is None:
        raise WireError(f"{what}: field 'ts' is missing")
    symbol = wire.unified_symbol(d.s if d.s is not None else parts[2], symbols)
    try:  # the levels' floats checked in C (as for Binance), else parsed in Python
        f = floats.decode(raw)
        f = f.data if floats is _FLOATS_FRAME else f
        bids, asks = tuple(d.b), tuple(d.a)
        parsed: Any = (bids, asks, f.b, f.a)
    except msgspec.ValidationError:
        bids, bf = parse_raw_levels(d.b, what, strings=True)
        asks, af = parse_raw_levels(d.a, what, strings=True)
        parsed = (bids, asks, bf, af)
    snapshot, depth = head.type == "snapshot", int(parts[1])
    return [
        wire.BookUpdate(
            wire.VENUE, symbol, head.ts, snapshot, d.u, d.seq, depth, bids, asks, parsed
        )
    ]


def _trades(rows: list[_TradeRow], symbols: wire.SymbolMap | None) -> list[Any]:
    what = "bybit publicTrade"
    out: list[Any] = []
    for d in rows:
        try:
            qty, price = Decimal(d.v), Decimal(d.p)
        except InvalidOperation:
            raise WireError(f"{what}: p and v must be numbers, were {d.p!r}, {d.v!r}") from None
        if not qty.is_finite() or qty <= 0:
            raise WireError(f"{what}: v must be a positive size, was {d.v!r}")
        if not price.is_finite() or price <= 0:
            raise WireError(f"{what}: p must be a positive price, was {d.p!r}")
        side = _SIDES.get(d.S)
        symbol = wire.unified_symbol(d.s, symbols)
        out.append(LastTrade(wire.VENUE, symbol, d.T, price, qty, side))  # type: ignore[arg-type]
    return out
