"""Binance USDⓈ-M / COIN-M live feed: trades, best bid/ask, 100 ms depth, mark price + funding.

Streams (developers.binance.com, "Websocket Market Streams"): ``<id>@trade``, ``<id>@bookTicker``,
``<id>@depth@100ms`` (local book rebuilt from ``GET /fapi|dapi/v1/depth`` + diffs, resynced on
a gap) and ``<id>@markPrice@1s``. USDⓈ-M serves trade/bookTicker/depth on ``/public`` and mark
price on ``/market`` (the split ccxt 4.5.90 follows); COIN-M keeps one ``/stream``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp

from adapters.binance import wire
from adapters.binance.book import BinanceBook
from adapters.binance.schemas import BinanceDecoder
from adapters.depth import Sync
from adapters.exchanges import rest_base, ws_base
from adapters.stream import (
    Connected,
    FeedStats,
    RawTap,
    Received,
    RecentKeys,
    Staleness,
    WsStream,
    merge_events,
    resumed_status,
    stale_statuses,
    symbol_ids,
)
from adapters.wire_errors import WireError
from config.settings import FeedSettings
from sim.engine.market import FeedStatus, MarketInput
from sim.errors import FeedError

log = logging.getLogger(__name__)

Market = Literal["usdm", "coinm"]
PUBLIC_URLS: dict[str, tuple[str, str]] = {
    "usdm": ("wss://fstream.binance.com", "https://fapi.binance.com"),
    "coinm": ("wss://dstream.binance.com", "https://dapi.binance.com"),
}
DEPTH_PATH = {"usdm": "/fapi/v1/depth", "coinm": "/dapi/v1/depth"}
SNAPSHOT_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class _SnapshotResult:
    symbol: str
    body: dict[str, Any] | None
    error: str = ""


class BinanceFeed:
    """State of one Binance feed; ``run()`` yields engine inputs until cancelled."""

    def __init__(
        self,
        symbols: Sequence[str],
        *,
        market: Market = "usdm",
        endpoint: str | None = None,
        ws_url: str | None = None,
        rest_url: str | None = None,
        settings: FeedSettings | None = None,
        symbol_map: Mapping[str, str] | None = None,
        depth_levels: int = 20,
        snapshot_retry_s: float = 1.0,
        on_raw: RawTap | None = None,
        stats: FeedStats | None = None,
    ) -> None:
        if market not in PUBLIC_URLS:
            raise FeedError(f"binance market must be 'usdm' or 'coinm', was {market!r}")
        if not symbols:
            raise FeedError("binance feed needs at least one symbol")
        self.market = market
        self.venue = "binanceusdm" if market == "usdm" else "binancecoinm"
        self.settings = settings or FeedSettings()
        self.ids, self.symbol_map = symbol_ids(symbols, symbol_map, wire.venue_id)
        ws_root, rest_root = (
            (ws_base(endpoint), rest_base(endpoint)) if endpoint else PUBLIC_URLS[market]
        )
        self.ws_root = (ws_url or ws_root).rstrip("/")
        self.rest_root = (rest_url or rest_root).rstrip("/")
        self.depth_levels = depth_levels
        self.snapshot_retry_s = snapshot_retry_s
        self.on_raw = on_raw
        self.stats = stats or FeedStats()
        self.books = {s: BinanceBook(self.venue, s) for s in symbols}
        self.decoder = BinanceDecoder(self.venue, self.symbol_map)
        self.staleness = Staleness(symbols, self.settings.stale_after_s)
        self.trades = RecentKeys()
        self._fetching: set[str] = set()
        self._gapped: set[str] = set()  # books that lost sync and owe a "resynced" status
        self._tasks: set[asyncio.Task[None]] = set()
        self._results: asyncio.Queue[_SnapshotResult] = asyncio.Queue()

    def streams(self) -> list[WsStream]:
        """The websocket connections: public + market (USDⓈ-M) or one (COIN-M)."""
        ids = [v.lower() for v in self.ids.values()]
        fast = [f"{i}@{s}" for i in ids for s in ("trade", "bookTicker", "depth@100ms")]
        mark = [f"{i}@markPrice@1s" for i in ids]
        tick_s = min(1.0, self.settings.stale_after_s / 4)
        if self.market == "usdm":
            groups = [
                (f"{self.ws_root}/public/stream", fast),
                (f"{self.ws_root}/market/stream", mark),
            ]
        else:
            groups = [(f"{self.ws_root}/stream", fast + mark)]
        return [
            WsStream(
                url, self.settings, subscribe=_subscriber(names), tick_s=tick_s, stats=self.stats
            )
            for url, names in groups
        ]

    async def run(self) -> AsyncIterator[MarketInput]:
        streams = self.streams()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            try:
                async for item in self._loop(http, streams):
                    yield item
            finally:
                for task in self._tasks:
                    task.cancel()

    async def _loop(
        self, http: aiohttp.ClientSession, streams: list[WsStream]
    ) -> AsyncIterator[MarketInput]:
        depth_url = streams[0].url
        async for stream, ev in merge_events(streams, self._results):
            out: list[MarketInput] = []
            if isinstance(ev, _SnapshotResult):
                out = self._on_snapshot(http, ev)
            elif isinstance(ev, Received):
                out = self._on_text(http, ev)
            elif isinstance(ev, Connected) and stream is not None and stream.url == depth_url:
                for symbol, book in self.books.items():
                    book.reset()
                    self._fetch_later(http, symbol, delay_s=0.2)
            for item in out:
                yield item
            for item in stale_statuses(self.venue, self.staleness):
                yield item

    # frames ---------------------------------------------------------------------------------
    def _on_text(self, http: aiohttp.ClientSession, ev: Received) -> list[MarketInput]:
        self.stats.messages += 1
        if self.on_raw is not None:
            self.on_raw(ev.recv_ns, self.venue, ev.text)
        try:  # typed decode; a frame it refuses takes the dict road below (same outcome)
            items = self.decoder.decode(ev.text)
            key = self.decoder.trade_key
            if key is not None and not self.trades.fresh(*key):
                self.stats.duplicates += 1
                return []
        except WireError:
            try:
                frame = json.loads(ev.text)
                tid = wire.trade_id(frame) if isinstance(frame, dict) else None
                if tid is not None and not self.trades.fresh(_frame_symbol(frame), tid):
                    self.stats.duplicates += 1
                    return []
                items = wire.decode(self.venue, frame, self.symbol_map)
            except (ValueError, WireError) as e:
                self.stats.bad(f"{self.venue}: {e}: {ev.text[:80]!r}")
                return []
        out: list[MarketInput] = []
        for item in items:
            if isinstance(item, wire.DepthDiff):
                out.extend(self._on_diff(http, item))
                continue
            if isinstance(item, wire.DepthSnapshot):
                continue
            if item.symbol in self.books:
                out.extend(resumed_status(self.venue, self.staleness, item.symbol))
                out.append(item)
        return out

    def _on_diff(self, http: aiohttp.ClientSession, diff: wire.DepthDiff) -> list[MarketInput]:
        book = self.books.get(diff.symbol)
        if book is None:
            return []
        sync = book.on_diff(diff)
        if sync is Sync.GAP:
            self.stats.gaps += 1
            log.warning(
                "%s %s: depth gap at pu=%d; resyncing", self.venue, diff.symbol, diff.prev_id
            )
            self._fetch_later(http, diff.symbol, delay_s=0.0)
            self._gapped.add(diff.symbol)
            return [FeedStatus(self.venue, diff.symbol, diff.ts_ms, stale=True, reason="book gap")]
        if sync is not Sync.APPLIED:
            return []
        return self._book_out(book)

    def _book_out(self, book: BinanceBook) -> list[MarketInput]:
        symbol = book.levels.symbol
        top, depth = book.top(), book.depth(self.depth_levels)
        out: list[MarketInput] = list(resumed_status(self.venue, self.staleness, symbol))
        if symbol in self._gapped:
            self._gapped.discard(symbol)
            out.append(
                FeedStatus(self.venue, symbol, book.ts_ms, stale=False, reason="book resynced")
            )
        return out + [x for x in (top, depth) if x is not None]

    # depth snapshots ------------------------------------------------------------------------
    def _fetch_later(self, http: aiohttp.ClientSession, symbol: str, delay_s: float) -> None:
        if symbol in self._fetching:
            return
        self._fetching.add(symbol)
        task = asyncio.create_task(self._fetch(http, symbol, delay_s))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _fetch(self, http: aiohttp.ClientSession, symbol: str, delay_s: float) -> None:
        await asyncio.sleep(delay_s)
        url = f"{self.rest_root}{DEPTH_PATH[self.market]}"
        params = {"symbol": self.ids[symbol], "limit": str(SNAPSHOT_LIMIT)}
        try:
            async with http.get(url, params=params) as resp:
                body = await resp.json(content_type=None)
                if resp.status != 200 or not isinstance(body, dict):
                    raise FeedError(f"HTTP {resp.status}: {str(body)[:120]}")
            await self._results.put(_SnapshotResult(symbol, body))
        except (aiohttp.ClientError, TimeoutError, ValueError, FeedError) as e:
            await self._results.put(_SnapshotResult(symbol, None, f"{url}: {e}"))

    def _on_snapshot(self, http: aiohttp.ClientSession, res: _SnapshotResult) -> list[MarketInput]:
        self._fetching.discard(res.symbol)
        book = self.books[res.symbol]
        if res.body is None:
            log.warning("%s %s: depth snapshot failed: %s", self.venue, res.symbol, res.error)
            self._fetch_later(http, res.symbol, self.snapshot_retry_s)
            return []
        try:
            snap = wire.decode_snapshot(self.venue, res.body, res.symbol, self.symbol_map)
        except WireError as e:
            self.stats.bad(str(e))
            self._fetch_later(http, res.symbol, self.snapshot_retry_s)
            return []
        self.stats.snapshots += 1
        if self.on_raw is not None:
            # Tee the REST snapshot too, so a recording can rebuild the whole book on replay.
            tagged = {**res.body, "symbol": self.ids[res.symbol]}
            self.on_raw(time.time_ns(), self.venue, json.dumps(tagged))
        if book.on_snapshot(snap) is Sync.GAP:
            self._fetch_later(http, res.symbol, self.snapshot_retry_s)
            return []
        return self._book_out(book)


def _subscriber(names: list[str]) -> Any:
    def messages() -> list[str]:
        # Binance accepts up to 200 streams per connection; one request per 50 stays small.
        return [
            json.dumps({"method": "SUBSCRIBE", "params": names[i : i + 50], "id": i + 1})
            for i in range(0, len(names), 50)
        ]

    return messages


def _frame_symbol(frame: dict[str, Any]) -> str:
    d = frame.get("data", frame)
    return str(d.get("s", "")) if isinstance(d, dict) else ""


async def binance_feed(
    symbols: Sequence[str],
    *,
    market: Market = "usdm",
    endpoint: str | None = None,
    settings: FeedSettings | None = None,
    symbol_map: Mapping[str, str] | None = None,
    ws_url: str | None = None,
    rest_url: str | None = None,
    on_raw: RawTap | None = None,
    stats: FeedStats | None = None,
    snapshot_retry_s: float = 1.0,
) -> AsyncIterator[MarketInput]:
    """Live inputs for ccxt ``symbols`` from Binance (or ``endpoint``, e.g. the loopback).

    ``ws_url``/``rest_url`` override the roots separately (``wss://fstream.binance.com``,
    ``https://fapi.binance.com``); ``endpoint`` sets both from one ``http://host:port``.
    ``on_raw(recv_ns, venue, text)`` sees every frame before parsing (the recorder's tee).
    """
    feed = BinanceFeed(
        symbols,
        market=market,
        endpoint=endpoint,
        ws_url=ws_url,
        rest_url=rest_url,
        settings=settings,
        symbol_map=symbol_map,
        on_raw=on_raw,
        stats=stats,
        snapshot_retry_s=snapshot_retry_s,
    )
    async for item in feed.run():
        yield item
