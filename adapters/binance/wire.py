"""Binance futures frames → typed market inputs (pure: no I/O, no clock).

Handles the fstream/dstream public events (trade, aggTrade, bookTicker, markPriceUpdate,
depthUpdate), the combined-stream envelope ``{"stream", "data"}`` and the REST depth snapshot.
Stream docs: developers.binance.com "USDⓈ-M Futures / Websocket Market Streams".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from adapters.depth import Parsed
from adapters.wire_errors import (
    RawLevel,
    WireError,
    opt_wire_decimal,
    parse_wire_levels,
    wire_decimal,
    wire_int,
    wire_price,
)
from sim.engine.market import BookTop, FundingRate, LastTrade, MarketInput, MarkPrice

VENUES = ("binanceusdm", "binancecoinm")
Levels = tuple[RawLevel, ...]  # the wire's (price, qty) strings, checked


@dataclass(frozen=True, slots=True)
class DepthDiff:
    """One ``depthUpdate``: levels changed between update ids ``first_id`` (U) and ``last_id`` (u).

    ``prev_id`` (pu) is the previous event's ``u``: the futures streams chain on it.
    """

    venue: str
    symbol: str
    ts_ms: int
    first_id: int
    last_id: int
    prev_id: int
    bids: Levels
    asks: Levels
    # the levels' floats, made when they were checked (not part of the value)
    parsed: Parsed | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class DepthSnapshot:
    """The REST ``GET /fapi/v1/depth`` (or ``/dapi/v1/depth``) answer a book starts from."""

    venue: str
    symbol: str
    ts_ms: int
    last_update_id: int
    bids: Levels
    asks: Levels
    # the levels' floats, made when they were checked (not part of the value)
    parsed: Parsed | None = field(default=None, compare=False, repr=False)


WireItem = MarketInput | DepthDiff | DepthSnapshot
SymbolMap = Mapping[str, str]

_DATED = re.compile(r"^([A-Z0-9]+?)(USDT|USDC|BUSD)_(\d{6})$")
_LINEAR = re.compile(r"^([A-Z0-9]+?)(USDT|USDC|BUSD)$")
_COINM = re.compile(r"^([A-Z0-9]+?)USD_(PERP|\d{6})$")


def unified_symbol(venue: str, venue_id: str, symbols: SymbolMap | None = None) -> str:
    """The ccxt symbol for a Binance id: the map first, then the standard naming rules.

    ``BTCUSDT`` → ``BTC/USDT:USDT``, ``BTCUSDT_220325`` → ``BTC/USDT:USDT-220325``,
    ``BTCUSD_PERP`` → ``BTC/USD:BTC``, ``BTCUSD_240927`` → ``BTC/USD:BTC-240927``.
    """
    if symbols:
        vid = venue_id.upper()
        if vid in symbols:
            return symbols[vid]
    named = _NAMED.setdefault(venue, {})
    known = named.get(venue_id)
    if known is not None:
        return known
    name = _standard_name(venue, venue_id.upper())
    if name is None:
        raise WireError(f"{venue}: unknown market id {venue_id!r}; load the venue's markets first")
    if len(named) < 10_000:
        named[venue_id] = name
    return name


_NAMED: dict[str, dict[str, str]] = {}  # venue -> id as sent -> symbol: no regex per message


def _standard_name(venue: str, vid: str) -> str | None:
    if venue == "binancecoinm" and (m := _COINM.match(vid)):
        base, when = m.groups()
        return f"{base}/USD:{base}" + ("" if when == "PERP" else f"-{when}")
    if venue == "binanceusdm":
        if m := _DATED.match(vid):
            base, quote, when = m.groups()
            return f"{base}/{quote}:{quote}-{when}"
        if m := _LINEAR.match(vid):
            base, quote = m.groups()
            return f"{base}/{quote}:{quote}"
    return None


def venue_id(symbol: str, symbols: SymbolMap | None = None) -> str:
    """The Binance id for a ccxt symbol (inverse of ``unified_symbol``)."""
    if symbols:
        for vid, sym in symbols.items():
            if sym == symbol:
                return vid
    base_quote, _, settle_part = symbol.partition(":")
    base, _, quote = base_quote.partition("/")
    settle, _, expiry = settle_part.partition("-")
    if not base or not quote or not settle:
        raise WireError(f"symbol {symbol!r} is not a futures symbol like 'BTC/USDT:USDT'")
    if quote == "USD":
        return f"{base}USD_{expiry or 'PERP'}"
    return f"{base}{quote}" + (f"_{expiry}" if expiry else "")


def _trade(venue: str, d: dict[str, Any], symbols: SymbolMap | None) -> list[WireItem]:
    what = f"{venue} trade"
    if d.get("X") not in (None, "", "MARKET"):
        return []  # insurance-fund and ADL prints are not market trades
    maker = d.get("m")
    if not isinstance(maker, bool):
        raise WireError(f"{what}: m (buyer is maker) must be true/false, was {maker!r}")
    return [
        LastTrade(
            venue=venue,
            symbol=unified_symbol(venue, str(d.get("s", "")), symbols),
            ts_ms=wire_int(d, "T", what),
            price=wire_price(d, "p", what),
            qty=_positive(d, "q", what),
            side="sell" if maker else "buy",
        )
    ]


def _book_ticker(venue: str, d: dict[str, Any], symbols: SymbolMap | None) -> list[WireItem]:
    what = f"{venue} bookTicker"
    ts = d.get("T") or d.get("E")
    return [
        BookTop(
            venue=venue,
            symbol=unified_symbol(venue, str(d.get("s", "")), symbols),
            ts_ms=wire_int({"T": ts}, "T", what),
            bid=wire_price(d, "b", what),
            bid_qty=wire_decimal(d, "B", what),
            ask=wire_price(d, "a", what),
            ask_qty=wire_decimal(d, "A", what),
        )
    ]


def _mark_price(venue: str, d: dict[str, Any], symbols: SymbolMap | None) -> list[WireItem]:
    what = f"{venue} markPriceUpdate"
    symbol = unified_symbol(venue, str(d.get("s", "")), symbols)
    ts = wire_int(d, "E", what)
    index = opt_wire_decimal(d, "i", what)
    if index is not None and index <= 0:
        raise WireError(f"{what}: i must be a positive price, was {d.get('i')!r}")
    out: list[WireItem] = [
        MarkPrice(
            venue=venue, symbol=symbol, ts_ms=ts, price=wire_price(d, "p", what), index_price=index
        )
    ]
    rate = opt_wire_decimal(d, "r", what)
    next_time = d.get("T")
    # Dated futures carry r == "" and T == 0: no funding.
    if rate is not None and isinstance(next_time, int) and next_time > 0:
        out.append(
            FundingRate(venue=venue, symbol=symbol, ts_ms=ts, rate=rate, funding_time_ms=next_time)
        )
    return out


def _depth_update(venue: str, d: dict[str, Any], symbols: SymbolMap | None) -> list[WireItem]:
    what = f"{venue} depthUpdate"
    first, last = wire_int(d, "U", what), wire_int(d, "u", what)
    if last < first:
        raise WireError(f"{what}: u {last} is below U {first}")
    symbol = unified_symbol(venue, str(d.get("s", "")), symbols)
    ts = wire_int(d, "T", what) if d.get("T") else wire_int(d, "E", what)
    prev = wire_int(d, "pu", what)
    bids, bf = parse_wire_levels(d.get("b"), what)
    asks, af = parse_wire_levels(d.get("a"), what)
    parsed = (bids, asks, bf, af)
    return [DepthDiff(venue, symbol, ts, first, last, prev, bids, asks, parsed)]


def _positive(d: dict[str, Any], key: str, what: str) -> Decimal:
    value = wire_decimal(d, key, what)
    if value <= 0:
        raise WireError(f"{what}: {key} must be positive, was {d.get(key)!r}")
    return value


Handler = Callable[[str, dict[str, Any], "SymbolMap | None"], list[WireItem]]
HANDLERS: dict[str, Handler] = {
    "trade": _trade,
    "aggTrade": _trade,
    "bookTicker": _book_ticker,
    "markPriceUpdate": _mark_price,
    "depthUpdate": _depth_update,
}


def decode(
    venue: str, frame: Any, symbols: SymbolMap | None = None, *, symbol_hint: str | None = None
) -> list[WireItem]:
    """Decode one parsed JSON frame; unknown event types give ``[]``, malformed ones WireError.

    ``symbol_hint`` names the market of a REST depth snapshot, which carries no symbol on
    USDⓈ-M (the recorded captures hold one such line).
    """
    if not isinstance(frame, dict):
        raise WireError(f"{venue}: a frame must be a JSON object, was {type(frame).__name__}")
    if "stream" in frame and "data" in frame:
        frame = frame["data"]
        if isinstance(frame, list):  # the "!markPrice@arr" style streams
            return [item for d in frame for item in decode(venue, d, symbols)]
        if not isinstance(frame, dict):
            raise WireError(f"{venue}: stream data must be an object, was {type(frame).__name__}")
    if "lastUpdateId" in frame:
        return [decode_snapshot(venue, frame, symbol_hint, symbols)]
    event = frame.get("e")
    if event is None:
        if "result" in frame and "id" in frame:
            return []  # SUBSCRIBE acknowledgement
        raise WireError(f"{venue}: frame has no event type 'e': {str(frame)[:80]}")
    if not isinstance(event, str):
        raise WireError(f"{venue}: event type 'e' must be a string, was {event!r}")
    handler = HANDLERS.get(event)
    return handler(venue, frame, symbols) if handler else []


def decode_snapshot(
    venue: str, body: dict[str, Any], symbol: str | None, symbols: SymbolMap | None = None
) -> DepthSnapshot:
    """The REST depth snapshot; ``symbol`` is a ccxt symbol or a venue id (COIN-M names it)."""
    what = f"{venue} depth snapshot"
    if symbol is None:
        symbol = body.get("symbol")
        if not isinstance(symbol, str):
            raise WireError(f"{what}: no symbol in the body; pass the symbol it was fetched for")
    if "/" not in symbol:
        symbol = unified_symbol(venue, symbol, symbols)
    ts = body.get("T") or body.get("E") or 0
    last_id = wire_int(body, "lastUpdateId", what)
    bids, bf = parse_wire_levels(body.get("bids"), what)
    asks, af = parse_wire_levels(body.get("asks"), what)
    ts = ts if isinstance(ts, int) else 0
    return DepthSnapshot(venue, symbol, ts, last_id, bids, asks, (bids, asks, bf, af))


def trade_id(frame: dict[str, Any]) -> int | None:
    """The per-symbol trade id (``t``, or ``a`` for aggTrade) used to drop replayed trades."""
    d = frame.get("data", frame)
    if not isinstance(d, dict):
        return None
    key = {"trade": "t", "aggTrade": "a"}.get(str(d.get("e")))
    value = d.get(key) if key else None
    return value if isinstance(value, int) else None
