"""ccxt structures → market inputs (pure): the "wire format" of venues read through ccxt.

The generic feed (``adapters/ccxt_feed.py``) records each ccxt result as an envelope
``{"ccxt": kind, "symbol": s, "data": ...}`` (``envelope``; ``info`` dropped) and decodes it
with ``decode_ccxt``, so a replay of a recording yields exactly the live inputs. ccxt numbers
are floats: they become Decimals through ``str``; NaN, missing or non-positive prices and a
crossed book are ``WireError``s (the feed logs, counts and skips them).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from adapters.wire_errors import WireError
from sim.engine.market import BookDepth, BookTop, FundingRate, LastTrade, MarkPrice
from sim.engine.market import MarketInput as Input


def _dec(value: Any, what: str, *, positive: bool = False, signed: bool = False) -> Decimal:
    """A finite Decimal from a ccxt number (via ``str``: ccxt gives floats)."""
    if value is None or isinstance(value, bool):
        raise WireError(f"{what} is missing")
    try:
        out = Decimal(str(value))
    except InvalidOperation:
        raise WireError(f"{what} is not a number, was {value!r}") from None
    if not out.is_finite():
        raise WireError(f"{what} is not finite, was {value!r}")
    if positive and out <= 0:
        raise WireError(f"{what} must be positive, was {value!r}")
    if not signed and out < 0:
        raise WireError(f"{what} must not be negative, was {value!r}")
    return out


def _ts(value: Any, fallback_ms: int) -> int:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return int(value)
    return fallback_ms


def _trades(venue: str, symbol: str, data: Any, recv_ms: int) -> list[Input]:
    if not isinstance(data, list):
        raise WireError(f"{venue} {symbol} trades must be a list, was {type(data).__name__}")
    out: list[Input] = []
    for t in data:
        what = f"{venue} {symbol} trade"
        side = t.get("side")
        out.append(
            LastTrade(
                venue=venue,
                symbol=t.get("symbol") or symbol,
                ts_ms=_ts(t.get("timestamp"), recv_ms),
                price=_dec(t.get("price"), f"{what} price", positive=True),
                qty=_dec(t.get("amount"), f"{what} amount", positive=True),
                side=side if side in ("buy", "sell") else None,
            )
        )
    return out


def _levels(raw: Any, what: str) -> tuple[tuple[Decimal, Decimal], ...]:
    if not isinstance(raw, list):
        raise WireError(f"{what} must be a list of [price, amount]")
    return tuple(
        (_dec(lv[0], f"{what} price", positive=True), _dec(lv[1], f"{what} amount")) for lv in raw
    )


def _book(venue: str, symbol: str, data: Any, recv_ms: int) -> list[Input]:
    what = f"{venue} {symbol} order book"
    bids, asks = (
        _levels(data.get("bids"), f"{what} bids"),
        _levels(data.get("asks"), f"{what} asks"),
    )
    ts = _ts(data.get("timestamp"), recv_ms)
    out: list[Input] = [BookDepth(venue=venue, symbol=symbol, ts_ms=ts, bids=bids, asks=asks)]
    if bids and asks:
        if bids[0][0] >= asks[0][0]:
            raise WireError(f"{what} is crossed: bid {bids[0][0]} >= ask {asks[0][0]}")
        out.append(
            BookTop(
                venue=venue,
                symbol=symbol,
                ts_ms=ts,
                bid=bids[0][0],
                bid_qty=bids[0][1],
                ask=asks[0][0],
                ask_qty=asks[0][1],
            )
        )
    return out


def _ticker(venue: str, symbol: str, data: Any, recv_ms: int) -> list[Input]:
    what = f"{venue} {symbol} ticker"
    ts = _ts(data.get("timestamp"), recv_ms)
    out: list[Input] = []
    if data.get("markPrice") is not None:
        index = data.get("indexPrice")
        out.append(
            MarkPrice(
                venue=venue,
                symbol=symbol,
                ts_ms=ts,
                price=_dec(data["markPrice"], f"{what} markPrice", positive=True),
                index_price=None
                if index is None
                else _dec(index, f"{what} indexPrice", positive=True),
            )
        )
    quote = [data.get(k) for k in ("bid", "bidVolume", "ask", "askVolume")]
    if all(v is not None for v in quote):
        bid, ask = (_dec(data[k], f"{what} {k}", positive=True) for k in ("bid", "ask"))
        out.append(
            BookTop(
                venue=venue,
                symbol=symbol,
                ts_ms=ts,
                bid=bid,
                bid_qty=_dec(data["bidVolume"], f"{what} bidVolume"),
                ask=ask,
                ask_qty=_dec(data["askVolume"], f"{what} askVolume"),
            )
        )
    return out


def _funding(venue: str, symbol: str, data: Any, recv_ms: int) -> list[Input]:
    what = f"{venue} {symbol} funding rate"
    ts = _ts(data.get("timestamp"), recv_ms)
    out: list[Input] = []
    when = data.get("fundingTimestamp") or data.get("nextFundingTimestamp")
    if data.get("fundingRate") is not None and when:
        out.append(
            FundingRate(
                venue=venue,
                symbol=symbol,
                ts_ms=ts,
                rate=_dec(data["fundingRate"], f"{what} fundingRate", signed=True),
                funding_time_ms=_ts(when, 0),
            )
        )
    if data.get("markPrice") is not None:
        out.extend(
            _ticker(
                venue,
                symbol,
                {
                    "markPrice": data["markPrice"],
                    "timestamp": ts,
                    "indexPrice": data.get("indexPrice"),
                },
                recv_ms,
            )
        )
    return out


_CONVERT: dict[str, Callable[[str, str, Any, int], list[Input]]] = {
    "trades": _trades,
    "book": _book,
    "ticker": _ticker,
    "mark": _ticker,
    "funding": _funding,
}


def decode_ccxt(venue: str, frame: dict[str, Any], recv_ms: int) -> list[Input]:
    """Turn one ccxt envelope ``{"ccxt", "symbol", "data"}`` into inputs (WireError if bad).

    ``recv_ms`` stands in for a structure without a timestamp, as it did live.
    """
    kind, symbol, data = frame.get("ccxt"), frame.get("symbol"), frame.get("data")
    convert = _CONVERT.get(kind) if isinstance(kind, str) else None
    if convert is None or not isinstance(symbol, str):
        raise WireError(f"{venue}: not a ccxt frame (kind {kind!r}, symbol {symbol!r})")
    if kind != "trades" and not isinstance(data, dict):
        raise WireError(f"{venue} {symbol} {kind} must be an object")
    try:
        return convert(venue, symbol, data, recv_ms)
    except (AttributeError, TypeError, IndexError, KeyError) as e:
        raise WireError(f"{venue} {symbol} {kind}: malformed structure ({e})") from None


def envelope(kind: str, symbol: str, result: Any, levels: int) -> dict[str, Any]:
    """The JSON-safe form of a ccxt result that is recorded and decoded (``info`` dropped)."""
    if kind == "trades":
        keep = ("id", "timestamp", "symbol", "side", "price", "amount")
        data: Any = [{k: t.get(k) for k in keep} for t in result]
    elif kind == "book":
        data = {
            "timestamp": result.get("timestamp"),
            "nonce": result.get("nonce"),
            "bids": [list(lv[:2]) for lv in result.get("bids", [])[:levels]],
            "asks": [list(lv[:2]) for lv in result.get("asks", [])[:levels]],
        }
    else:
        data = {k: v for k, v in result.items() if k != "info"}
    return {"ccxt": kind, "symbol": symbol, "data": data}
