"""Typed decoding of Binance futures frames straight from the wire text (msgspec).

The common frames (combined-stream envelopes of bookTicker, trade, aggTrade, markPriceUpdate,
depthUpdate) are decoded into structs in one C pass, numbers kept as the wire's strings and made
``Decimal`` only for the fields an input carries; anything
the structs do not describe exactly (a missing field, a wrong type, an unknown event, a REST
snapshot, an array stream) falls back to ``json.loads`` + the dict handlers in ``wire.py``, which
give the same inputs or the same ``WireError``. So the fast path never widens what is accepted:
it only skips work on frames that are well formed.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from adapters.binance import wire
from adapters.slots import fast_new
from adapters.wire_errors import Price, Qty, WireError, parse_raw_levels
from sim.engine.market import BookTop, LastTrade


# gc=False: the structs hold only strings, numbers and lists of them (no cycles), so the
# collector need not track the ~100k of them a second decoded.
class _BookTicker(msgspec.Struct, gc=False, tag_field="e", tag="bookTicker"):
    s: str
    b: str
    B: str
    a: str
    A: str
    T: int | None = None
    E: int | None = None


class _Trade(msgspec.Struct, gc=False, tag_field="e", tag="trade"):
    s: str
    T: int
    p: str
    q: str
    m: bool
    X: str = "MARKET"
    t: int | None = None  # the trade id (feeds drop replayed trades by it)


class _AggTrade(_Trade, tag="aggTrade"):
    a: int | None = None  # the aggregate trade id


class _Mark(msgspec.Struct, gc=False, tag_field="e", tag="markPriceUpdate"):
    s: str
    E: int
    p: str
    i: str = ""
    r: str = ""
    T: int = 0


class _Depth(msgspec.Struct, gc=False, tag_field="e", tag="depthUpdate"):
    s: str
    U: int
    u: int
    pu: int
    b: list[tuple[str, str]]
    a: list[tuple[str, str]]
    T: int | None = None
    E: int | None = None


_Event = _BookTicker | _Trade | _AggTrade | _Mark | _Depth


class _Envelope(msgspec.Struct, gc=False):
    stream: str
    data: _Event


class _Floats(msgspec.Struct, gc=False):
    """A depthUpdate's levels as checked floats: a second C pass, cheaper than ``float()``."""

    b: list[tuple[Price, Qty]]
    a: list[tuple[Price, Qty]]


class _FloatsEnvelope(msgspec.Struct, gc=False):
    data: _Floats


_ENVELOPE = msgspec.json.Decoder(_Envelope)
_EVENT = msgspec.json.Decoder(_Event)
# strict=False reads "61800.20" as a float, the same float as float("61800.20") (checked on all
# 1.17M recorded levels); it takes a subset of what float() takes, the rest is parsed in Python
_FLOATS = msgspec.json.Decoder(_Floats, strict=False)
_FLOATS_ENVELOPE = msgspec.json.Decoder(_FloatsEnvelope, strict=False)
_BOOK_TOP = fast_new(BookTop)
_LAST_TRADE = fast_new(LastTrade)
_DEPTH_DIFF = fast_new(wire.DepthDiff)
_ZERO = Decimal(0)
_MAX_NAMES = 10_000
_MAX_NUMBERS = 50_000  # ~5 MB at most; cleared (and refilled) when full


class BinanceDecoder:
    """Wire text → inputs of one venue, prepared once (a feed or a book decoder keeps one).

    ``symbols`` (venue id → ccxt symbol) is read when the decoder is made; ids met later are
    named by ``wire.unified_symbol`` once and remembered, so a message costs one dict lookup.
    """

    def __init__(self, venue: str, symbols: wire.SymbolMap | None = None) -> None:
        if venue not in wire.VENUES:
            raise WireError(f"{venue!r} is not a Binance futures venue")
        self.venue = venue
        self.symbols = symbols
        self.names: dict[str, str] = dict(symbols) if symbols else {}
        self.numbers: dict[str, Decimal] = {}  # wire text -> its positive finite Decimal
        self.trade_key: tuple[str, int] | None = None  # of the last frame decoded

    def decode(self, raw: bytes | str, symbol_hint: str | None = None) -> list[wire.WireItem]:
        """Inputs of one frame given as wire text; same results and errors as ``wire.decode``.

        ``trade_key`` is then (venue id, trade id) of a trade frame (``wire.trade_id``), else None.
        """
        self.trade_key = None
        try:
            msg: Any = _ENVELOPE.decode(raw).data
            floats = _FLOATS_ENVELOPE
        except msgspec.ValidationError:
            try:
                msg = _EVENT.decode(raw)
                floats = _FLOATS
            except (msgspec.ValidationError, msgspec.DecodeError):
                return self._slow(raw, symbol_hint)
        except msgspec.DecodeError:
            return self._slow(raw, symbol_hint)
        kind = type(msg)
        if kind is _BookTicker:
            return self._book_ticker(msg)
        if kind is _Depth:
            return self._depth(msg, raw, floats)
        if kind is _Mark:
            return self._mark(msg)
        return self._trade(msg)

    def name(self, venue_id: str) -> str:
        """The ccxt symbol of a venue id (WireError for an id no rule names)."""
        name = self.names.get(venue_id)
        if name is None:
            name = wire.unified_symbol(self.venue, venue_id, self.symbols)
            if len(self.names) < _MAX_NAMES:
                self.names[venue_id] = name
        return name

    def _slow(self, raw: bytes | str, symbol_hint: str | None) -> list[wire.WireItem]:
        try:
            frame = json.loads(raw)
        except ValueError as e:
            raise WireError(f"{self.venue}: frame is not JSON ({e})") from None
        tid = wire.trade_id(frame) if isinstance(frame, dict) else None
        if tid is not None:
            data = frame.get("data", frame)
            self.trade_key = (str(data.get("s", "")) if isinstance(data, dict) else "", tid)
        return wire.decode(self.venue, frame, self.symbols, symbol_hint=symbol_hint)

    def _explained(self, m: Any) -> list[Any]:
        """A frame the fast checks did not pass: the dict handler gives its exact WireError."""
        frame = {"e": type(m).__struct_config__.tag, **msgspec.structs.asdict(m)}
        frame = {k: v for k, v in frame.items() if v is not None}
        return wire.decode(self.venue, frame, self.symbols)

    def positive(self, text: str) -> Decimal | None:
        """``Decimal(text)`` when it is a positive finite number (remembered), else None.

        Prices and sizes repeat (99 % of the recorded prices, 91 % of the sizes were seen
        before), so most messages look their numbers up instead of parsing them.
        """
        value = self.numbers.get(text)
        if value is None:
            try:
                value = Decimal(text)
            except InvalidOperation:
                return None
            if not value.is_finite() or value <= _ZERO:
                return None
            if len(self.numbers) >= _MAX_NUMBERS:
                self.numbers.clear()
            self.numbers[text] = value
        return value

    def _book_ticker(self, m: _BookTicker) -> list[Any]:
        get = self.numbers.get
        bid, bid_qty, ask, ask_qty = get(m.b), get(m.B), get(m.a), get(m.A)
        if bid is None or bid_qty is None or ask is None or ask_qty is None:
            num = self.positive  # parse only the ones not remembered
            bid, bid_qty = bid or num(m.b), bid_qty or num(m.B)
            ask, ask_qty = ask or num(m.a), ask_qty or num(m.A)
            if bid is None or bid_qty is None or ask is None or ask_qty is None:
                return self._explained(m)  # a size of 0, NaN, ...: the dict road's answer
        ts = m.T or m.E
        if ts is None:
            return self._explained(m)
        name = self.names.get(m.s) or self.name(m.s)
        return [_BOOK_TOP(self.venue, name, ts, bid, bid_qty, ask, ask_qty)]

    def _trade(self, m: _Trade) -> list[Any]:
        tid = m.a if type(m) is _AggTrade else m.t  # type: ignore[attr-defined]
        if tid is not None:
            self.trade_key = (m.s, tid)
        if m.X != "MARKET" and m.X != "":
            return []  # insurance-fund and ADL prints are not market trades
        get = self.numbers.get
        price, qty = get(m.p), get(m.q)
        if price is None or qty is None:
            price, qty = price or self.positive(m.p), qty or self.positive(m.q)
            if price is None or qty is None:
                return self._explained(m)
        name = self.names.get(m.s) or self.name(m.s)
        return [_LAST_TRADE(self.venue, name, m.T, price, qty, "sell" if m.m else "buy")]

    def _mark(self, m: _Mark) -> list[Any]:
        # Rare (1/s per symbol) and with optional string fields: the dict handler is exact.
        frame = {"e": "markPriceUpdate", "s": m.s, "E": m.E, "p": m.p, "i": m.i, "r": m.r}
        return wire.decode(self.venue, {**frame, "T": m.T}, self.symbols)

    def _depth(self, m: _Depth, raw: bytes | str, floats: msgspec.json.Decoder) -> list[Any]:
        if m.u < m.U:
            raise WireError(f"{self.venue} depthUpdate: u {m.u} is below U {m.U}")
        ts = m.T or m.E
        if ts is None:
            raise WireError(f"{self.venue} depthUpdate: field 'E' is missing")
        name = self.names.get(m.s) or self.name(m.s)
        bids, asks = tuple(m.b), tuple(m.a)
        try:
            f = floats.decode(raw)
            f = f.data if floats is _FLOATS_ENVELOPE else f
            parsed = (bids, asks, f.b, f.a)
        except msgspec.ValidationError:  # the Python parse gives the exact error (or levels)
            what = f"{self.venue} depthUpdate"
            bids, bf = parse_raw_levels(m.b, what, strings=True)
            asks, af = parse_raw_levels(m.a, what, strings=True)
            parsed = (bids, asks, bf, af)
        return [_DEPTH_DIFF(self.venue, name, ts, m.U, m.u, m.pu, bids, asks, parsed)]


_DECODERS: dict[str, BinanceDecoder] = {}


def decode_raw(
    venue: str,
    raw: bytes | str,
    symbols: wire.SymbolMap | None = None,
    *,
    symbol_hint: str | None = None,
) -> list[wire.WireItem]:
    """Inputs of one frame given as wire text; same results and errors as ``wire.decode``.

    Keep a ``BinanceDecoder`` to decode many frames with a symbol map (this makes one a call).
    """
    if symbols:
        return BinanceDecoder(venue, symbols).decode(raw, symbol_hint)
    decoder = _DECODERS.get(venue)
    if decoder is None:
        decoder = _DECODERS[venue] = BinanceDecoder(venue)
    return decoder.decode(raw, symbol_hint)
