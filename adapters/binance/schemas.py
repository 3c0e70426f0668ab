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
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from adapters.binance import wire
from adapters.wire_errors import WireError, wire_raw_levels
from sim.engine.market import BookTop, LastTrade


class _BookTicker(msgspec.Struct, tag_field="e", tag="bookTicker"):
    s: str
    b: str
    B: str
    a: str
    A: str
    T: int | None = None
    E: int | None = None


class _Trade(msgspec.Struct, tag_field="e", tag="trade"):
    s: str
    T: int
    p: str
    q: str
    m: bool
    X: str = "MARKET"


class _AggTrade(_Trade, tag="aggTrade"):
    pass


class _Mark(msgspec.Struct, tag_field="e", tag="markPriceUpdate"):
    s: str
    E: int
    p: str
    i: str = ""
    r: str = ""
    T: int = 0


class _Depth(msgspec.Struct, tag_field="e", tag="depthUpdate"):
    s: str
    U: int
    u: int
    pu: int
    b: list[tuple[str, str]]
    a: list[tuple[str, str]]
    T: int | None = None
    E: int | None = None


_Event = _BookTicker | _Trade | _AggTrade | _Mark | _Depth


class _Envelope(msgspec.Struct):
    stream: str
    data: _Event


_ENVELOPE = msgspec.json.Decoder(_Envelope)
_EVENT = msgspec.json.Decoder(_Event)


def decode_raw(
    venue: str,
    raw: bytes | str,
    symbols: wire.SymbolMap | None = None,
    *,
    symbol_hint: str | None = None,
) -> list[wire.WireItem]:
    """Inputs of one frame given as wire text; same results and errors as ``wire.decode``."""
    try:
        msg: Any = _ENVELOPE.decode(raw).data
    except msgspec.ValidationError:
        try:
            msg = _EVENT.decode(raw)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return _slow(venue, raw, symbols, symbol_hint)
    except msgspec.DecodeError:
        return _slow(venue, raw, symbols, symbol_hint)
    return _TYPED[type(msg)](venue, msg, symbols)


def _slow(
    venue: str, raw: bytes | str, symbols: wire.SymbolMap | None, symbol_hint: str | None
) -> list[wire.WireItem]:
    try:
        frame = json.loads(raw)
    except ValueError as e:
        raise WireError(f"{venue}: frame is not JSON ({e})") from None
    return wire.decode(venue, frame, symbols, symbol_hint=symbol_hint)


def _book_ticker(venue: str, m: _BookTicker, symbols: wire.SymbolMap | None) -> list[Any]:
    ts = m.T or m.E
    try:
        bid, bid_qty, ask, ask_qty = Decimal(m.b), Decimal(m.B), Decimal(m.a), Decimal(m.A)
        # anything odd (NaN, zero, a missing time) is explained by the dict road
        good = bid.is_finite() and ask.is_finite() and bid_qty.is_finite()
        good = good and ask_qty.is_finite() and bid > _ZERO and ask > _ZERO and ts is not None
    except InvalidOperation:
        good = False
    if not good:
        return _explained(venue, m, symbols)
    symbol = wire.unified_symbol(venue, m.s, symbols)
    return [BookTop(venue, symbol, ts, bid, bid_qty, ask, ask_qty)]  # type: ignore[arg-type]


def _trade(venue: str, m: _Trade, symbols: wire.SymbolMap | None) -> list[Any]:
    if m.X not in ("", "MARKET"):
        return []  # insurance-fund and ADL prints are not market trades
    try:
        price, qty = Decimal(m.p), Decimal(m.q)
        good = price.is_finite() and qty.is_finite() and price > _ZERO and qty > _ZERO
    except InvalidOperation:
        good = False
    if not good:
        return _explained(venue, m, symbols)
    symbol = wire.unified_symbol(venue, m.s, symbols)
    return [LastTrade(venue, symbol, m.T, price, qty, "sell" if m.m else "buy")]


def _explained(venue: str, m: Any, symbols: wire.SymbolMap | None) -> list[Any]:
    """A frame the fast checks did not pass: the dict handler gives its exact WireError."""
    frame = {"e": type(m).__struct_config__.tag, **msgspec.structs.asdict(m)}
    return wire.decode(venue, {k: v for k, v in frame.items() if v is not None}, symbols)


_ZERO = Decimal(0)


def _mark(venue: str, m: _Mark, symbols: wire.SymbolMap | None) -> list[Any]:
    # Rare (1/s per symbol) and with optional string fields: the dict handler is exact.
    frame = {"e": "markPriceUpdate", "s": m.s, "E": m.E, "p": m.p, "i": m.i, "r": m.r}
    return wire.decode(venue, {**frame, "T": m.T}, symbols)


def _depth(venue: str, m: _Depth, symbols: wire.SymbolMap | None) -> list[Any]:
    what = f"{venue} depthUpdate"
    if m.u < m.U:
        raise WireError(f"{what}: u {m.u} is below U {m.U}")
    ts = m.T or m.E
    if ts is None:
        raise WireError(f"{what}: field 'E' is missing")
    return [
        wire.DepthDiff(
            venue,
            wire.unified_symbol(venue, m.s, symbols),
            ts,
            m.U,
            m.u,
            m.pu,
            wire_raw_levels(m.b, what, strings=True),
            wire_raw_levels(m.a, what, strings=True),
        )
    ]


_TYPED: dict[type, Callable[[str, Any, wire.SymbolMap | None], list[Any]]] = {
    _BookTicker: _book_ticker,
    _Trade: _trade,
    _AggTrade: _trade,
    _Mark: _mark,
    _Depth: _depth,
}
