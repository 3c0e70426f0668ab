"""Build ccxt exchange instances by id, optionally pointed at another endpoint (e.g. the loopback).

One factory for every adapter: the REST/WS URL rewrites that aim a real ccxt class at a
compatible server live here and nowhere else (recipe: exchange-mechanics.md §B.6).
"""

from __future__ import annotations

import difflib
from typing import Any
from urllib.parse import urlsplit

from sim.errors import InputError

# Binance REST keys that carry the futures market-data and trading paths.
_BINANCE_REST = {
    "fapiPublic": "/fapi/v1",
    "fapiPublicV2": "/fapi/v2",
    "fapiPublicV3": "/fapi/v3",
    "fapiPrivate": "/fapi/v1",
    "fapiPrivateV2": "/fapi/v2",
    "fapiPrivateV3": "/fapi/v3",
    "fapiData": "/futures/data",
    "dapiPublic": "/dapi/v1",
    "dapiPrivate": "/dapi/v1",
    "dapiPrivateV2": "/dapi/v2",
    "dapiData": "/futures/data",
}
_BINANCE_IDS = {"binanceusdm", "binancecoinm", "binance"}
_BINANCE_WS_KEYS = ("linear", "inverse")
_BYBIT_WS_CATEGORIES = ("linear", "inverse")

# Bybit loads spot and options by default; microfut only trades its futures.
_VENUE_OPTIONS: dict[str, dict[str, Any]] = {
    "bybit": {"fetchMarkets": {"types": ["linear", "inverse"]}},
}


def known_exchanges() -> list[str]:
    """Every ccxt exchange id this ccxt version ships (imports ccxt: only when needed)."""
    import ccxt

    return list(ccxt.exchanges)


def check_exchange_id(exchange_id: str) -> str:
    """Return the id when ccxt knows it; InputError with close matches otherwise."""
    known = known_exchanges()
    if exchange_id in known:
        return exchange_id
    close = difflib.get_close_matches(exchange_id.lower(), known, n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise InputError(
        f"unknown exchange '{exchange_id}'{hint} (any ccxt id works, e.g. 'binanceusdm', 'bybit')"
    )


def _split_endpoint(endpoint: str) -> tuple[str, str]:
    """Validate an endpoint like ``http://127.0.0.1:8080``; return (scheme, netloc)."""
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(f"endpoint must look like 'http://127.0.0.1:8080', was {endpoint!r}")
    return parts.scheme, parts.netloc


def rest_base(endpoint: str) -> str:
    """The endpoint reduced to ``scheme://host:port`` (no trailing slash, no path)."""
    scheme, netloc = _split_endpoint(endpoint)
    return f"{scheme}://{netloc}"


def ws_base(endpoint: str) -> str:
    """The websocket base for an HTTP endpoint: http→ws, https→wss, same host and port."""
    scheme, netloc = _split_endpoint(endpoint)
    return f"{'wss' if scheme == 'https' else 'ws'}://{netloc}"


def make_exchange(
    exchange_id: str,
    *,
    endpoint: str | None = None,
    pro: bool = False,
    options: dict[str, Any] | None = None,
) -> Any:
    """A real ccxt exchange (sync, or ``ccxt.pro`` async when ``pro``), no API keys.

    With ``endpoint`` every REST and websocket URL the market-data paths use is pointed at that
    server, so the same class talks to a loopback or any compatible exchange. Rate limiting stays
    on except for loopback (127.0.0.1, localhost) and in-process (``*.invalid``) endpoints.
    """
    check_exchange_id(exchange_id)
    if pro:
        import ccxt.pro as module
    else:
        import ccxt as module
    cls = getattr(module, exchange_id, None)
    if cls is None:
        raise InputError(f"exchange '{exchange_id}' has no websocket (ccxt.pro) class")
    merged: dict[str, Any] = {}
    _deep_merge(merged, _VENUE_OPTIONS.get(exchange_id, {}))
    _deep_merge(merged, options or {})
    ex = cls({"options": merged, "enableRateLimit": not _is_local(endpoint)})
    if endpoint:
        point_at(ex, exchange_id, endpoint)
    return ex


def _is_local(endpoint: str | None) -> bool:
    """A loopback or in-process endpoint needs no client-side rate limiting."""
    if not endpoint:
        return False
    host = urlsplit(endpoint).hostname or ""
    return host in ("127.0.0.1", "localhost", "::1") or host.endswith(".invalid")


def point_at(ex: Any, exchange_id: str, endpoint: str) -> None:
    """Rewrite ``ex.urls['api']`` in place so requests go to ``endpoint``.

    binance*: the fapi/dapi keys become endpoint + '/fapi/v1' etc., websockets ws://host/ws.
    bybit: every REST key becomes the endpoint; public websockets ws://host/v5/public/<category>.
    Any other venue (best effort): each http(s) URL keeps its path but takes the endpoint's
    scheme and host; each ws(s) URL likewise takes the websocket form of the endpoint.
    """
    base, wsb = rest_base(endpoint), ws_base(endpoint)
    api = ex.urls["api"]
    if exchange_id in _BINANCE_IDS:
        for key, path in _BINANCE_REST.items():
            if key in api:
                api[key] = base + path
        ws = api.get("ws")
        if isinstance(ws, dict):
            for key in _BINANCE_WS_KEYS:
                ws[key] = wsb + "/ws"
    elif exchange_id == "bybit":
        for key in list(api):
            if key != "ws":
                api[key] = base
        ws = api.get("ws")
        if isinstance(ws, dict) and isinstance(ws.get("public"), dict):
            for cat in _BYBIT_WS_CATEGORIES:
                ws["public"][cat] = f"{wsb}/v5/public/{cat}"
    else:
        ex.urls["api"] = _rehost(api, base, wsb)


def _rehost(value: Any, base: str, wsb: str) -> Any:
    """Recursively replace the scheme and host of every URL string, keeping its path."""
    if isinstance(value, dict):
        return {k: _rehost(v, base, wsb) for k, v in value.items()}
    if isinstance(value, list):
        return [_rehost(v, base, wsb) for v in value]
    if isinstance(value, str) and "://" in value:
        scheme, rest = value.split("://", 1)
        path = rest[rest.find("/") :] if "/" in rest else ""
        if scheme in ("http", "https"):
            return base + path
        if scheme in ("ws", "wss"):
            return wsb + path
    return value


def _deep_merge(into: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _deep_merge(into[key], value)
        elif isinstance(value, dict):
            into[key] = {}
            _deep_merge(into[key], value)
        else:
            into[key] = value
