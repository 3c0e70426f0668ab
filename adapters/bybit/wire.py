"""Bybit v5 public frames → typed market inputs (pure: no I/O, no clock).

Topics: ``publicTrade.<id>``, ``orderbook.<depth>.<id>``, ``tickers.<id>``; acks and pongs
decode to nothing. Docs: bybit-exchange.github.io/docs/v5/websocket/public/*.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from adapters.depth import Parsed
from adapters.wire_errors import (
    RawLevel,
    WireError,
    opt_wire_decimal,
    parse_wire_levels,
    wire_int,
    wire_price,
)
from sim.engine.market import FundingRate, LastTrade, MarketInput, MarkPrice

VENUE = "bybit"
Levels = tuple[RawLevel, ...]  # the wire's (price, qty) strings, checked
SymbolMap = Mapping[str, str]


@dataclass(frozen=True, slots=True)
class BookUpdate:
    """An ``orderbook`` message: a full snapshot or a delta, numbered by ``update_id`` (u)."""

    venue: str
    symbol: str
    ts_ms: int
    snapshot: bool
    update_id: int
    seq: int | None
    depth: int
    bids: Levels
    asks: Levels
    # the levels' floats, made when they were checked (not part of the value)
    parsed: Parsed | None = field(default=None, compare=False, repr=False)


WireItem = MarketInput | BookUpdate

_SUFFIX_RULES = (
    (re.compile(r"^([A-Z0-9]+?)USDT$"), "{b}/USDT:USDT"),
    (re.compile(r"^([A-Z0-9]+?)PERP$"), "{b}/USDC:USDC"),
    (re.compile(r"^([A-Z0-9]+?)USD$"), "{b}/USD:{b}"),
)


_NAMED: dict[str, str] = {}  # id -> symbol: no regex per message


def unified_symbol(venue_id: str, symbols: SymbolMap | None = None) -> str:
    """The ccxt symbol for a Bybit id: the map first, then ``XRPUSDT`` → ``XRP/USDT:USDT``,
    ``BTCPERP`` → ``BTC/USDC:USDC``, ``BTCUSD`` → ``BTC/USD:BTC`` (inverse)."""
    if symbols and venue_id in symbols:
        return symbols[venue_id]
    known = _NAMED.get(venue_id)
    if known is not None:
        return known
    for pattern, form in _SUFFIX_RULES:
        if m := pattern.match(venue_id):
            name = form.format(b=m.group(1))
            if len(_NAMED) < 10_000:
                _NAMED[venue_id] = name
            return name
    raise WireError(f"bybit: unknown market id {venue_id!r}; load the venue's markets first")


def venue_id(symbol: str, symbols: SymbolMap | None = None) -> str:
    """The Bybit id for a perpetual's ccxt symbol (inverse of ``unified_symbol``)."""
    if symbols:
        for vid, sym in symbols.items():
            if sym == symbol:
                return vid
    base_quote, _, settle = symbol.partition(":")
    base, _, quote = base_quote.partition("/")
    if not base or not quote or not settle or "-" in settle:
        raise WireError(f"symbol {symbol!r} is not a perpetual like 'XRP/USDT:USDT'")
    return f"{base}PERP" if quote == "USDC" else f"{base}{quote}"


def _trades(frame: dict[str, Any], symbols: SymbolMap | None) -> list[WireItem]:
    what = "bybit publicTrade"
    rows = frame.get("data")
    if not isinstance(rows, list):
        raise WireError(f"{what}: data must be a list of trades")
    out: list[WireItem] = []
    for d in rows:
        if not isinstance(d, dict):
            raise WireError(f"{what}: a trade must be an object, was {d!r}")
        taker = d.get("S")
        side = {"Buy": "buy", "Sell": "sell"}.get(taker) if isinstance(taker, str) else None
        qty = opt_wire_decimal(d, "v", what)
        if qty is None or qty <= 0:
            raise WireError(f"{what}: v must be a positive size, was {d.get('v')!r}")
        out.append(
            LastTrade(
                venue=VENUE,
                symbol=unified_symbol(str(d.get("s", "")), symbols),
                ts_ms=wire_int(d, "T", what),
                price=wire_price(d, "p", what),
                qty=qty,
                side=side,  # type: ignore[arg-type]
            )
        )
    return out


def _orderbook(frame: dict[str, Any], symbols: SymbolMap | None) -> list[WireItem]:
    what = "bybit orderbook"
    d = frame.get("data")
    kind = frame.get("type")
    if not isinstance(d, dict) or kind not in ("snapshot", "delta"):
        raise WireError(f"{what}: needs an object 'data' and type snapshot|delta, was {kind!r}")
    parts = str(frame.get("topic", "")).split(".")
    if len(parts) != 3 or not parts[1].isdigit():
        raise WireError(f"{what}: topic must look like orderbook.50.BTCUSDT")
    seq = d.get("seq")
    s = d.get("s")  # missing or null: the topic names the symbol (as the typed decoder reads it)
    symbol = unified_symbol(str(parts[2] if s is None else s), symbols)
    ts = wire_int(frame, "ts", what)
    update_id = wire_int(d, "u", what)
    bids, bf = parse_wire_levels(d.get("b", []), what)
    asks, af = parse_wire_levels(d.get("a", []), what)
    parsed = (bids, asks, bf, af)
    seq = seq if isinstance(seq, int) else None
    snapshot, depth = kind == "snapshot", int(parts[1])
    return [BookUpdate(VENUE, symbol, ts, snapshot, update_id, seq, depth, bids, asks, parsed)]


def _tickers(frame: dict[str, Any], symbols: SymbolMap | None) -> list[WireItem]:
    """Mark (+ index) and funding from a ticker; a delta only carries what changed, so feeds
    pass frames through ``TickerState.merge`` first."""
    what = "bybit tickers"
    d = frame.get("data")
    if not isinstance(d, dict):
        raise WireError(f"{what}: data must be an object")
    symbol = unified_symbol(str(d.get("symbol", "")), symbols)
    ts = wire_int(frame, "ts", what)
    out: list[WireItem] = []
    if opt_wire_decimal(d, "markPrice", what) is not None:
        index = opt_wire_decimal(d, "indexPrice", what)
        if index is not None and index <= 0:
            raise WireError(f"{what}: indexPrice must be positive, was {d.get('indexPrice')!r}")
        out.append(
            MarkPrice(VENUE, symbol, ts, price=wire_price(d, "markPrice", what), index_price=index)
        )
    rate = opt_wire_decimal(d, "fundingRate", what)
    next_time = d.get("nextFundingTime")
    if rate is not None and next_time not in (None, "", "0", 0):
        out.append(FundingRate(VENUE, symbol, ts, rate, wire_int(d, "nextFundingTime", what)))
    return out


HANDLERS: dict[str, Callable[[dict[str, Any], SymbolMap | None], list[WireItem]]] = {
    "publicTrade": _trades,
    "orderbook": _orderbook,
    "tickers": _tickers,
}


def decode(frame: Any, symbols: SymbolMap | None = None) -> list[WireItem]:
    """Decode one parsed JSON frame; unknown topics give ``[]``, malformed frames WireError."""
    if not isinstance(frame, dict):
        raise WireError(f"bybit: a frame must be a JSON object, was {type(frame).__name__}")
    topic = frame.get("topic")
    if not isinstance(topic, str):
        if "op" in frame or "success" in frame:
            return []  # subscribe ack or pong
        raise WireError(f"bybit: frame has no topic: {str(frame)[:80]}")
    handler = HANDLERS.get(topic.split(".", 1)[0])
    return handler(frame, symbols) if handler else []


def trade_ids(frame: dict[str, Any]) -> list[str]:
    """The trade ids (``i``) in a publicTrade frame, to drop trades replayed after a reconnect."""
    rows = frame.get("data")
    if not str(frame.get("topic", "")).startswith("publicTrade") or not isinstance(rows, list):
        return []
    return [str(d.get("i")) for d in rows if isinstance(d, dict) and d.get("i")]


class TickerState:
    """Merges ticker deltas into the last full ticker per symbol (Bybit sends only changes)."""

    def __init__(self) -> None:
        self._last: dict[str, dict[str, Any]] = {}

    def merge(self, frame: dict[str, Any]) -> dict[str, Any]:
        """The frame with its data completed from earlier snapshots and deltas."""
        d = frame.get("data")
        if not str(frame.get("topic", "")).startswith("tickers.") or not isinstance(d, dict):
            return frame
        key = str(d.get("symbol", ""))
        state = {} if frame.get("type") == "snapshot" else dict(self._last.get(key, {}))
        state.update({k: v for k, v in d.items() if v != ""})
        self._last[key] = state
        return {**frame, "data": state}

    def clear(self) -> None:
        self._last.clear()
