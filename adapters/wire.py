"""One entry point from a venue's parsed frame to typed inputs, whichever venue sent it.

``decode`` is pure and stateless (depth messages come back as the venue's diff objects);
``MarketDecoder`` adds the per-symbol state a recording needs to become inputs: the order
books (snapshot + diffs, with the sequence checks) and Bybit's ticker deltas.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from adapters.binance import schemas as binance_schemas
from adapters.binance import wire as binance_wire
from adapters.binance.book import BinanceBook
from adapters.bybit import schemas as bybit_schemas
from adapters.bybit import wire as bybit_wire
from adapters.bybit.book import BybitBook
from adapters.depth import Sync
from adapters.wire_errors import WireError
from sim.engine.market import FeedStatus, MarketInput

__all__ = ["VENUES", "MarketDecoder", "WireError", "WireItem", "decode", "decode_raw"]

VENUES = ("binanceusdm", "binancecoinm", "bybit")
WireItem = binance_wire.WireItem | bybit_wire.WireItem


def decode(
    venue: str,
    frame: dict[str, Any],
    symbols: Mapping[str, str] | None = None,
    *,
    symbol_hint: str | None = None,
) -> list[WireItem]:
    """Typed inputs (and depth diff objects) from one frame of ``venue``; WireError if malformed.

    ``symbols`` maps venue ids to ccxt symbols (``BTCUSDT`` → ``BTC/USDT:USDT``); without it
    the venue's standard naming is assumed. ``symbol_hint`` names a Binance REST snapshot.
    """
    if venue in binance_wire.VENUES:
        return binance_wire.decode(venue, frame, symbols, symbol_hint=symbol_hint)
    if venue == bybit_wire.VENUE:
        return bybit_wire.decode(frame, symbols)
    raise WireError(f"no native wire decoder for {venue!r}; native venues are {', '.join(VENUES)}")


def decode_raw(
    venue: str,
    raw: bytes | str,
    symbols: Mapping[str, str] | None = None,
    *,
    symbol_hint: str | None = None,
) -> list[WireItem]:
    """``decode`` from the frame's wire text: typed (msgspec) for the common frames, else
    ``json.loads`` + ``decode``; same inputs, same WireError (also for text that is not JSON)."""
    if symbols is None:
        decoder = _BINANCE.get(venue)
        if decoder is not None:
            return decoder.decode(raw, symbol_hint)
    if venue in binance_wire.VENUES:
        return binance_schemas.decode_raw(venue, raw, symbols, symbol_hint=symbol_hint)
    if venue == bybit_wire.VENUE:
        return bybit_schemas.decode_raw(raw, symbols)
    raise WireError(f"no native wire decoder for {venue!r}; native venues are {', '.join(VENUES)}")


class MarketDecoder:
    """Frames → engine inputs with books kept per symbol (replay and the benchmark use it).

    Depth output: a ``BookTop`` and a ``BookDepth`` of ``depth_levels`` per applied update.
    A sequence gap yields ``FeedStatus(stale=True, reason="book gap")`` and the book waits for
    the next snapshot (a recording cannot fetch one), then ``stale=False, "book resynced"``.
    """

    def __init__(
        self, venue: str, symbols: Mapping[str, str] | None = None, *, depth_levels: int = 20
    ) -> None:
        if venue not in VENUES:
            raise WireError(f"no native wire decoder for {venue!r}")
        self.venue = venue
        self.symbols = symbols
        self.depth_levels = depth_levels
        self.binance_books: dict[str, BinanceBook] = {}
        self.bybit_books: dict[str, BybitBook] = {}
        self.tickers = bybit_wire.TickerState()
        self._gapped: set[str] = set()
        self._binance = (
            binance_schemas.BinanceDecoder(venue, symbols) if venue in binance_wire.VENUES else None
        )

    def feed(self, frame: dict[str, Any], *, symbol_hint: str | None = None) -> list[MarketInput]:
        """Inputs produced by one frame (possibly none while a book waits for a snapshot)."""
        if self.venue == bybit_wire.VENUE:
            frame = self.tickers.merge(frame)
        return self._inputs(decode(self.venue, frame, self.symbols, symbol_hint=symbol_hint))

    def feed_raw(self, raw: bytes | str, *, symbol_hint: str | None = None) -> list[MarketInput]:
        """``feed`` from the frame's wire text (typed decoding; Bybit tickers take the dict road
        because their deltas are merged into the last full ticker)."""
        if self.venue == bybit_wire.VENUE and _TICKERS in (
            raw if isinstance(raw, bytes) else raw.encode()
        ):
            try:
                frame = json.loads(raw)
            except ValueError as e:
                raise WireError(f"bybit: frame is not JSON ({e})") from None
            return self.feed(frame, symbol_hint=symbol_hint)
        if self._binance is not None:
            items = self._binance.decode(raw, symbol_hint)
            if len(items) == 1 and type(items[0]) not in _BOOK_ITEMS:  # a trade, best bid/ask
                return items  # type: ignore[return-value]
            return self._inputs(items)
        return self._inputs(decode_raw(self.venue, raw, self.symbols, symbol_hint=symbol_hint))

    def _inputs(self, items: list[WireItem]) -> list[MarketInput]:
        out: list[MarketInput] = []
        for item in items:
            if isinstance(item, binance_wire.DepthDiff | binance_wire.DepthSnapshot):
                book = self.binance_books.get(item.symbol)
                if book is None:
                    book = self.binance_books[item.symbol] = BinanceBook(self.venue, item.symbol)
                sync = (
                    book.on_diff(item)
                    if type(item) is _DIFF or isinstance(item, binance_wire.DepthDiff)
                    else book.on_snapshot(item)
                )
                if sync is Sync.APPLIED and not self._gapped:
                    top, depth = book.top(), book.depth(self.depth_levels)
                    if top is not None:
                        out.append(top)
                    if depth is not None:
                        out.append(depth)
                    continue
                out.extend(self._book_output(sync, book, item.symbol, item.ts_ms))
            elif isinstance(item, bybit_wire.BookUpdate):
                bbook = self.bybit_books.setdefault(item.symbol, BybitBook(self.venue, item.symbol))
                out.extend(self._book_output(bbook.on_update(item), bbook, item.symbol, item.ts_ms))
            else:
                out.append(item)
        return out

    def _book_output(
        self, sync: Sync, book: BinanceBook | BybitBook, symbol: str, ts_ms: int
    ) -> list[MarketInput]:
        if sync is Sync.GAP:
            self._gapped.add(symbol)
            return [FeedStatus(self.venue, symbol, ts_ms, stale=True, reason="book gap")]
        if sync is not Sync.APPLIED:
            return []
        out: list[MarketInput] = []
        if symbol in self._gapped:
            self._gapped.discard(symbol)
            out.append(FeedStatus(self.venue, symbol, ts_ms, stale=False, reason="book resynced"))
        top, depth = book.top(), book.depth(self.depth_levels)
        return out + [x for x in (top, depth) if x is not None]


_TICKERS = b'"tickers.'
_DIFF = binance_wire.DepthDiff
_BINANCE = {v: binance_schemas.BinanceDecoder(v) for v in binance_wire.VENUES}
_BOOK_ITEMS = (binance_wire.DepthDiff, binance_wire.DepthSnapshot)
