"""Serve the recorded REST payloads in each venue's own wire format (loopback or in-process).

Only what was really recorded is served: Binance USDⓈ-M exchangeInfo (2022-02-19), depth
snapshots and last trade / book ticker from the 2024-08-08 captures (USDⓈ-M and COIN-M),
Bybit v5 instruments-info, and the candle / mark / funding history of ``ohlcv/`` (see
``adapters.loopback.history``). Anything else answers with the venue's own error payload.
Bybit's risk-limit tiers are served from ``bybit/v5_risk_limit_items.json`` when such a recording
exists; none was recorded so far, and the route then answers like an unrecorded path.

Two transports share one answer table: an aiohttp app (``rest_app`` / ``add_rest_routes``,
for tests and the loopback exchange) and a ``requests`` transport adapter that lets the sync ccxt
classes parse the recorded files offline without opening a socket (``RecordedTransport``).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import threading
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from aiohttp import web
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from adapters.datadirs import find_data_file, load_json
from adapters.loopback import history as hist
from adapters.loopback.faults import Faults
from sim.errors import DataError

Answer = tuple[int, Any]
Handler = Callable[[dict[str, str]], Answer]

BINANCE_INVALID_SYMBOL = {"code": -1121, "msg": "Invalid symbol."}
BINANCE_CAPTURES = {
    "binanceusdm": {
        "BTCUSDT": "binanceusdm/ws_raw_btcusdt_20240808.gz",
        "ETHUSDT": "binanceusdm/ws_raw_ethusdt_20240808.gz",
    },
    "binancecoinm": {"BTCUSD_PERP": "binancecoinm/ws_raw_btcusd_perp_20240808.gz"},
}
BINANCE_PREFIX = {"binanceusdm": "/fapi/v1", "binancecoinm": "/dapi/v1"}
BINANCE_EXCHANGE_INFO = {"binanceusdm": "binanceusdm/fapi_v1_exchangeInfo_2022-02-19.json"}
BYBIT_INSTRUMENTS = "bybit/v5_instruments_info_items.json"
BYBIT_RISK_LIMITS = "bybit/v5_risk_limit_items.json"
DEPTH_LIMITS = (5, 10, 20, 50, 100, 500, 1000)
SERVED_VENUES = ("binanceusdm", "binancecoinm", "bybit")


@cache
def _capture_summary(path: Path) -> dict[str, Any]:
    """The depth snapshot and the last trade / bookTicker / markPrice payloads of a capture."""
    out: dict[str, Any] = {}
    try:
        with gzip.open(path, "rt") as f:
            for line in f:
                raw = line.split(" ", 1)[1]
                if raw.startswith('{"lastUpdateId"'):
                    out["depth"] = json.loads(raw)
                    continue
                kind = raw[11 : raw.find('"', 11)].split("@", 1)[-1]
                if kind in ("trade", "bookTicker", "markPrice", "markPrice@1s"):
                    out[kind.split("@")[0]] = raw
    except (OSError, ValueError, IndexError) as e:
        raise DataError(f"cannot read capture {path}: {e}") from None
    return {k: (json.loads(v)["data"] if isinstance(v, str) else v) for k, v in out.items()}


class ConnectionCut(Exception):
    """A ``cut`` fault: the transport must close the connection instead of answering."""


class RecordedVenue:
    """Answers ``(path, query) → (status, JSON body)`` for one venue from the recorded files.

    ``requests`` counts the requests per path (tests assert what a client asked for); a ``cut``
    fault in ``faults`` drops the N-th history request (klines, mark klines, funding).
    ``wire_test_candles`` (tests only) serves the recorded *Binance* candles under Bybit's routes
    to check Bybit's wire format and paging: they are not Bybit data.
    """

    def __init__(
        self,
        venue: str,
        data_dirs: Sequence[Path],
        *,
        faults: Faults | None = None,
        wire_test_candles: bool = False,
    ) -> None:
        if venue not in SERVED_VENUES:
            raise DataError(f"no recorded REST payloads for {venue}; served: {SERVED_VENUES}")
        self.venue = venue
        self.data_dirs = list(data_dirs)
        self.faults = faults or Faults()
        self.requests: Counter[str] = Counter()
        self.history_requests = 0
        self.routes: dict[str, Handler] = {}
        self.history_paths: set[str] = set()
        source = "binanceusdm" if venue == "bybit" and wire_test_candles else venue
        self.history = hist.RecordedHistory(source, venue, self.data_dirs)
        if venue == "bybit":
            self.routes["/v5/market/instruments-info"] = self._bybit_instruments
            self.routes["/v5/market/risk-limit"] = self._bybit_risk_limit
            self._add_history(
                "/v5/market/kline", lambda q: hist.bybit_klines(self.history, q, "futures")
            )
            self._add_history(
                "/v5/market/mark-price-kline", lambda q: hist.bybit_klines(self.history, q, "mark")
            )
            self._add_history(
                "/v5/market/funding/history", lambda q: hist.bybit_funding(self.history, q)
            )
            self.history.symbols |= self._bybit_ids()
        else:
            prefix = BINANCE_PREFIX[venue]
            if venue in BINANCE_EXCHANGE_INFO:
                self.routes[f"{prefix}/exchangeInfo"] = self._binance_exchange_info
            self.routes[f"{prefix}/depth"] = self._binance_depth
            self.routes[f"{prefix}/ticker/price"] = self._binance_ticker_price
            self.routes[f"{prefix}/ticker/bookTicker"] = self._binance_book_ticker
            self.routes[f"{prefix}/premiumIndex"] = self._binance_premium_index
            self.history.symbols |= set(BINANCE_CAPTURES[venue])
            self._add_history(
                f"{prefix}/klines", lambda q: hist.binance_klines(self.history, q, "futures")
            )
            self._add_history(
                f"{prefix}/markPriceKlines", lambda q: hist.binance_klines(self.history, q, "mark")
            )
            self._add_history(
                f"{prefix}/fundingRate", lambda q: hist.binance_funding(self.history, q)
            )

    def _add_history(self, path: str, handler: Handler) -> None:
        self.routes[path] = handler
        self.history_paths.add(path)

    def answer(self, path: str, query: dict[str, str]) -> Answer:
        """The venue's answer; ConnectionCut when a ``cut`` fault falls on this request."""
        path = path.rstrip("/")
        self.requests[path] += 1
        if path in self.history_paths:
            self.history_requests += 1
            if self.faults.take_cut(self.history_requests):
                raise ConnectionCut(path)
        handler = self.routes.get(path)
        if handler is None:
            if self.venue == "bybit":
                return 404, _bybit_envelope(10001, f"path {path} is not recorded", {})
            return 404, {"code": -1000, "msg": f"path {path} is not recorded"}
        return handler(query)

    # binance ------------------------------------------------------------------------------
    def _binance_exchange_info(self, query: dict[str, str]) -> Answer:
        return 200, load_json(find_data_file(BINANCE_EXCHANGE_INFO[self.venue], self.data_dirs))

    def _capture(self, symbol: str | None) -> dict[str, Any] | None:
        rel = BINANCE_CAPTURES[self.venue].get((symbol or "").upper())
        return None if rel is None else _capture_summary(find_data_file(rel, self.data_dirs))

    def _binance_depth(self, query: dict[str, str]) -> Answer:
        cap = self._capture(query.get("symbol"))
        if cap is None or "depth" not in cap:
            return 400, BINANCE_INVALID_SYMBOL
        limit = int(query.get("limit", "500")) if query.get("limit", "").isdigit() else 500
        if limit not in DEPTH_LIMITS:
            return 400, {"code": -1102, "msg": "Illegal characters found in parameter 'limit'."}
        snap = dict(cap["depth"])
        snap["bids"], snap["asks"] = snap["bids"][:limit], snap["asks"][:limit]
        return 200, snap

    def _per_symbol(self, query: dict[str, str], build: Callable[[dict[str, Any]], Any]) -> Answer:
        symbol = query.get("symbol")
        if symbol is None:
            rows = [build(c) for s in BINANCE_CAPTURES[self.venue] if (c := self._capture(s))]
            return 200, [r for r in rows if r is not None]
        cap = self._capture(symbol)
        row = build(cap) if cap is not None else None
        return (400, BINANCE_INVALID_SYMBOL) if row is None else (200, row)

    def _binance_ticker_price(self, query: dict[str, str]) -> Answer:
        def build(cap: dict[str, Any]) -> dict[str, Any] | None:
            t = cap.get("trade")
            return t and {"symbol": t["s"], "price": t["p"], "time": t["T"]}

        return self._per_symbol(query, build)

    def _binance_book_ticker(self, query: dict[str, str]) -> Answer:
        def build(cap: dict[str, Any]) -> dict[str, Any] | None:
            b = cap.get("bookTicker")
            return b and {
                "symbol": b["s"],
                "bidPrice": b["b"],
                "bidQty": b["B"],
                "askPrice": b["a"],
                "askQty": b["A"],
                "time": b["T"],
                "lastUpdateId": b["u"],
            }

        return self._per_symbol(query, build)

    def _binance_premium_index(self, query: dict[str, str]) -> Answer:
        cap = self._capture(query.get("symbol"))
        mark = cap.get("markPrice") if cap else None
        if mark is None:
            # The captures hold no markPrice stream: nothing real to serve.
            return 404, BINANCE_INVALID_SYMBOL
        return 200, {
            "symbol": mark["s"],
            "markPrice": mark["p"],
            "indexPrice": mark.get("i", ""),
            "estimatedSettlePrice": mark.get("P", ""),
            "lastFundingRate": mark.get("r", ""),
            "nextFundingTime": mark.get("T", 0),
            "interestRate": "",
            "time": mark["E"],
        }

    # bybit --------------------------------------------------------------------------------
    def _bybit_ids(self) -> set[str]:
        """Every recorded Bybit instrument id (history for other ids is 'Symbol Is Invalid')."""
        try:
            items = load_json(find_data_file(BYBIT_INSTRUMENTS, self.data_dirs))
        except DataError:
            return set()
        return {
            str(r.get("symbol"))
            for cat in ("linear", "inverse")
            for r in (items.get(cat, []) if isinstance(items, dict) else [])
        }

    def _bybit_risk_limit(self, query: dict[str, str]) -> Answer:
        category = query.get("category")
        if category not in ("linear", "inverse"):
            return 200, _bybit_envelope(10001, "params error: Category is invalid", {})
        symbol = query.get("symbol", "").upper()
        if symbol and symbol not in self._bybit_ids() | self.history.symbols:
            return 200, _bybit_envelope(10001, "params error: Symbol Is Invalid", {})
        if not any((d / BYBIT_RISK_LIMITS).exists() for d in self.data_dirs):
            return 404, _bybit_envelope(10001, "path /v5/market/risk-limit is not recorded", {})
        items = load_json(find_data_file(BYBIT_RISK_LIMITS, self.data_dirs))
        rows: list[Any] = items.get(category, []) if isinstance(items, dict) else []
        if symbol:
            rows = [r for r in rows if r.get("symbol") == symbol]
        return 200, _bybit_envelope(0, "OK", {"category": category, "list": rows})

    def _bybit_instruments(self, query: dict[str, str]) -> Answer:
        category = query.get("category")
        if category not in ("linear", "inverse"):
            return 200, _bybit_envelope(10001, "params error: Category is invalid", {})
        items = load_json(find_data_file(BYBIT_INSTRUMENTS, self.data_dirs))
        rows = items.get(category, []) if isinstance(items, dict) else []
        status = query.get("status", "Trading")
        rows = [r for r in rows if r.get("status") == status]
        if "symbol" in query:
            rows = [r for r in rows if r.get("symbol") == query["symbol"].upper()]
            if not rows:
                return 200, _bybit_envelope(10001, "params error: symbol invalid", {})
        result = {"category": category, "list": rows, "nextPageCursor": ""}
        return 200, _bybit_envelope(0, "OK", result)


_bybit_envelope = hist.bybit_envelope


# aiohttp transport --------------------------------------------------------------------------
RECORDED = web.AppKey("recorded", RecordedVenue)


def add_rest_routes(
    app: web.Application, venue: str, data_dirs: Sequence[Path], **options: Any
) -> RecordedVenue:
    """Mount the venue's recorded REST routes on an existing app (the loopback server does).

    ``options`` go to :class:`RecordedVenue` (``faults``, ``wire_test_candles``); the returned
    instance counts the requests it answered.
    """
    recorded = RecordedVenue(venue, data_dirs, **options)

    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            status, body = await asyncio.to_thread(
                recorded.answer, request.path, dict(request.query)
            )
        except ConnectionCut:
            if request.transport is not None:
                request.transport.close()  # the client sees the server disconnect mid-request
            return web.Response(status=500)
        except DataError as e:
            status, body = 500, {"code": -1000, "msg": str(e)}
        return web.json_response(body, status=status)

    for path in recorded.routes:
        app.router.add_get(path, handle)
    app[RECORDED] = recorded
    return recorded


def rest_app(venue: str, data_dirs: Sequence[Path], **options: Any) -> web.Application:
    """An aiohttp app serving ``venue``'s recorded REST payloads (``app[RECORDED]`` counts)."""
    app = web.Application()
    add_rest_routes(app, venue, data_dirs, **options)
    return app


@asynccontextmanager
async def serve_rest(app: web.Application) -> AsyncIterator[str]:
    """Run ``app`` on 127.0.0.1 with an ephemeral port; yield its base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@contextmanager
def serve_rest_thread(app: web.Application, timeout_s: float = 10.0) -> Iterator[str]:
    """Like :func:`serve_rest`, on its own event loop in a thread, for sync callers (sync ccxt)."""
    loop = asyncio.new_event_loop()
    box: dict[str, str] = {}
    started = threading.Event()
    stop: asyncio.Event | None = None

    async def serve() -> None:
        nonlocal stop
        stop = asyncio.Event()
        async with serve_rest(app) as url:
            box["url"] = url
            started.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    try:
        if not started.wait(timeout_s):
            raise DataError(f"loopback REST server did not start within {timeout_s} s")
        yield box["url"]
    finally:
        if stop is not None:
            loop.call_soon_threadsafe(stop.set)
        thread.join(timeout_s)
        loop.close()


# in-process transport (no socket) -------------------------------------------------------------
IN_PROCESS_BASE = "http://recorded.microfut.invalid"


class RecordedTransport(BaseAdapter):
    """A ``requests`` transport answering from the recorded files, for sync ccxt offline."""

    def __init__(self, venue: str, data_dirs: Sequence[Path]) -> None:
        super().__init__()
        self.recorded = RecordedVenue(venue, data_dirs)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        parts = urlsplit(request.url or "")
        try:
            status, body = self.recorded.answer(parts.path, dict(parse_qsl(parts.query)))
        except ConnectionCut:
            raise requests.ConnectionError("loopback fault: connection cut") from None
        response = requests.Response()
        response.status_code = status
        response._content = json.dumps(body).encode()
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
        response.encoding = "utf-8"
        response.url = request.url or ""
        response.request = request
        response.reason = "OK" if status == 200 else "Error"
        return response

    def close(self) -> None:
        """Nothing to release: no socket was opened."""


def attach_recorded(ex: Any, venue: str, data_dirs: Sequence[Path]) -> None:
    """Route a sync ccxt instance (already pointed at IN_PROCESS_BASE) to the recorded files."""
    ex.session.mount(IN_PROCESS_BASE, RecordedTransport(venue, data_dirs))
