"""Bybit v5 live feed (linear or inverse): trades, order book, mark/index price and funding.

Topics (bybit-exchange.github.io/docs/v5/websocket/public): ``publicTrade.<id>``,
``orderbook.<depth>.<id>`` (snapshot then deltas; a gap re-subscribes for a new snapshot) and
``tickers.<id>`` (deltas merged into the last full ticker). Bybit closes a connection that sends
nothing for 10 minutes and asks clients to send ``{"op":"ping"}`` every 20 seconds.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Literal

from adapters.bybit import wire
from adapters.bybit.book import BybitBook
from adapters.depth import Sync
from adapters.exchanges import ws_base
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

Category = Literal["linear", "inverse"]
PUBLIC_WS = "wss://stream.bybit.com"
DEPTHS = (1, 50, 200, 1000)  # linear/inverse depths since 2025 (500 was retired)
PING = (20.0, json.dumps({"op": "ping"}))
ARGS_PER_REQUEST = 10  # Bybit caps the args of one subscribe request


class BybitFeed:
    """State of one Bybit feed; ``run()`` yields engine inputs until cancelled."""

    def __init__(
        self,
        symbols: Sequence[str],
        *,
        category: Category = "linear",
        endpoint: str | None = None,
        ws_url: str | None = None,
        settings: FeedSettings | None = None,
        symbol_map: Mapping[str, str] | None = None,
        depth: int = 50,
        depth_levels: int = 20,
        on_raw: RawTap | None = None,
        stats: FeedStats | None = None,
    ) -> None:
        if category not in ("linear", "inverse"):
            raise FeedError(f"bybit category must be 'linear' or 'inverse', was {category!r}")
        if depth not in DEPTHS:
            raise FeedError(f"bybit order-book depth must be one of {DEPTHS}, was {depth}")
        if not symbols:
            raise FeedError("bybit feed needs at least one symbol")
        self.venue = wire.VENUE
        self.category = category
        self.settings = settings or FeedSettings()
        self.ids, self.symbol_map = symbol_ids(symbols, symbol_map, wire.venue_id)
        root = ws_url or (ws_base(endpoint) if endpoint else PUBLIC_WS)
        self.url = f"{root.rstrip('/')}/v5/public/{category}"
        self.depth = depth
        self.depth_levels = depth_levels
        self.on_raw = on_raw
        self.stats = stats or FeedStats()
        self.books = {s: BybitBook(self.venue, s) for s in symbols}
        self.tickers = wire.TickerState()
        self.staleness = Staleness(symbols, self.settings.stale_after_s)
        self.trades = RecentKeys()
        self._gapped: set[str] = set()  # books that lost sync and owe a "resynced" status
        self.stream = WsStream(
            self.url,
            self.settings,
            subscribe=self._subscribe_messages,
            app_ping=PING,
            tick_s=min(1.0, self.settings.stale_after_s / 4),
            stats=self.stats,
        )

    def topics(self) -> list[str]:
        return [
            f"{kind}.{vid}"
            for vid in self.ids.values()
            for kind in ("publicTrade", f"orderbook.{self.depth}", "tickers")
        ]

    def _subscribe_messages(self) -> list[str]:
        topics = self.topics()
        return [
            json.dumps({"op": "subscribe", "req_id": f"sub{i}", "args": topics[i : i + 10]})
            for i in range(0, len(topics), ARGS_PER_REQUEST)
        ]

    async def run(self) -> AsyncIterator[MarketInput]:
        async for _, ev in merge_events([self.stream]):
            out: list[MarketInput] = []
            if isinstance(ev, Received):
                out = await self._on_text(ev)
            elif isinstance(ev, Connected):
                for book in self.books.values():
                    book.reset()
                self.tickers.clear()
            for item in out:
                yield item
            for status in stale_statuses(self.venue, self.staleness):
                yield status

    async def _on_text(self, ev: Received) -> list[MarketInput]:
        self.stats.messages += 1
        if self.on_raw is not None:
            self.on_raw(ev.recv_ns, self.venue, ev.text)
        try:
            frame = json.loads(ev.text)
            if not isinstance(frame, dict):
                raise WireError(f"a frame must be a JSON object, was {type(frame).__name__}")
            if not self._new_trades(frame):
                return []
            items = wire.decode(self.tickers.merge(frame), self.symbol_map)
        except (ValueError, WireError) as e:
            self.stats.bad(f"bybit: {e}: {ev.text[:80]!r}")
            return []
        out: list[MarketInput] = []
        for item in items:
            if item.symbol not in self.books:
                continue
            out.extend(resumed_status(self.venue, self.staleness, item.symbol))
            if isinstance(item, wire.BookUpdate):
                out.extend(await self._on_book(item))
            else:
                out.append(item)
        return out

    def _new_trades(self, frame: dict[str, Any]) -> bool:
        """False when every trade in the frame was already seen (re-sent after a reconnect)."""
        ids = wire.trade_ids(frame)
        if not ids:
            return True
        symbol = str(frame.get("topic", "")).rsplit(".", 1)[-1]
        fresh = [i for i in ids if self.trades.fresh(symbol, i)]
        if len(fresh) < len(ids):
            self.stats.duplicates += len(ids) - len(fresh)
            rows = [d for d in frame["data"] if str(d.get("i")) in fresh]
            frame["data"] = rows
        return bool(fresh)

    async def _on_book(self, msg: wire.BookUpdate) -> list[MarketInput]:
        book = self.books[msg.symbol]
        sync = book.on_update(msg)
        if sync is Sync.GAP:
            self.stats.gaps += 1
            log.warning(
                "bybit %s: order-book gap at u=%d; re-subscribing", msg.symbol, msg.update_id
            )
            await self._resubscribe(msg.symbol)
            self._gapped.add(msg.symbol)
            return [FeedStatus(self.venue, msg.symbol, msg.ts_ms, stale=True, reason="book gap")]
        if sync is not Sync.APPLIED:
            return []
        out: list[MarketInput] = []
        if msg.snapshot:
            self.stats.snapshots += 1
            if msg.symbol in self._gapped:
                self._gapped.discard(msg.symbol)
                out.append(FeedStatus(self.venue, msg.symbol, msg.ts_ms, False, "book resynced"))
        top, depth = book.top(), book.depth(self.depth_levels)
        return out + [x for x in (top, depth) if x is not None]

    async def _resubscribe(self, symbol: str) -> None:
        """Unsubscribe and subscribe the book topic: Bybit answers with a fresh snapshot."""
        topic = f"orderbook.{self.depth}.{self.ids[symbol]}"
        for op in ("unsubscribe", "subscribe"):
            msg = {"op": op, "req_id": f"resync-{op}", "args": [topic]}
            await self.stream.send(json.dumps(msg))


async def bybit_feed(
    symbols: Sequence[str],
    *,
    category: Category = "linear",
    endpoint: str | None = None,
    ws_url: str | None = None,
    settings: FeedSettings | None = None,
    symbol_map: Mapping[str, str] | None = None,
    depth: int = 50,
    on_raw: RawTap | None = None,
    stats: FeedStats | None = None,
) -> AsyncIterator[MarketInput]:
    """Live inputs for ccxt ``symbols`` from Bybit (or ``endpoint``, e.g. the loopback).

    ``ws_url`` is the websocket root (``wss://stream.bybit.com``); ``/v5/public/<category>`` is
    appended. ``on_raw(recv_ns, venue, text)`` sees every frame before parsing.
    """
    feed = BybitFeed(
        symbols,
        category=category,
        endpoint=endpoint,
        ws_url=ws_url,
        settings=settings,
        symbol_map=symbol_map,
        depth=depth,
        on_raw=on_raw,
        stats=stats,
    )
    async for item in feed.run():
        yield item
